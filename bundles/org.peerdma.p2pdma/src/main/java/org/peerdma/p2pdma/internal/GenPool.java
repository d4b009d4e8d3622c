package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;

import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.ZoneDevice;

/**
 * lib/genalloc.c as p2pdma uses it: chunks of (virt, phys, size, owner), min_alloc_order =
 * PAGE_SHIFT, first fit (gen_pool_first_fit: the lowest address with enough free pages); phys holds
 * the PCI bus address.
 *
 * <p>Unlike genalloc, the pool knows where each allocation starts (a second bitmap): a free must name
 * exactly one live allocation. In the kernel a mismatched gen_pool_free_owner() clears the bits
 * anyway (or BUGs), handing memory still in use to the next allocation; the model refuses with
 * EINVAL and changes nothing.
 *
 * <p>genalloc scans its bitmap from the start for every allocation, which costs the number of used
 * pages in front of the first hole big enough. The model gives the same address from a tree of free
 * runs over the bitmap's 64-bit words: every node keeps the free run at its start, at its end and the
 * longest inside it, so the first run of n free pages is found in O(log words) however fragmented the
 * pool, and an allocation or free updates its words and their ancestors. Nothing is allocated per call.
 */
final class GenPool {
    static final int ORDER = 12;

    static final class Chunk {
        final long virt;
        final long phys;
        final long size;
        final DevPagemap owner;
        /** The pagemap references of this chunk's allocations (null in tests of the pool alone). */
        final ZoneDevice.RefHolder holder;
        final int bits;
        /** The used pages, bit i of word i / 64 is page i; the bits past {@code bits} are set for good. */
        final long[] used;
        /** The pages where an allocation starts. */
        final long[] starts;
        int usedPages;
        /** Leaves (words) in the tree: a power of two at least used.length; node k has children 2k, 2k+1. */
        private final int leaves;
        /** Per node: free pages at its start, at its end, longest free run inside. */
        private final int[] pre;
        private final int[] suf;
        private final int[] max;
        /** The lowest word that may have a free page (all below are full); used.length when none. */
        private int hint;
        /** Words changed since the tree last saw them, as a set (bits) and a list. */
        private final long[] dirty;
        private final int[] dirtyList;
        private int dirtyCount;

        Chunk(long virt, long phys, long size, DevPagemap owner, ZoneDevice.RefHolder holder) {
            this.virt = virt;
            this.phys = phys;
            this.size = size;
            this.owner = owner;
            this.holder = holder;
            long pages = size >>> ORDER;
            if (pages > Integer.MAX_VALUE - 64) {
                throw KernelException.einval("a pool chunk of %d pages is more than the pool can index", pages);
            }
            this.bits = (int) pages;
            int words = Math.max(1, (bits + 63) >>> 6);
            this.used = new long[words];
            this.starts = new long[words];
            if ((bits & 63) != 0) {
                used[words - 1] = -1L << (bits & 63);
            } else if (bits == 0) {
                used[0] = -1L;
            }
            this.leaves = Integer.highestOneBit(words) == words ? words : Integer.highestOneBit(words) << 1;
            this.pre = new int[2 * leaves];
            this.suf = new int[2 * leaves];
            this.max = new int[2 * leaves];
            this.dirty = new long[(words + 63) >>> 6];
            this.dirtyList = new int[words];
            this.hint = used[0] == -1L ? words : 0;
            for (int i = 0; i < leaves; i++) {
                leaf(i);
            }
            for (int k = leaves - 1, half = 64, level = leaves >>> 1; k >= 1; k--) {
                if (k < level) {
                    level >>>= 1;
                    half <<= 1;
                }
                combine(k, half);
            }
        }

        boolean contains(long addr) {
            return addr - virt >= 0 && addr - virt < size;
        }

        private void leaf(int i) {
            int k = leaves + i;
            long w = i < used.length ? used[i] : -1L;
            pre[k] = Long.numberOfTrailingZeros(w);
            suf[k] = Long.numberOfLeadingZeros(w);
            max[k] = longestFreeRun(w);
        }

