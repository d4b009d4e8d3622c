package org.peerdma.mm.dmirror;

import org.osgi.annotation.versioning.ProviderType;

/** The test_hmm module: creates dmirror devices with DEVICE_PRIVATE memory. */
@ProviderType
public interface DmirrorDevices {
    /**
     * create - a device with {@code pages} pages of device memory at physical {@code base} (a free
     * range, request_free_mem_region). Errors: memremap_pages' (EINVAL, ENOMEM, EBUSY).
     */
    Dmirror create(String name, long base, int pages);

    /** destroy - memunmap_pages (waits for the pages to be freed). */
    void destroy(Dmirror d);
}
