package org.peerdma.dmabuf.resv;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.peerdma.dmabuf.fence.DmaFence;
import org.peerdma.errno.Errno;

/**
 * struct dma_resv: fences with usages, reserved slots, a lock, and a sequence count that unlocked
 * readers use to notice changes and restart.
 */
public final class DmaResv {
    /** A fence and its usage. */
    public record Entry(DmaFence fence, DmaResvUsage usage) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private volatile List<Entry> fences = List.of();
    private int maxFences;
    private volatile long seq;
    private final List<String> warnings = new ArrayList<>();

    /** dma_resv_lock. */
    public void lock() {
        lock.lock();
    }

    /** dma_resv_trylock. */
    public boolean tryLock() {
        return lock.tryLock();
    }

    /** dma_resv_unlock. */
    public void unlock() {
        lock.unlock();
    }

    public boolean isLocked() {
        return lock.isHeldByCurrentThread();
    }

    private void assertHeld(String what) {
        if (!lock.isHeldByCurrentThread()) {
            throw new IllegalStateException(what + ": dma_resv_assert_held failed (the reservation lock is not held)");
        }
    }

    /** @return the WARNs the kernel would print for this object (container fences added, ...). */
    public List<String> warnings() {
        synchronized (warnings) {
            return List.copyOf(warnings);
        }
    }

    /** reserveFences - dma_resv_reserve_fences(n): room for n more fences. Needs the lock. Return: 0. */
    public int reserveFences(int n) {
        assertHeld("dma_resv_reserve_fences");
        if (n < 0) {
            return Errno.EINVAL.negative();
        }
        maxFences = Math.max(maxFences, fences.size() + n);
        return 0;
    }

    /**
     * addFence - dma_resv_add_fence: replaces a slot whose fence is of the same context, has the same
     * or a higher usage and is not later than the new one, or is signaled; otherwise takes a reserved
     * slot (the kernel BUGs without one). Needs the lock. Adding a container fence is a WARN.
     */
    public void addFence(DmaFence fence, DmaResvUsage usage) {
        assertHeld("dma_resv_add_fence");
        if (fence.isContainer()) {
            synchronized (warnings) {
                warnings.add("WARN: dma_resv_add_fence with a container fence " + fence);
            }
        }
        fence.get();
        List<Entry> l = new ArrayList<>(fences);
        for (int i = 0; i < l.size(); i++) {
            Entry old = l.get(i);
            if ((old.fence().context() == fence.context() && old.usage().compareTo(usage) >= 0
                    && DmaFence.isLaterOrSame(fence, old.fence())) || old.fence().isSignaled()) {
                l.set(i, new Entry(fence, usage));
                publish(l);
                old.fence().put();
                return;
            }
        }
        if (l.size() >= maxFences) {
            fence.put();
            throw new IllegalStateException("BUG: dma_resv_add_fence without a reserved slot "
                    + "(call dma_resv_reserve_fences first)");
        }
        l.add(new Entry(fence, usage));
        publish(l);
    }

    private void publish(List<Entry> l) {
        seq++;
        fences = List.copyOf(l);
        seq++;
    }

    /** The fences a query for {@code usage} returns: every fence with that usage or a lower one. */
    private static List<Entry> filter(List<Entry> all, DmaResvUsage usage) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : all) {
            if (e.usage().compareTo(usage) <= 0) {
                out.add(e);
            }
        }
        return out;
    }

    /** forEachLocked - dma_resv_for_each_fence with the lock held. */
    public List<Entry> fencesLocked(DmaResvUsage usage) {
        assertHeld("dma_resv_for_each_fence");
        return filter(fences, usage);
    }

    /** iterUnlocked - dma_resv_iter_begin for dma_resv_for_each_fence_unlocked. */
    public Iter iterUnlocked(DmaResvUsage usage) {
        return new Iter(usage);
    }

    /**
     * struct dma_resv_iter without the lock: it walks a snapshot and restarts from the first fence
     * whenever the object changed meanwhile; {@link #isRestarted()} is true for the first fence
     * after each (re)start.
     */
    public final class Iter {
        private final DmaResvUsage usage;
        private List<Entry> snap;
        private long snapSeq;
        private int pos;
        private boolean restarted;
        private boolean forceRestart;
        private Entry current;

        Iter(DmaResvUsage usage) {
            this.usage = usage;
        }

        /** next - the next fence, or null at the end. */
        public DmaFence next() {
            if (snap == null || forceRestart || seq != snapSeq) {
                long s;
                do {
                    s = seq;
                    snap = filter(fences, usage);
                } while ((s & 1) != 0 || s != seq);
                snapSeq = s;
                pos = 0;
                restarted = true;
                forceRestart = false;
            } else {
                restarted = false;
            }
            if (pos >= snap.size()) {
                current = null;
                return null;
            }
            current = snap.get(pos++);
            return current.fence();
        }

        /** @return dma_resv_iter_is_restarted. */
        public boolean isRestarted() {
            return restarted;
        }

        /** @return dma_resv_iter_usage of the current fence. */
        public DmaResvUsage usage() {
            return current == null ? null : current.usage();
        }

        /** As if the object changed under the iterator: the next call restarts. */
        public void forceRestart() {
            forceRestart = true;
        }
    }

    /** getFences - dma_resv_get_fences(usage): references to every fence of that usage or lower. */
    public List<DmaFence> getFences(DmaResvUsage usage) {
        List<DmaFence> out = new ArrayList<>();
        for (Entry e : filter(fences, usage)) {
            out.add(e.fence().get());
        }
        return out;
    }

    /** testSignaled - dma_resv_test_signaled(usage): every fence of that usage or lower has signaled. */
    public boolean testSignaled(DmaResvUsage usage) {
        for (Entry e : filter(fences, usage)) {
            if (!e.fence().isSignaled()) {
                return false;
            }
        }
        return true;
    }

    /**
     * waitTimeout - dma_resv_wait_timeout(usage, intr, timeout): wait for each fence in turn. Return:
     * the jiffies left (timeout, or 1 for 0, when nothing to wait for), 0 on timeout, or -ERESTARTSYS.
     */
    public long waitTimeout(DmaResvUsage usage, boolean intr, long timeout) {
        long left = timeout == 0 ? 1 : timeout;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout * 1000 / DmaFence.HZ);
        for (Entry e : filter(fences, usage)) {
            long t = timeout == DmaFence.MAX_SCHEDULE_TIMEOUT ? timeout
                    : Math.max(0, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()) * DmaFence.HZ / 1000);
            long r = e.fence().waitTimeout(intr, t);
            if (r <= 0) {
                return r;
            }
            left = r;
        }
        return left;
    }

    /** @return the number of fences (dma_resv_num_fences... of every usage). */
    public int size() {
        return fences.size();
    }
}
