package org.peerdma.iommu.internal;

import java.util.Map;
import java.util.TreeMap;

/**
 * An IOVA domain's allocator, drivers/iommu/iova.c: ranges of page frames kept sorted (the
 * kernel's rbtree, here a TreeMap by pfn_lo) above an anchor node, allocated top-down from a
 * limit with __alloc_and_insert_iova_range()'s walk, its cached starting nodes (one for the
 * 32-bit space, one above), its retry from the top and its max32_alloc_size fast failure.
 * alloc_iova_fast() rounds requests below 32 pages up to a power of two and size-aligns every
 * allocation. The per-CPU rcaches that recycle freed small ranges are not modelled: freed ranges
 * go straight back to the tree, so addresses after frees may differ from a kernel's.
 * Not thread-safe: the owning domain serialises calls (the kernel's iova_rbtree_lock).
 */
final class IovaAllocator {
    /** The anchor node sits above the top of the usable space (IOVA_ANCHOR = ~0UL). */
    static final long ANCHOR = Long.MAX_VALUE;
    /** log2 of the largest range (in pages) alloc_iova_fast rounds and caches. */
    static final int IOVA_RANGE_CACHE_MAX_SIZE = 6;

    /** A range of page frames, allocated or reserved. */
    static final class Range {
        long lo;
        long hi;
        final boolean reserved;

        Range(long lo, long hi, boolean reserved) {
            this.lo = lo;
            this.hi = hi;
            this.reserved = reserved;
        }

        long pages() {
            return hi - lo + 1;
        }

        @Override
        public String toString() {
            return String.format("[%#x-%#x%s]", lo, hi, reserved ? " reserved" : "");
        }
    }

    final int shift;
    final long startPfn;
    final long dma32Pfn;
    private final TreeMap<Long, Range> tree = new TreeMap<>();
    private final Range anchor = new Range(ANCHOR, ANCHOR, true);
    private Range cachedNode;
    private Range cached32Node;
    private long max32AllocSize;
    private long allocatedPages;

    /** init_iova_domain(iovad, 1 &lt;&lt; shift, startPfn). */
    IovaAllocator(int shift, long startPfn) {
        this.shift = shift;
        this.startPfn = startPfn;
        this.dma32Pfn = 1L << (32 - shift);
        this.max32AllocSize = dma32Pfn;
        tree.put(anchor.lo, anchor);
        cachedNode = anchor;
        cached32Node = anchor;
    }

    /** @return pages currently allocated (reserved ranges not counted). */
    long allocatedPages() {
        return allocatedPages;
    }

    /**
     * reserve_iova - keep [pfnLo, pfnHi] out of every allocation (host bridge windows, MSI
     * doorbells). Overlapping reserved ranges merge; the pfns covered are those of iova.c.
     */
    void reserve(long pfnLo, long pfnHi) {
        long lo = pfnLo;
        long hi = pfnHi;
        Map.Entry<Long, Range> f = tree.floorEntry(lo);
        if (f != null && f.getValue() != anchor && f.getValue().hi + 1 >= lo) {
            lo = absorb(f.getValue(), lo, hi);
            hi = Math.max(hi, f.getValue().hi);
        }
        while (true) {
            Map.Entry<Long, Range> c = tree.ceilingEntry(lo);
            if (c == null || c.getValue() == anchor || c.getKey() > hi + 1) {
                break;
            }
            absorb(c.getValue(), lo, hi);
            hi = Math.max(hi, c.getValue().hi);
        }
        tree.put(lo, new Range(lo, hi, true));
    }

    private long absorb(Range r, long lo, long hi) {
        if (!r.reserved) {
            throw new IllegalStateException(String.format("reserving [%#x-%#x] over allocated %s", lo, hi, r));
        }
        tree.remove(r.lo);
        return Math.min(lo, r.lo);
    }

    /**
     * alloc_iova_fast(iovad, size, limitPfn, flush_rcache): the first pfn of a new range of
     * {@code size} pages ending at or below {@code limitPfn}, or 0 when none fits.
     */
    long allocFast(long size, long limitPfn) {
        long n = size;
        if (n < (1L << (IOVA_RANGE_CACHE_MAX_SIZE - 1))) {
            n = roundupPowOfTwo(n);
        }
        Range r = allocAndInsert(n, limitPfn + 1, true);
        return r == null ? 0 : r.lo;
    }