        /**
         * Node k from its children, each {@code half} pages wide. Return: whether k changed (when it did
         * not, neither do its ancestors).
         */
        private boolean combine(int k, int half) {
            int l = 2 * k;
            int r = l + 1;
            int p = pre[l] == half ? half + pre[r] : pre[l];
            int q = suf[r] == half ? half + suf[l] : suf[r];
            int m = Math.max(Math.max(max[l], max[r]), suf[l] + pre[r]);
            if (p == pre[k] && q == suf[k] && m == max[k]) {
                return false;
            }
            pre[k] = p;
            suf[k] = q;
            max[k] = m;
            return true;
        }

        private static int longestFreeRun(long w) {
            int used = Long.bitCount(w);
            if (used == 0 || used == 64) {
                return 64 - used;
            }
            if (used <= 32) { // the gaps between used pages, one round per used page
                int best = 0;
                int prev = -1;
                for (long x = w; x != 0; x &= x - 1) {
                    int b = Long.numberOfTrailingZeros(x);
                    best = Math.max(best, b - prev - 1);
                    prev = b;
                }
                return Math.max(best, 63 - prev);
            }
            long free = ~w; // each round shortens every free run by one: at most 32 rounds
            int n = 0;
            while (free != 0) {
                free &= free >>> 1;
                n++;
            }
            return n;
        }

        /** Whether a run of n free pages exists. */
        boolean fits(int n) {
            if (n == 1) {
                return hint < used.length;
            }
            flush();
            return n > 0 && max[1] >= n;
        }

        /** Brings the tree up to date with the words changed since. */
        private void flush() {
            for (int j = 0; j < dirtyCount; j++) {
                int i = dirtyList[j];
                dirty[i >>> 6] &= ~(1L << i);
                leaf(i);
                for (int k = (leaves + i) >>> 1, half = 64; k >= 1; k >>>= 1, half <<= 1) {
                    if (!combine(k, half)) {
                        break; // the ancestors are as they were
                    }
                }
            }
            dirtyCount = 0;
        }

        /**
         * The first page of the lowest run of n free pages, or -1. One page is the lowest free page, found
         * from the hint without the tree; longer runs come from the tree.
         */
        int firstFit(int n) {
            if (n == 1) {
                return hint < used.length ? (hint << 6) + Long.numberOfTrailingZeros(~used[hint]) : -1;
            }
            flush();
            if (n <= 0 || max[1] < n) {
                return -1;
            }
            int k = 1;
            int base = 0;
            for (int half = leaves << 5; k < leaves; half >>>= 1) { // half: the pages of each child of k
                int l = 2 * k;
                if (max[l] >= n) {
                    k = l;
                } else if (suf[l] + pre[l + 1] >= n) {
                    return base + half - suf[l];
                } else {
                    base += half;
                    k = l + 1;
                }
            }
            // a leaf whose longest free run is at least n (so n <= 64): where n free bits first begin
            long m = ~used[k - leaves];
            int c = 1;
            while (c < n) {
                int s = Math.min(c, n - c);
                m &= m >>> s;
                c += s;
            }
            return base + Long.numberOfTrailingZeros(m);
        }

        boolean usedAt(int page) {
            return (used[page >>> 6] & (1L << page)) != 0;
        }

        boolean startsAt(int page) {
            return (starts[page >>> 6] & (1L << page)) != 0;
        }

        /** The first free page in [from, end); else end. */
        int nextClear(int from, int end) {
            for (int p = from; p < end;) {
                long free = ~used[p >>> 6] & (-1L << p);
                if (free != 0) {
                    return Math.min(end, ((p >>> 6) << 6) + Long.numberOfTrailingZeros(free));
                }
                p = ((p >>> 6) + 1) << 6;
            }
            return end;
        }

        /** The first allocation start in [from, end); else end. */
        int nextStart(int from, int end) {
            for (int p = from; p < end;) {
                long set = starts[p >>> 6] & (-1L << p);
                if (set != 0) {
                    return Math.min(end, ((p >>> 6) << 6) + Long.numberOfTrailingZeros(set));
                }
                p = ((p >>> 6) + 1) << 6;
            }
            return end;
        }

