package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;

/**
 * lib/genalloc.c as p2pdma uses it: chunks of (virt, phys, size, owner), min_alloc_order =
 * PAGE_SHIFT, first fit; phys holds the PCI bus address.
 */
final class GenPool {
    static final int ORDER = 12;

    static final class Chunk {
        final long virt;
        final long phys;
        final long size;
        final DevPagemap owner;
        final BitSet used;
        final int bits;

        Chunk(long virt, long phys, long size, DevPagemap owner) {
            this.virt = virt;
            this.phys = phys;
            this.size = size;
            this.owner = owner;
            this.bits = (int) (size >>> ORDER);
            this.used = new BitSet(bits);
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
                    return new Alloc(c.virt + ((long) start << ORDER), c.owner);
                }
                start = c.used.nextClearBit(set);
            }
        }
        return null;
    }

    /** gen_pool_free_owner. Errors: EINVAL for memory that is not allocated in this pool. */
    synchronized DevPagemap free(long virt, long size) {
        Chunk c = chunkOf(virt);
        if (c == null) {
            throw KernelException.einval("%#x is not memory of this pool", virt);
        }
        long nbits = (size + (1L << ORDER) - 1) >>> ORDER;
        int start = (int) ((virt - c.virt) >>> ORDER);
        if (size <= 0 || start + nbits > c.bits || (virt - c.virt) % (1L << ORDER) != 0) {
            throw KernelException.einval("free of %#x + %d does not fit the pool chunk", virt, size);
        }
        for (int i = start; i < start + nbits; i++) {
            if (!c.used.get(i)) {
                throw KernelException.einval("free of %#x + %d: page %#x was not allocated", virt, size,
                        c.virt + ((long) i << ORDER));
            }
        }
        c.used.clear(start, (int) (start + nbits));
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
