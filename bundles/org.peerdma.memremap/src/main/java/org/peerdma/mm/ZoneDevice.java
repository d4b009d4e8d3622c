package org.peerdma.mm;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/** The ZONE_DEVICE part of mm: memremap_pages, memunmap_pages, get/put_dev_pagemap, pfn_to_page. */
@ProviderType
public interface ZoneDevice {
    /** The x86_64 direct map base (PAGE_OFFSET with 4-level paging): __va(phys) = phys + this. */
    long PAGE_OFFSET = 0xffff888000000000L;

    /** __va - the direct-map kernel virtual address of a physical address. */
    static long va(long phys) {
        return PAGE_OFFSET + phys;
    }

    /** __pa - the physical address of a direct-map kernel virtual address. */
    static long pa(long virt) {
        return virt - PAGE_OFFSET;
    }

    /**
     * memremapPages - give the pagemap's ranges struct pages (mm/memremap.c memremap_pages).
     * Errors, in the kernel's order: EINVAL no ranges; EINVAL DEVICE_PRIVATE without
     * migrate_to_ram/page_free/owner, DEVICE_COHERENT without page_free/owner; EINVAL altmap with
     * more than one range; per range ENOMEM "Conflicting mapping in same section" (a pagemap at
     * its start or end pfn), ENXIO when it intersects System RAM, EINVAL outside the hot-pluggable
     * physical range. A failing range unwinds the ones already added.
     * Return: the kernel virtual address of ranges[0].start (the direct map, __va()).
     */
    long memremapPages(DevPagemap pgmap, int nid);

    /**
     * memunmapPages - kill the pagemap's reference, drop the map-time references, wait until every
     * page reference is gone, then remove the pages. Waits without limit, warning every
     * teardown_warn_ms with the holders.
     */
    void memunmapPages(DevPagemap pgmap);

    /**
     * memunmapPages - as above, waiting at most {@code maxWait}. On timeout the teardown stays
     * started (new references are refused; it completes when the last one is dropped) and
     * ETIMEDOUT names the holders.
     */
    void memunmapPages(DevPagemap pgmap, Duration maxWait);

    /**
     * getDevPagemap - get_dev_pagemap(pfn, cached): the cached one if it covers pfn, else a look-up
     * that takes a reference only while the pagemap is live. Return: empty when none or dying.
     */
    Optional<DevPagemap> getDevPagemap(long pfn, DevPagemap cached);

    /** putDevPagemap - drop a reference taken by getDevPagemap; null is a no-op. */
    void putDevPagemap(DevPagemap pgmap);

    /** pfnToPage - the page of a mapped ZONE_DEVICE pfn. Errors: EFAULT when no pagemap covers it. */
    Page pfnToPage(long pfn);

    /** @return whether teardown of this pagemap has begun (percpu_ref dying). */
    boolean isDying(DevPagemap pgmap);

    /** @return the live pagemaps. */
    List<DevPagemap> pagemaps();

    /** @return page references still held on a pagemap, as "holder xN". */
    List<String> holders(DevPagemap pgmap);

    /** @return the pagemap's percpu reference count (map-time refs + gets), for diagnostics. */
    long refCount(DevPagemap pgmap);

    /**
     * tryGetLive - percpu_ref_tryget_live(&pgmap->ref) for owners handing out memory (p2pdma alloc).
     * Return: false once teardown began.
     */
    boolean tryGetLive(DevPagemap pgmap, String holder);

    /**
     * putRef - percpu_ref_put(&pgmap->ref) matching tryGetLive; {@code holder} may also name a counted
     * holder ({@link #refHolder}), which then drops one of its references.
     * Errors: EINVAL when that holder holds none.
     */
    void putRef(DevPagemap pgmap, String holder);

    /**
     * refHolder - a named, counted holder of a pagemap's references for an owner that takes and drops
     * them at a high rate (p2pdma's pool: one per allocation). Taking and dropping through it costs a
     * compare-and-set each and allocates nothing; the diagnostics of a waiting teardown ({@link #holders})
     * name it with its count and, asked only then, {@code detail} (say, the allocations still live).
     * Errors: EINVAL when the pagemap is not mapped.
     */
    RefHolder refHolder(DevPagemap pgmap, String name, java.util.function.Supplier<String> detail);

    /** A counted holder of pagemap references; see {@link ZoneDevice#refHolder}. */
    @ProviderType
    interface RefHolder {
        /** tryGetLive - percpu_ref_tryget_live(&pgmap->ref) counted for this holder. Return: false once dying. */
        boolean tryGetLive();

        /** put - percpu_ref_put(&pgmap->ref). Errors: EINVAL when this holder holds none (nothing changes). */
        void put();

        /** @return the references this holder holds now. */
        long held();
    }
}