        void mark(int start, int end, boolean set, boolean perPage) {
            for (int p = start; p < end;) {
                int w = p >>> 6;
                int to = Math.min(end, (w + 1) << 6);
                long mask = (to - p == 64 ? -1L : ((1L << (to - p)) - 1)) << p;
                if (set) {
                    used[w] |= mask;
                } else {
                    used[w] &= ~mask;
                    starts[w] &= ~mask;
                }
                p = to;
            }
            if (set) {
                if (perPage) {
                    for (int p = start; p < end;) {
                        int w = p >>> 6;
                        int to = Math.min(end, (w + 1) << 6);
                        starts[w] |= (to - p == 64 ? -1L : ((1L << (to - p)) - 1)) << p;
                        p = to;
                    }
                } else {
                    starts[start >>> 6] |= 1L << start;
                }
            }
            usedPages += set ? end - start : start - end;
            int lo = start >>> 6;
            int hi = (end - 1) >>> 6;
            for (int i = lo; i <= hi; i++) {
                if ((dirty[i >>> 6] & (1L << i)) == 0) {
                    dirty[i >>> 6] |= 1L << i;
                    dirtyList[dirtyCount++] = i;
                }
            }
            if (!set) {
                hint = Math.min(hint, lo);
            } else if (lo <= hint) {
                while (hint < used.length && used[hint] == -1L) {
                    hint++;
                }
            }
        }
    }

    private final List<Chunk> chunks = new ArrayList<>();
    /** chunks as an array for the allocation path (no iterator). */
    private Chunk[] array = new Chunk[0];

    synchronized void addOwner(long virt, long phys, long size, DevPagemap owner) {
        addOwner(virt, phys, size, owner, null);
    }

    synchronized Chunk addOwner(long virt, long phys, long size, DevPagemap owner, ZoneDevice.RefHolder holder) {
        Chunk c = new Chunk(virt, phys, size, owner, holder);
        chunks.add(c);
        array = chunks.toArray(new Chunk[0]);
        return c;
    }

    /** gen_pool_alloc_owner: nbits = (size + granule - 1) &gt;&gt; order, first fit. Return: 0 (NULL) when none. */
    synchronized long alloc(long size) {
        return alloc(size, false);
    }

    /**
     * alloc - first fit as gen_pool_alloc_owner; with {@code perPage} every page is an allocation of its
     * own (p2pmem_alloc_mmap: each page goes back on its own, p2pdma_folio_free frees PAGE_SIZE).
     * Return: the address, 0 (NULL) when no chunk has room.
     */
    synchronized long alloc(long size, boolean perPage) {
        Chunk c = fit(size);
        return c == null ? 0 : take(c, size, perPage);
    }

    /**
     * allocHeld - pci_alloc_p2pmem's two steps under one lock: first fit, then a reference on the chunk's
     * pagemap (percpu_ref_tryget_live); when the pagemap is dying the pages go back. Return: 0 (NULL)
     * when no chunk has room or its pagemap is being torn down.
     */
    synchronized long allocHeld(long size) {
        Chunk c = fit(size);
        if (c == null) {
            return 0;
        }
        long virt = take(c, size, false);
        if (!c.holder.tryGetLive()) {
            release(c, virt, size);
            return 0;
        }
        return virt;
    }

    /** The first chunk with room for size bytes (its first fit is then known to succeed), or null. */
    private Chunk fit(long size) {
        if (size <= 0) {
            return null;
        }
        long nbits = (size + (1L << ORDER) - 1) >>> ORDER;
        for (Chunk c : array) {
            if (nbits <= c.bits && c.fits((int) nbits)) {
                return c;
            }
        }
        return null;
    }

    private static long take(Chunk c, long size, boolean perPage) {
        int nbits = (int) ((size + (1L << ORDER) - 1) >>> ORDER);
        int start = c.firstFit(nbits);
        c.mark(start, start + nbits, true, perPage);
        return c.virt + ((long) start << ORDER);
    }

