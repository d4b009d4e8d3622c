package org.peerdma.dmabuf.fence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;

/** drivers/dma-buf/st-dma-fence.c re-expressed (reference §B1), with its mock fence. */
class StDmaFenceTest {
    /** The selftest's mock: context 0, seqno 0, and a .wait that returns -ETIME on timeout. */
    static DmaFence mock() {
        return new DmaFence(new FenceOps() {
            @Override
            public String driverName(DmaFence f) {
                return "mock";
            }

            @Override
            public String timelineName(DmaFence f) {
                return "mock";
            }

            @Override
            public boolean hasWait() {
                return true;
            }

            @Override
            public long waitTimeout(DmaFence f, boolean intr, long timeout) {
                long r = f.defaultWait(intr, timeout);
                return r == 0 && !f.isSignaled() ? Errno.ETIME.negative() : r;
            }
        }, new Object(), 0, 0);
    }

    @Test
    void sanitycheck() {
        DmaFence f = mock();
        f.enableSwSignaling();
        f.signal();
        f.put();
        assertThat(f.refcount()).isZero();
    }

    @Test
    void testSignaling() {
        DmaFence f = mock();
        assertThat(f.isSignaled()).isFalse();
        assertThat(f.signal()).isZero();
        assertThat(f.isSignaled()).isTrue();
        assertThat(f.signal()).isEqualTo(-22);
        assertThat(f.timestampNanos()).isNotZero();
    }

    @Test
    void testAddCallback() {
        DmaFence f = mock();
        AtomicBoolean seen = new AtomicBoolean();
        assertThat(f.addCallback(x -> seen.set(true))).isZero();
        f.signal();
        assertThat(seen).isTrue();
    }

    @Test
    void testLateAddCallback() {
        DmaFence f = mock();
        f.signal();
        AtomicBoolean seen = new AtomicBoolean();
        assertThat(f.addCallback(x -> seen.set(true))).isEqualTo(Errno.ENOENT.negative());
        f.signal();
        assertThat(seen).isFalse();
    }

    @Test
    void testRmCallback() {
        DmaFence f = mock();
        AtomicBoolean seen = new AtomicBoolean();
        DmaFence.Cb[] h = new DmaFence.Cb[1];
        assertThat(f.addCallback(x -> seen.set(true), h)).isZero();
        assertThat(f.removeCallback(h[0])).isTrue();
        f.signal();
        assertThat(seen).isFalse();
    }

    @Test
    void testLateRmCallback() {
        DmaFence f = mock();
        AtomicBoolean seen = new AtomicBoolean();
        DmaFence.Cb[] h = new DmaFence.Cb[1];
        f.addCallback(x -> seen.set(true), h);
        f.signal();
        assertThat(seen).isTrue();
        assertThat(f.removeCallback(h[0])).isFalse();
    }

    @Test
    void testStatus() {
        DmaFence f = mock();
        assertThat(f.getStatus()).isZero();
        f.signal();
        assertThat(f.getStatus()).isEqualTo(1);
    }

    @Test
    void testError() {
        DmaFence f = mock();
        assertThat(f.setError(-5)).isTrue();
        assertThat(f.getStatus()).isZero(); // the error shows only after signaling
        f.signal();
        assertThat(f.getStatus()).isEqualTo(-5);
        assertThat(f.setError(-5)).isFalse(); // after signaling: a WARN in the kernel
    }

    @Test
    void testWait() {
        DmaFence f = mock();
        assertThat(f.waitTimeout(false, 0)).isEqualTo(Errno.ETIME.negative()); // the mock's wait
        f.signal();
        assertThat(f.waitTimeout(false, 0)).isEqualTo(1); // default wait: signaled with timeout 0 gives 1
        assertThat(f.waitTimeout(false, -1)).isEqualTo(-22);
    }

