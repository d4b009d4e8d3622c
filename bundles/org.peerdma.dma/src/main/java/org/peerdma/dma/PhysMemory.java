package org.peerdma.dma;

import java.nio.ByteBuffer;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * This kernel's system RAM: who owns which physical range and the real off-heap memory behind
 * it (the model's memblock plus pfn_to_page for RAM). Exporters take their pages here, so a
 * physical address a device reaches after translation leads to the exporter's own bytes.
 * ZONE_DEVICE memory (a BAR's pages) is not here: it belongs to its pagemap.
 *
 * <p>Addresses are handed out from {@link #RAM_START} upward, page aligned, first fit, and are
 * reused once released, as freed frames are.
 */
@ProviderType
public interface PhysMemory {
    long PAGE_SIZE = 4096;
    /** System RAM of the model starts at 4 GiB (below it: the 32-bit MMIO hole and low memory). */
    long RAM_START = 0x1_0000_0000L;
    /** ... and ends at 256 GiB, below where the sample machines place their 64-bit BARs. */
    long RAM_END = 0x40_0000_0000L;

    /**
     * allocate - fresh zeroed RAM of {@code size} bytes, physically contiguous, its start aligned
     * to {@code align} (a power of two, at least a page). Errors: EINVAL for a size of 0, negative
     * or above 2 GiB in one piece (a direct buffer's limit) or a bad alignment; ENOMEM when no
     * range of that size is free.
     */
    PhysRegion allocate(String owner, long size, long align);

    /**
     * adopt - a physical address for memory that already exists (a memfd's page when it is pinned):
     * the same buffer (by identity) gets the same region while any adopter holds it, each adopt
     * to be matched by a close. Errors: EINVAL for an empty buffer; ENOMEM as allocate.
     */
    PhysRegion adopt(String owner, ByteBuffer memory);

    /**
     * claim - RAM at a fixed physical address (a carve-out the firmware placed, such as a CMA
     * area's pages), backed by {@code memory}. Unlike allocate it may lie outside the RAM window.
     * Errors: EINVAL for an empty buffer or an unaligned address; EBUSY naming the owner of any
     * overlapping region.
     */
    PhysRegion claim(String owner, long phys, ByteBuffer memory);

    /**
     * read - what a memory read at {@code phys} returns, {@code dst.remaining()} bytes (may span
     * regions that are physically adjacent). Errors: EFAULT naming the first address with no
     * RAM behind it (nothing is transferred then).
     */
    void read(long phys, ByteBuffer dst);

    /** write - a memory write at {@code phys}. Errors as read. */
    void write(long phys, ByteBuffer src);

    /** @return the owner of the region holding {@code phys}, or null when no RAM is there. */
    String ownerOf(long phys);

    /** @return the live regions, lowest address first. */
    List<PhysRegion> regions();

    /** @return bytes of RAM handed out now. */
    long used();

    /** A physically contiguous range of RAM and its memory. */
    @ProviderType
    interface PhysRegion extends AutoCloseable {
        long phys();

        long size();

        String owner();

        /** @return the memory (a duplicate positioned at 0, the region's full size). */
        ByteBuffer memory();

        /** @return false once released. */
        boolean isLive();

        /**
         * close - release this holder's use; the range is free for others once the last holder
         * of an adopted buffer (or the one allocator) has closed. Errors: EINVAL when this region
         * was already released.
         */
        @Override
        void close();
    }
}