    /**
     * gen_pool_free_owner of exactly one live allocation. Return: its chunk (owner and holder).
     * Errors: EINVAL, nothing changed, when {@code virt} is not in this pool, or [virt, virt + size) is
     * not one allocation as it was made: a range that starts inside one, covers a neighbour, or stops
     * short of its end.
     */
    synchronized Chunk free(long virt, long size) {
        Chunk c = find(virt);
        if (c == null) {
            throw KernelException.einval("%#x is not memory of this pool", virt);
        }
        release(c, virt, size);
        return c;
    }

    /**
     * freeHeld - pci_free_p2pmem: free exactly one allocation made by allocHeld and drop its pagemap
     * reference. Return: whether the pool is now empty. Errors: as free, nothing changed.
     */
    synchronized boolean freeHeld(long virt, long size) {
        free(virt, size).holder.put();
        return usedPages() == 0;
    }

    private static void release(Chunk c, long virt, long size) {
        long nbits = (size + (1L << ORDER) - 1) >>> ORDER;
        long off = virt - c.virt;
        if (size <= 0 || off % (1L << ORDER) != 0 || (off >>> ORDER) + nbits > c.bits) {
            throw KernelException.einval("free of %#x + %d does not fit the pool chunk", virt, size);
        }
        int start = (int) (off >>> ORDER);
        int end = (int) (start + nbits);
        if (!c.startsAt(start)) {
            throw KernelException.einval("free of %#x + %d: no allocation starts at %#x%s", virt, size, virt,
                    c.usedAt(start) ? " (it is inside one)" : " (not allocated)");
        }
        int clear = c.nextClear(start, end);
        if (clear < end) {
            throw KernelException.einval("free of %#x + %d: page %#x was not allocated", virt, size,
                    c.virt + ((long) clear << ORDER));
        }
        int next = c.nextStart(start + 1, end);
        if (next < end) {
            throw KernelException.einval("free of %#x + %d covers the live allocation at %#x: only the exact "
                    + "allocation can be freed", virt, size, c.virt + ((long) next << ORDER));
        }
        if (end < c.bits && c.usedAt(end) && !c.startsAt(end)) {
            throw KernelException.einval("free of %#x + %d stops inside the allocation (it goes on at %#x): only "
                    + "the exact allocation can be freed", virt, size, c.virt + ((long) end << ORDER));
        }
        c.mark(start, end, false, false);
    }

    private long usedPages() {
        long n = 0;
        for (Chunk c : array) {
            n += c.usedPages;
        }
        return n;
    }

    synchronized long virtToPhys(long virt) {
        Chunk c = find(virt);
        return c == null ? -1 : c.phys + (virt - c.virt);
    }

    /** The chunk holding an address, or null. */
    synchronized Chunk chunkOf(long virt) {
        return find(virt);
    }

    private Chunk find(long virt) {
        for (Chunk c : array) {
            if (c.contains(virt)) {
                return c;
            }
        }
        return null;
    }

    /**
     * The live allocations of a chunk as "ADDR+BYTES", lowest first, at most {@code limit} of them and a
     * count of the rest: what a teardown that waits names.
     */
    synchronized String describe(Chunk c, int limit) {
        StringBuilder out = new StringBuilder();
        int shown = 0;
        int more = 0;
        for (int p = c.nextStart(0, c.bits); p < c.bits; p = c.nextStart(p + 1, c.bits)) {
            if (shown == limit) {
                more++;
                continue;
            }
            int end = p + 1;
            while (end < c.bits && c.usedAt(end) && !c.startsAt(end)) {
                end++;
            }
            out.append(shown++ == 0 ? "" : ", ").append(String.format("%#x+%d", c.virt + ((long) p << ORDER),
                    (long) (end - p) << ORDER));
        }
        if (more > 0) {
            out.append(" and ").append(more).append(" more");
        }
        return out.toString();
    }

    synchronized long size() {
        long n = 0;
        for (Chunk c : array) {
            n += c.size;
        }
        return n;
    }

    synchronized long avail() {
        long n = 0;
        for (Chunk c : array) {
            n += (long) (c.bits - c.usedPages) << ORDER;
        }
        return n;
    }
}