    @Test
    void testWaitTimeout() throws Exception {
        DmaFence f = mock();
        assertThat(f.waitTimeout(false, 2)).isEqualTo(Errno.ETIME.negative());
        Thread timer = new Thread(() -> {
            try {
                Thread.sleep(2);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            f.signal();
        });
        timer.start();
        assertThat(f.waitTimeout(false, 2 * DmaFence.HZ)).isNotEqualTo(Errno.ETIME.negative()).isPositive();
        timer.join();
    }

    @Test
    void testStub() {
        // st-dma-fence test_stub: 64 references to the one signalled stub, all put again
        DmaFence[] f = new DmaFence[64];
        DmaFence probe = DmaFence.getStub();
        int before = probe.refcount() - 1;
        probe.put();
        for (int i = 0; i < f.length; i++) {
            f[i] = DmaFence.getStub();
            assertThat(f[i].isSignaled()).isTrue();
            assertThat(f[i]).isSameAs(f[0]);
        }
        assertThat(f[0].refcount()).isEqualTo(before + 64);
        // its ops say "stub", but dma_fence_driver_name/timeline_name of a signalled fence no longer ask them
        assertThat(f[0].driverName()).isEqualTo("detached-driver");
        assertThat(f[0].timelineName()).isEqualTo("signaled-timeline");
        assertThat(f[0].getStatus()).isEqualTo(1);
        for (DmaFence x : f) {
            x.put();
        }
        assertThat(DmaFence.getStub().refcount()).as("the stub's own reference keeps it").isEqualTo(before + 1);
        DmaFence.getStub().put();
    }

    @Test
    void raceSignalCallback() throws Exception {
        for (int round = 0; round < 200; round++) {
            DmaFence[] fences = {mock(), mock()};
            AtomicInteger seen = new AtomicInteger();
            AtomicInteger missed = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            Thread[] t = new Thread[2];
            for (int i = 0; i < 2; i++) {
                final int me = i;
                t[i] = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException ignored) {
                        return;
                    }
                    // each thread signals its fence and adds a callback to the other's
                    fences[me].signal();
                    if (fences[1 - me].addCallback(x -> seen.incrementAndGet()) != 0) {
                        missed.incrementAndGet();
                    }
                });
                t[i].start();
            }
            go.countDown();
            t[0].join();
            t[1].join();
            assertThat(seen.get() + missed.get()).as("every callback seen or missed by add").isEqualTo(2);
        }
    }

    @Test
    void contextsStartAtOneAndCount() {
        long a = DmaFence.contextAlloc(3);
        long b = DmaFence.contextAlloc(1);
        assertThat(a).isPositive();
        assertThat(b).isEqualTo(a + 3);
        assertThat(DmaFence.contextAlloc(0)).isEqualTo(b + 1);
    }

    @Test
    void isLaterWrapsAround32Bits() {
        FenceOps ops = new FenceOps() {
            @Override
            public String driverName(DmaFence f) {
                return "t";
            }

            @Override
            public String timelineName(DmaFence f) {
                return "t";
            }
        };
        Object lock = new Object();
        DmaFence a = new DmaFence(ops, lock, 7, 0xffffffffL);
        DmaFence b = new DmaFence(ops, lock, 7, 0x1_0000_0001L); // lower 32 bits: 1, after the wrap
        assertThat(DmaFence.isLater(b, a)).isTrue();
        assertThat(DmaFence.isLater(a, b)).isFalse();
        assertThat(DmaFence.isLaterOrSame(a, a)).isTrue();
        assertThat(DmaFence.isLater(new DmaFence(ops, lock, 8, 5), a)).isFalse(); // other context
        FenceOps ops64 = new FenceOps() {
            @Override
            public String driverName(DmaFence f) {
                return "t";
            }

            @Override
            public String timelineName(DmaFence f) {
                return "t";
            }

            @Override
            public boolean use64bitSeqno() {
                return true;
            }
        };
        assertThat(DmaFence.isLater(new DmaFence(ops64, lock, 9, 0xffffffffL), new DmaFence(ops64, lock, 9,
                0x1_0000_0001L))).isFalse();
    }

    @Test
    void releaseWithPendingCallbacksSignalsWithEdeadlkAndNamesDetach() {
        DmaFence f = mock();
        AtomicInteger status = new AtomicInteger();
        f.addCallback(x -> status.set(x.getStatus()));
        assertThat(f.driverName()).isEqualTo("mock");
        f.put();
        assertThat(status.get()).isEqualTo(Errno.EDEADLK.negative());
        assertThat(f.driverName()).isEqualTo("detached-driver");
        assertThat(f.timelineName()).isEqualTo("signaled-timeline");
    }

    @Test
    void arraysAndWaitAny() {
        DmaFence a = mock();
        DmaFence b = mock();
        DmaFenceArray all = new DmaFenceArray(List.of(a, b), DmaFence.contextAlloc(1), 1, false);
        DmaFenceArray any = new DmaFenceArray(List.of(a, b), DmaFence.contextAlloc(1), 1, true);
        assertThat(all.isContainer()).isTrue();
        all.enableSwSignaling();
        any.enableSwSignaling();
        b.setError(-5);
        b.signal();
        assertThat(any.isSignaled()).isTrue();
        assertThat(any.getStatus()).isEqualTo(-5);
        assertThat(all.isSignaled()).isFalse();
        int[] idx = new int[1];
        assertThat(DmaFence.waitAnyTimeout(List.of(a, b), false, 0, idx)).isEqualTo(1);
        assertThat(idx[0]).isEqualTo(1);
        assertThat(DmaFence.waitAnyTimeout(List.of(a), false, 0, idx)).isZero();
        assertThat(DmaFence.waitAnyTimeout(List.of(), false, 0, idx)).isEqualTo(-22);
        assertThat(DmaFence.waitAnyTimeout(List.of(a), false, 5, idx)).isZero();
        a.signal();
        assertThat(all.isSignaled()).isTrue();
        assertThat(all.getStatus()).isEqualTo(-5);
    }
}
