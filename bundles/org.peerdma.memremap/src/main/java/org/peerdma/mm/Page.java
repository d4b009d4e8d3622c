package org.peerdma.mm;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * struct page of a ZONE_DEVICE pfn: a reference count, its pagemap, and its contents (real
 * memory, PAGE_SIZE bytes, allocated on first use).
 */
@ProviderType
public interface Page {
    int PAGE_SHIFT = 12;
    int PAGE_SIZE = 1 << PAGE_SHIFT;

    long pfn();

    /** @return the physical address, pfn &lt;&lt; PAGE_SHIFT. */
    default long phys() {
        return pfn() << PAGE_SHIFT;
    }

    DevPagemap pgmap();

    /** @return page_ref_count(). */
    int refcount();

    /**
     * get - take a page reference on behalf of {@code holder} (named in teardown diagnostics).
     * Errors: ENXIO when the page's pagemap is gone.
     */
    void get(String holder);

    /**
     * put - drop a reference of {@code holder}; at 0 the page is freed (ops.page_free).
     * Errors: EINVAL when the count would go below 0 or the holder holds none.
     */
    void put(String holder);

    /**
     * init - zone_device_page_init for DEVICE_PRIVATE/COHERENT pages handed out by a driver:
     * takes a pagemap reference (fails once teardown began) and sets the count to 1.
     * Errors: ENXIO when the pagemap is being torn down; EBUSY when the page is in use.
     */
    void init(String holder);

    /** @return the page contents: a direct buffer of PAGE_SIZE bytes, position 0. */
    ByteBuffer data();
}