    /** __alloc_and_insert_iova_range with limitPfn exclusive, as alloc_iova passes it. */
    private Range allocAndInsert(long size, long limitPfn, boolean sizeAligned) {
        long alignMask = ~0L;
        if (sizeAligned) {
            alignMask <<= flsLong(size - 1);
        }
        long highPfn = limitPfn;
        long lowPfn = startPfn;
        if (limitPfn <= dma32Pfn && size >= max32AllocSize) {
            return null; // iova32_full
        }
        Range curr = limitPfn <= dma32Pfn ? cached32Node : cachedNode;
        long retryPfn = curr.hi;
        long newPfn;
        Range prev;
        while (true) {
            do {
                highPfn = Math.min(highPfn, curr.lo);
                newPfn = (highPfn - size) & alignMask;
                prev = curr;
                curr = below(curr);
            } while (curr != null && newPfn <= curr.hi && newPfn >= lowPfn);
            if (highPfn < size || newPfn < lowPfn) {
                if (lowPfn == startPfn && retryPfn < limitPfn) {
                    highPfn = limitPfn;
                    lowPfn = retryPfn + 1;
                    curr = findLimit(limitPfn);
                    continue;
                }
                max32AllocSize = size;
                return null;
            }
            break;
        }
        Range n = new Range(newPfn, newPfn + size - 1, false);
        if (tree.containsKey(n.lo) || (prev != null && prev != anchor && n.hi >= prev.lo)) {
            throw new IllegalStateException("IOVA allocator overlap: " + n + " next to " + prev);
        }
        tree.put(n.lo, n);
        allocatedPages += size;
        // __cached_rbnode_insert_update
        if (n.hi < dma32Pfn) {
            cached32Node = n;
        } else {
            cachedNode = n;
        }
        return n;
    }

    /** rb_prev. */
    private Range below(Range r) {
        Map.Entry<Long, Range> e = tree.lowerEntry(r.lo);
        return e == null ? null : e.getValue();
    }

    /** rb_next (the anchor is always above). */
    private Range above(Range r) {
        return tree.higherEntry(r.lo).getValue();
    }

    /**
     * iova_find_limit: where the retry walk starts. Above the 32-bit space it is the anchor;
     * otherwise the lowest range not entirely below {@code limitPfn}.
     */
    private Range findLimit(long limitPfn) {
        if (limitPfn > dma32Pfn) {
            return anchor;
        }
        Map.Entry<Long, Range> f = tree.floorEntry(limitPfn);
        if (f != null && f.getValue().hi >= limitPfn) {
            return f.getValue();
        }
        return tree.ceilingEntry(limitPfn).getValue();
    }

    /** @return the allocated range starting at {@code pfn}, or null. */
    Range find(long pfn) {
        Map.Entry<Long, Range> e = tree.floorEntry(pfn);
        if (e == null || e.getValue() == anchor || e.getValue().hi < pfn) {
            return null;
        }
        return e.getValue();
    }

    /**
     * free_iova(pfn): give back the allocated range containing {@code pfn}.
     * Return: pages freed, 0 when nothing allocated contains it.
     */
    long free(long pfn) {
        Range r = find(pfn);
        if (r == null || r.reserved) {
            return 0;
        }
        // __cached_rbnode_delete_update, before rb_erase
        Range cached32 = cached32Node;
        if (r == cached32 || (r.hi < dma32Pfn && r.lo >= cached32.lo)) {
            cached32Node = above(r);
        }
        if (r.lo < dma32Pfn) {
            max32AllocSize = dma32Pfn;
        }
        if (r.lo >= cachedNode.lo) {
            cachedNode = above(r);
        }
        tree.remove(r.lo);
        allocatedPages -= r.pages();
        return r.pages();
    }

    /** fls_long: position of the most significant set bit, 1-based; 0 for 0. */
    static int flsLong(long x) {
        return 64 - Long.numberOfLeadingZeros(x);
    }

    static long roundupPowOfTwo(long n) {
        return n <= 1 ? 1 : Long.highestOneBit(n - 1) << 1;
    }

    @Override
    public String toString() {
        return tree.values().toString();
    }
}
