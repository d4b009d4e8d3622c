package org.peerdma.dmabuf.resv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.peerdma.dmabuf.fence.DmaFence;
import org.peerdma.dmabuf.fence.DmaFenceArray;
import org.peerdma.dmabuf.fence.FenceOps;

/** drivers/dma-buf/st-dma-resv.c re-expressed (reference §B2), for each usage, plus the add_fence rules. */
class StDmaResvTest {
    static final FenceOps OPS = new FenceOps() {
        @Override
        public String driverName(DmaFence f) {
            return "mock";
        }

        @Override
        public String timelineName(DmaFence f) {
            return "mock";
        }
    };

    static DmaFence fence(long context, long seqno) {
        return new DmaFence(OPS, new Object(), context, seqno);
    }

    @Test
    void sanitycheck() {
        DmaResv r = new DmaResv();
        assertThat(r.tryLock()).isTrue();
        r.unlock();
    }

    @ParameterizedTest
    @EnumSource(DmaResvUsage.class)
    void testSignaling(DmaResvUsage usage) {
        DmaResv r = new DmaResv();
        DmaFence f = fence(DmaFence.contextAlloc(1), 1);
        r.lock();
        assertThat(r.reserveFences(1)).isZero();
        r.addFence(f, usage);
        assertThat(r.testSignaled(usage)).isFalse();
        f.signal();
        assertThat(r.testSignaled(usage)).isTrue();
        r.unlock();
    }

    @ParameterizedTest
    @EnumSource(DmaResvUsage.class)
    void testForEach(DmaResvUsage usage) {
        DmaResv r = new DmaResv();
        DmaFence f = fence(DmaFence.contextAlloc(1), 1);
        r.lock();
        r.reserveFences(1);
        r.addFence(f, usage);
        List<DmaResv.Entry> l = r.fencesLocked(usage);
        assertThat(l).singleElement().satisfies(e -> {
            assertThat(e.fence()).isSameAs(f);
            assertThat(e.usage()).isEqualTo(usage);
        });
        r.unlock();
    }

    @ParameterizedTest
    @EnumSource(DmaResvUsage.class)
    void testForEachUnlocked(DmaResvUsage usage) {
        DmaResv r = new DmaResv();
        DmaFence f = fence(DmaFence.contextAlloc(1), 1);
        r.lock();
        r.reserveFences(1);
        r.addFence(f, usage);
        r.unlock();
        DmaResv.Iter it = r.iterUnlocked(usage);
        int count = 0;
        boolean forced = false;
        for (DmaFence x = it.next(); x != null; x = it.next()) {
            assertThat(it.isRestarted()).as("restart flag").isTrue();
            assertThat(x).isSameAs(f);
            assertThat(it.usage()).isEqualTo(usage);
            count++;
            if (!forced) {
                it.forceRestart(); // the selftest corrupts the cursor to trigger a restart
                forced = true;
            }
        }
        assertThat(count).isEqualTo(2); // once, then exactly once more after the restart
    }

    @ParameterizedTest
    @EnumSource(DmaResvUsage.class)
    void testGetFences(DmaResvUsage usage) {
        DmaResv r = new DmaResv();
        DmaFence f = fence(DmaFence.contextAlloc(1), 1);
        r.lock();
        r.reserveFences(1);
        r.addFence(f, usage);
        r.unlock();
        List<DmaFence> got = r.getFences(usage);
        assertThat(got).containsExactly(f);
        assertThat(f.refcount()).isEqualTo(3); // creator, the resv, get_fences
    }

    @Test
    void usageOrderAndRw() {
        DmaResv r = new DmaResv();
        r.lock();
        r.reserveFences(4);
        DmaFence k = fence(DmaFence.contextAlloc(1), 1);
        DmaFence w = fence(DmaFence.contextAlloc(1), 1);
        DmaFence rd = fence(DmaFence.contextAlloc(1), 1);
        DmaFence bk = fence(DmaFence.contextAlloc(1), 1);
        r.addFence(k, DmaResvUsage.KERNEL);
        r.addFence(w, DmaResvUsage.WRITE);
        r.addFence(rd, DmaResvUsage.READ);
        r.addFence(bk, DmaResvUsage.BOOKKEEP);
        r.unlock();
        assertThat(r.getFences(DmaResvUsage.KERNEL)).containsExactly(k);
        assertThat(r.getFences(DmaResvUsage.WRITE)).containsExactly(k, w);
        assertThat(r.getFences(DmaResvUsage.rw(true))).containsExactly(k, w, rd); // a write waits for readers
        assertThat(r.getFences(DmaResvUsage.rw(false))).containsExactly(k, w);
        assertThat(r.getFences(DmaResvUsage.BOOKKEEP)).hasSize(4);
    }

    @Test
    void addFenceReplacesLaterSameContextOrSignaledAndNeedsSlotsAndTheLock() {
        DmaResv r = new DmaResv();
        long ctx = DmaFence.contextAlloc(1);
        DmaFence f1 = fence(ctx, 1);
        DmaFence f2 = fence(ctx, 2);
        assertThatThrownBy(() -> r.reserveFences(1)).hasMessageContaining("dma_resv_assert_held");
        r.lock();
        r.reserveFences(1);
        r.addFence(f1, DmaResvUsage.READ);
        r.addFence(f2, DmaResvUsage.READ); // same context, later, same usage: replaces without a slot
        assertThat(r.size()).isEqualTo(1);
        assertThat(f1.refcount()).isEqualTo(1); // the resv dropped its reference to f1
        // a higher usage (BOOKKEEP) from the same context does not replace a READ slot: it needs its own
        DmaFence f3 = fence(ctx, 3);
        assertThatThrownBy(() -> r.addFence(f3, DmaResvUsage.BOOKKEEP)).hasMessageContaining("reserved slot");
        r.reserveFences(1);
        r.addFence(f3, DmaResvUsage.BOOKKEEP);
        assertThat(r.size()).isEqualTo(2);
        // a signaled fence's slot is reused by anything
        f2.signal();
        DmaFence other = fence(DmaFence.contextAlloc(1), 1);
        r.addFence(other, DmaResvUsage.KERNEL);
        assertThat(r.size()).isEqualTo(2);
        // containers are a WARN
        r.reserveFences(1);
        r.addFence(new DmaFenceArray(List.of(fence(9, 1)), DmaFence.contextAlloc(1), 1, false), DmaResvUsage.READ);
        assertThat(r.warnings()).singleElement().asString().contains("container");
        r.unlock();
    }

    @Test
    void waitTimeoutWaitsForEveryFenceOfTheUsage() throws Exception {
        DmaResv r = new DmaResv();
        DmaFence w = fence(DmaFence.contextAlloc(1), 1);
        DmaFence rd = fence(DmaFence.contextAlloc(1), 1);
        r.lock();
        r.reserveFences(2);
        r.addFence(w, DmaResvUsage.WRITE);
        r.addFence(rd, DmaResvUsage.READ);
        r.unlock();
        assertThat(r.waitTimeout(DmaResvUsage.WRITE, false, 0)).isZero();
        w.signal();
        assertThat(r.waitTimeout(DmaResvUsage.WRITE, false, 0)).isEqualTo(1);
        assertThat(r.waitTimeout(DmaResvUsage.READ, false, 5)).isZero();
        new Thread(rd::signal).start();
        assertThat(r.waitTimeout(DmaResvUsage.READ, false, 2 * DmaFence.HZ)).isPositive();
    }
}
