package org.peerdma.iommu.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

/** iova.c's allocator against a brute-force model of which page frames are taken. */
class IovaAllocatorTest {

    @Test
    void randomAllocationsAndFreesNeverOverlapAndStayBelowTheirLimit() {
        IovaAllocator a = new IovaAllocator(12, 1);
        a.reserve(0xe0000, 0xeffff);
        a.reserve(0xfee00, 0xfeeff);
        TreeMap<Long, Long> taken = new TreeMap<>();
        taken.put(0xe0000L, 0xeffffL);
        taken.put(0xfee00L, 0xfeeffL);
        Random rnd = new Random(7);
        List<Long> live = new ArrayList<>();
        for (int k = 0; k < 200_000; k++) {
            if (!live.isEmpty() && (rnd.nextBoolean() || live.size() > 160)) {
                long pfn = live.remove(rnd.nextInt(live.size()));
                long pages = a.free(pfn);
                assertThat(pages).isPositive();
                assertThat(taken.remove(pfn)).isEqualTo(pfn + pages - 1);
                continue;
            }
            long size = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 40);
            long limit = rnd.nextBoolean() ? 0xfffffL : (1L << 36) - 1;
            long pfn = a.allocFast(size, limit);
            if (pfn == 0) {
                continue;
            }
            long n = size < 32 ? IovaAllocator.roundupPowOfTwo(size) : size;
            long hi = pfn + n - 1;
            assertThat(hi).isLessThanOrEqualTo(limit);
            assertThat(pfn % Long.highestOneBit(IovaAllocator.roundupPowOfTwo(n))).isZero();
            Map.Entry<Long, Long> below = taken.floorEntry(hi);
            assertThat(below == null || below.getValue() < pfn).as("step %d: [%x-%x] overlaps %s", k, pfn, hi, below)
                    .isTrue();
            taken.put(pfn, hi);
            live.add(pfn);
        }
    }

    @Test
    void freedRangesAboveTheCachedNodeAreFoundAgainTopDown() {
        IovaAllocator a = new IovaAllocator(12, 1);
        assertThat(a.allocFast(1, 0xfffff)).isEqualTo(0xfffff);
        assertThat(a.allocFast(1, 0xfffff)).isEqualTo(0xffffe);
        assertThat(a.allocFast(1, 0xfffff)).isEqualTo(0xffffd);
        // __cached_rbnode_delete_update moves the 32-bit cache above what was freed
        assertThat(a.free(0xffffe)).isEqualTo(1);
        assertThat(a.allocFast(1, 0xfffff)).isEqualTo(0xffffe);
        assertThat(a.free(0xfffff)).isEqualTo(1);
        assertThat(a.allocFast(2, 0xfffff)).isEqualTo(0xffffa); // 2 pages, 2-aligned, below 0xffffd
        assertThat(a.allocFast(1, 0xfffff)).isEqualTo(0xffff9);
        assertThat(a.free(0x12345)).isZero();
        assertThat(a.allocatedPages()).isEqualTo(5);
    }

    @Test
    void aFullSpaceFailsAndRetriesFromTheTopAfterAFree() {
        IovaAllocator a = new IovaAllocator(12, 1);
        for (long pfn = 7; pfn >= 1; pfn--) {
            assertThat(a.allocFast(1, 7)).isEqualTo(pfn);
        }
        assertThat(a.allocFast(1, 7)).isZero();
        // max32_alloc_size: the next request of that size fails at once, until a 32-bit range is freed
        assertThat(a.free(6)).isEqualTo(1);
        assertThat(a.allocFast(1, 7)).isEqualTo(6);
        assertThat(a.allocFast(1, 7)).isZero();
        assertThat(a.free(3)).isEqualTo(1);
        assertThat(a.allocFast(1, 7)).isEqualTo(3);
    }
}
