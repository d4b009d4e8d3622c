package org.peerdma.mm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * struct dev_pagemap_ops: the owning driver's callbacks. page_free is mandatory for
 * DEVICE_PRIVATE and DEVICE_COHERENT, migrate_to_ram for DEVICE_PRIVATE (memremap_pages checks).
 */
@ConsumerType
public interface PagemapOps {
    /** page_free - a page's reference count reached 0 (newest semantics). Optional for other types. */
    void pageFree(Page page);

    /** @return true when {@link #migrateToRam} is implemented (the kernel checks the pointer). */
    default boolean hasMigrateToRam() {
        return false;
    }

    /**
     * migrate_to_ram - the CPU touched a DEVICE_PRIVATE page. Return: 0 or VM_FAULT bits.
     * Mandatory for DEVICE_PRIVATE.
     */
    /**
     * migrate_to_ram with the fault's context (struct vm_fault: the address space and address), which
     * a driver needs to migrate the range back. By default the context-free form is called.
     */
    default int migrateToRam(Page page, Object vmf) {
        return migrateToRam(page);
    }

    default int migrateToRam(Page page) {
        throw new IllegalStateException("migrate_to_ram called on a pagemap registered without it (memremap_pages "
                + "refuses DEVICE_PRIVATE pagemaps whose ops lack it)");
    }
}
