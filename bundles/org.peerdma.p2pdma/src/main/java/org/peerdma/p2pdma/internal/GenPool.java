package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;

/**
 * lib/genalloc.c as p2pdma uses it: chunks of (virt, phys, size, owner), min_alloc_order =
 * PAGE_SHIFT, first fit; phys holds the PCI bus address.
 *
 * <p>Unlike genalloc, the pool knows where each allocation starts (a second bitmap): a free must name
 * exactly one live allocation. In the kernel a mismatched gen_pool_free_owner() clears the bits
 * anyway (or BUGs), handing memory still in use to the next allocation; the model refuses with
 * EINVAL and changes nothing.
 */
final class GenPool {
    static final int ORDER = 12;

    static final class Chunk {
        final long virt;
        final long phys;
        final long size;
        final DevPagemap owner;
        final BitSet used;
        /** The pages where an allocation starts. */
        final BitSet starts;
        final int bits;

        Chunk(long virt, long phys, long size, DevPagemap owner) {
            this.virt = virt;
            this.phys = phys;
            this.size = size;
            this.owner = owner;
            this.bits = (int) (size >>> ORDER);
            this.used = new BitSet(bits);
            this.starts = new BitSet(bits);
        }

        boolean contains(long addr) {
            return addr - virt >= 0 && addr - virt < size;
        }
    }

    /** An allocation: where, and which chunk's owner backs it. */
    record Alloc(long virt, DevPagemap owner) {
    }

    private final List<Chunk> chunks = new ArrayList<>();

    synchronized void addOwner(long virt, long phys, long size, DevPagemap owner) {
        chunks.add(new Chunk(virt, phys, size, owner));
    }

    /** gen_pool_alloc_owner: nbits = (size + granule - 1) &gt;&gt; order, first fit. Return: null when none. */
    synchronized Alloc alloc(long size) {
        return alloc(size, false);
    }

    /**
     * alloc - first fit as gen_pool_alloc_owner; with {@code perPage} every page is an allocation of its
     * own (p2pmem_alloc_mmap: each page goes back on its own, p2pdma_folio_free frees PAGE_SIZE).
     */
    synchronized Alloc alloc(long size, boolean perPage) {
        if (size <= 0) {
            return null;
        }
        long nbitsL = (size + (1L << ORDER) - 1) >>> ORDER;
        for (Chunk c : chunks) {
            if (nbitsL > c.bits) {
                continue;
            }
            int nbits = (int) nbitsL;
            int start = c.used.nextClearBit(0);
            while (start + nbits <= c.bits) {
                int set = c.used.nextSetBit(start);
                if (set < 0 || set >= start + nbits) {
                    c.used.set(start, start + nbits);
                    if (perPage) {
                        c.starts.set(start, start + nbits);
                    } else {
                        c.starts.set(start);
                    }
                    return new Alloc(c.virt + ((long) start << ORDER), c.owner);
                }
                start = c.used.nextClearBit(set);
            }
        }
        return null;
    }

    /**
     * gen_pool_free_owner of exactly one live allocation.
     * Errors: EINVAL, nothing changed, when {@code virt} is not in this pool, or [virt, virt + size) is
     * not one allocation as it was made: a range that starts inside one, covers a neighbour, or stops
     * short of its end.
     */
    synchronized DevPagemap free(long virt, long size) {
        Chunk c = chunkOf(virt);
        if (c == null) {
            throw KernelException.einval("%#x is not memory of this pool", virt);
        }
        long nbits = (size + (1L << ORDER) - 1) >>> ORDER;
        long off = virt - c.virt;
        if (size <= 0 || off % (1L << ORDER) != 0 || (off >>> ORDER) + nbits > c.bits) {
            throw KernelException.einval("free of %#x + %d does not fit the pool chunk", virt, size);
        }
        int start = (int) (off >>> ORDER);
        int end = (int) (start + nbits);
        if (!c.starts.get(start)) {
            throw KernelException.einval("free of %#x + %d: no allocation starts at %#x%s", virt, size, virt,
                    c.used.get(start) ? " (it is inside one)" : " (not allocated)");
        }
        int clear = c.used.nextClearBit(start);
        if (clear < end) {
            throw KernelException.einval("free of %#x + %d: page %#x was not allocated", virt, size,
                    c.virt + ((long) clear << ORDER));
        }
        int next = c.starts.nextSetBit(start + 1);
        if (next >= 0 && next < end) {
            throw KernelException.einval("free of %#x + %d covers the live allocation at %#x: only the exact "
                    + "allocation can be freed", virt, size, c.virt + ((long) next << ORDER));
        }
        if (end < c.bits && c.used.get(end) && !c.starts.get(end)) {
            throw KernelException.einval("free of %#x + %d stops inside the allocation (it goes on at %#x): only "
                    + "the exact allocation can be freed", virt, size, c.virt + ((long) end << ORDER));
        }
        c.used.clear(start, end);
        c.starts.clear(start, end);
        return c.owner;
    }

    synchronized long virtToPhys(long virt) {
        Chunk c = chunkOf(virt);
        return c == null ? -1 : c.phys + (virt - c.virt);
    }

    private Chunk chunkOf(long virt) {
        for (Chunk c : chunks) {
            if (c.contains(virt)) {
                return c;
            }
        }
        return null;
    }

    synchronized long size() {
        long n = 0;
        for (Chunk c : chunks) {
            n += c.size;
        }
        return n;
    }

    synchronized long avail() {
        long n = 0;
        for (Chunk c : chunks) {
            n += (long) (c.bits - c.used.cardinality()) << ORDER;
        }
        return n;
    }

    synchronized List<DevPagemap> owners() {
        return chunks.stream().map(c -> c.owner).distinct().toList();
    }
}
