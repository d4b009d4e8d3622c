package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ProviderType;

/** A vm_area_struct: [start, end), its flags, and what backs it. */
@ProviderType
public interface Vma {
    long start();

    long end();

    long flags();

    /** @return the mapped file, or null for an anonymous mapping. */
    VmFile file();

    /** @return the file offset of {@code start}, in pages. */
    long pgoff();

    /** @return the special mapping's operations, or null. */
    VmOps ops();

    default boolean anonymous() {
        return file() == null && ops() == null;
    }
}
