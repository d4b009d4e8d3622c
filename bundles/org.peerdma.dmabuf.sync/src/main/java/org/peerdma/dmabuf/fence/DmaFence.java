package org.peerdma.dmabuf.fence;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.peerdma.errno.Errno;

/**
 * struct dma_fence. Create with {@link #DmaFence(FenceOps, Object, long, long)} (dma_fence_init):
 * refcount 1, error 0, unsignaled. Fences that share a timeline share a lock object.
 */
public class DmaFence {
    /** Jiffies per second in this model. */
    public static final int HZ = 1000;
    /** MAX_SCHEDULE_TIMEOUT. */
    public static final long MAX_SCHEDULE_TIMEOUT = Long.MAX_VALUE;
    /** MAX_ERRNO. */
    public static final int MAX_ERRNO = 4095;

    private static final AtomicLong CONTEXTS = new AtomicLong(1);
    private static final DmaFence STUB = stubFence();

    private final FenceOps ops;
    private final Object lock;
    private final long context;
    private final long seqno;
    private final AtomicInteger refcount = new AtomicInteger(1);
    private final List<Cb> callbacks = new ArrayList<>();
    private volatile boolean signaled;
    private volatile boolean signalingEnabled;
    private volatile int error;
    private volatile long timestampNanos;

    /** A registered callback; remove it with {@link #removeCallback}. */
    public static final class Cb {
        final FenceCallback fn;
        boolean pending = true;

        private Cb(FenceCallback fn) {
            this.fn = fn;
        }
    }

    /**
     * dma_fence_init. Errors (the kernel's BUG_ONs): a null lock, ops, or ops without names.
     */
    public DmaFence(FenceOps ops, Object lock, long context, long seqno) {
        if (ops == null || lock == null) {
            throw new IllegalArgumentException("BUG: dma_fence_init without " + (ops == null ? "ops" : "a lock"));
        }
        this.ops = ops;
        this.lock = lock;
        this.context = context;
        this.seqno = seqno;
        Objects.requireNonNull(ops.driverName(this), "BUG: dma_fence_ops without get_driver_name");
        Objects.requireNonNull(ops.timelineName(this), "BUG: dma_fence_ops without get_timeline_name");
    }

    /**
     * contextAlloc - dma_fence_context_alloc(num): the first of {@code num} new contexts; the counter
     * starts at 1. A num of 0 is a driver bug (WARN) and returns the next context without taking it.
     */
    public static long contextAlloc(int num) {
        if (num <= 0) {
            return CONTEXTS.get();
        }
        return CONTEXTS.getAndAdd(num);
    }

    /** getStub - dma_fence_get_stub(): the one always-signaled fence. */
    public static DmaFence getStub() {
        STUB.get();
        return STUB;
    }

    private static DmaFence stubFence() {
        DmaFence f = new DmaFence(new FenceOps() {
            @Override
            public String driverName(DmaFence x) {
                return "stub";
            }

            @Override
            public String timelineName(DmaFence x) {
                return "stub";
            }
        }, new Object(), 0, 0);
        f.signal();
        return f;
    }

    public long context() {
        return context;
    }

    public long seqno() {
        return seqno;
    }

    public int error() {
        return error;
    }

    /** @return the signal time (System.nanoTime), or 0 before signaling. */
    public long timestampNanos() {
        return timestampNanos;
    }

    /** @return get_driver_name, or "detached-driver" once signaled (newest kernels). */
    public String driverName() {
        return signaled ? "detached-driver" : ops.driverName(this);
    }

    /** @return get_timeline_name, or "signaled-timeline" once signaled. */
    public String timelineName() {
        return signaled ? "signaled-timeline" : ops.timelineName(this);
    }

    /** @return whether ops->use_64bit_seqno. */
    public boolean use64bitSeqno() {
        return ops.use64bitSeqno();
    }

    /** dma_fence_get. */
    public DmaFence get() {
        refcount.incrementAndGet();
        return this;
    }

    /** @return the reference count (kref). */
    public int refcount() {
        return refcount.get();
    }

    /**
     * put - dma_fence_put. The last put releases the fence; a fence released with callbacks still
     * pending is a driver bug: the kernel WARNs, sets error -EDEADLK and signals it.
     */
    public void put() {
        int v = refcount.decrementAndGet();
        if (v < 0) {
            refcount.incrementAndGet();
            throw new IllegalStateException("dma_fence_put on a released fence");
        }
        if (v == 0) {
            boolean pending;
            synchronized (lock) {
                pending = !signaled && callbacks.stream().anyMatch(c -> c.pending);
            }
            if (pending) {
                setError(Errno.EDEADLK.negative());
                signal();
            }
            ops.release(this);
        }
    }

    /**
     * signal - dma_fence_signal: record the time, run the callbacks in the order they were added.
     * Return: 0, or -EINVAL when already signaled.
     */
    public int signal() {
        List<Cb> run;
        synchronized (lock) {
            if (signaled) {
                return Errno.EINVAL.negative();
            }
            timestampNanos = System.nanoTime();
            signaled = true;
            run = new ArrayList<>(callbacks);
            callbacks.clear();
            for (Cb c : run) {
                c.pending = false;
            }
            lock.notifyAll();
        }
        for (Cb c : run) {
            c.fn.signaled(this);
        }
        return 0;
    }

    /** enableSwSignaling - dma_fence_enable_sw_signaling. */
    public void enableSwSignaling() {
        boolean now = false;
        synchronized (lock) {
            if (!signalingEnabled && !signaled) {
                signalingEnabled = true;
                now = true;
            }
        }
        if (now && !ops.enableSignaling(this)) {
            signal();
        }
    }

    /** isSignaled - dma_fence_is_signaled: the flag, or ops->signaled (which then signals it). */
    public boolean isSignaled() {
        if (signaled) {
            return true;
        }
        if (ops.signaled(this)) {
            signal();
            return true;
        }
        return false;
    }

    /**
     * addCallback - dma_fence_add_callback. Return: 0 when added; -ENOENT without calling it when the
     * fence is already signaled (or enable_signaling reports it so); -EINVAL for a null callback.
     */
    public int addCallback(FenceCallback fn, Cb[] handle) {
        if (fn == null) {
            return Errno.EINVAL.negative();
        }
        if (isSignaled()) {
            return Errno.ENOENT.negative();
        }
        enableSwSignaling();
        synchronized (lock) {
            if (signaled) {
                return Errno.ENOENT.negative();
            }
            Cb cb = new Cb(fn);
            callbacks.add(cb);
            if (handle != null && handle.length > 0) {
                handle[0] = cb;
            }
            return 0;
        }
    }

    /** addCallback without keeping the handle. */
    public int addCallback(FenceCallback fn) {
        return addCallback(fn, null);
    }

    /** removeCallback - dma_fence_remove_callback: true if it was still pending (it will not run). */
    public boolean removeCallback(Cb cb) {
        synchronized (lock) {
            if (cb == null || !cb.pending) {
                return false;
            }
            cb.pending = false;
            return callbacks.remove(cb);
        }
    }

    /** getStatus - dma_fence_get_status: 0 unsignaled, 1 signaled, or the (negative) error. */
    public int getStatus() {
        if (!isSignaled()) {
            return 0;
        }
        int e = error;
        return e != 0 ? e : 1;
    }

    /**
     * setError - dma_fence_set_error: an error to report once signaled. Setting it after signaling or
     * a value outside -MAX_ERRNO..-1 is a driver bug the kernel WARNs about (it still stores it).
     * Return: whether the call was legal.
     */
    public boolean setError(int err) {
        boolean ok = !signaled && err < 0 && err >= -MAX_ERRNO;
        error = err;
        return ok;
    }

    /**
     * waitTimeout - dma_fence_wait_timeout(f, intr, timeout) with the default wait unless ops->wait:
     * -EINVAL for a negative timeout; signaled: timeout, or 1 for a timeout of 0; unsignaled with 0:
     * 0; otherwise the jiffies left when it signaled, 0 on timeout, -ERESTARTSYS when interrupted.
     */
    public long waitTimeout(boolean intr, long timeout) {
        if (timeout < 0) {
            return Errno.EINVAL.negative();
        }
        enableSwSignaling();
        if (ops.hasWait()) {
            return ops.waitTimeout(this, intr, timeout);
        }
        return defaultWait(intr, timeout);
    }

    /** dma_fence_default_wait. */
    public long defaultWait(boolean intr, long timeout) {
        if (isSignaled()) {
            return timeout == 0 ? 1 : timeout;
        }
        if (timeout == 0) {
            return 0;
        }
        long deadline = timeout == MAX_SCHEDULE_TIMEOUT ? Long.MAX_VALUE
                : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout * 1000 / HZ);
        synchronized (lock) {
            while (!signaled) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return 0;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
                } catch (InterruptedException ex) {
                    if (intr) {
                        Thread.currentThread().interrupt();
                        return Errno.ERESTARTSYS.negative();
                    }
                }
                if (!signaled && ops.signaled(this)) {
                    break;
                }
            }
        }
        if (!signaled) {
            signal(); // ops->signaled reported it
        }
        if (timeout == MAX_SCHEDULE_TIMEOUT) {
            return MAX_SCHEDULE_TIMEOUT;
        }
        long leftJiffies = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) * HZ / 1000;
        return Math.max(1, leftJiffies);
    }

    /**
     * isLater - dma_fence_is_later(f1, f2): false (a driver bug the kernel WARNs about) for different
     * contexts; 64-bit seqnos compare as numbers, 32-bit ones with wrap-around:
     * (int)(lower_32_bits(f1) - lower_32_bits(f2)) &gt; 0.
     */
    public static boolean isLater(DmaFence f1, DmaFence f2) {
        if (f1.context != f2.context) {
            return false;
        }
        if (f1.use64bitSeqno()) {
            return Long.compareUnsigned(f1.seqno, f2.seqno) > 0;
        }
        return (int) ((int) f1.seqno - (int) f2.seqno) > 0;
    }

    /** isLaterOrSame - dma_fence_is_later_or_same. */
    public static boolean isLaterOrSame(DmaFence f1, DmaFence f2) {
        return f1 == f2 || isLater(f1, f2);
    }

    /** @return whether this is a container (array or chain): dma_fence_is_container. */
    public boolean isContainer() {
        return false;
    }

    /**
     * waitAnyTimeout - dma_fence_wait_any_timeout(fences, count, intr, timeout, idx): -EINVAL for no
     * fences or a negative timeout; with timeout 0, 1 and the index when any is signaled, else 0;
     * otherwise the jiffies left when the first signaled (its index in idx[0]), 0 on timeout.
     */
    public static long waitAnyTimeout(List<DmaFence> fences, boolean intr, long timeout, int[] idx) {
        if (fences == null || fences.isEmpty() || timeout < 0) {
            return Errno.EINVAL.negative();
        }
        for (int i = 0; i < fences.size(); i++) {
            if (fences.get(i).isSignaled()) {
                if (idx != null && idx.length > 0) {
                    idx[0] = i;
                }
                return timeout == 0 ? 1 : timeout;
            }
        }
        if (timeout == 0) {
            return 0;
        }
        Object wake = new Object();
        int[] first = {-1};
        List<Cb> handles = new ArrayList<>();
        for (int i = 0; i < fences.size(); i++) {
            final int n = i;
            Cb[] h = new Cb[1];
            int r = fences.get(i).addCallback(f -> {
                synchronized (wake) {
                    if (first[0] < 0) {
                        first[0] = n;
                    }
                    wake.notifyAll();
                }
            }, h);
            if (r != 0) {
                synchronized (wake) {
                    if (first[0] < 0) {
                        first[0] = n;
                    }
                }
            }
            handles.add(h[0]);
        }
        long deadline = timeout == MAX_SCHEDULE_TIMEOUT ? Long.MAX_VALUE
                : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout * 1000 / HZ);
        try {
            synchronized (wake) {
                while (first[0] < 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return 0;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(wake, left);
                    } catch (InterruptedException ex) {
                        if (intr) {
                            Thread.currentThread().interrupt();
                            return Errno.ERESTARTSYS.negative();
                        }
                    }
                }
                if (idx != null && idx.length > 0) {
                    idx[0] = first[0];
                }
            }
        } finally {
            for (int i = 0; i < handles.size(); i++) {
                fences.get(i).removeCallback(handles.get(i));
            }
        }
        if (timeout == MAX_SCHEDULE_TIMEOUT) {
            return MAX_SCHEDULE_TIMEOUT;
        }
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) * HZ / 1000);
    }

    @Override
    public String toString() {
        return String.format("fence %d:%d %s/%s %s", context, seqno, ops.driverName(this), ops.timelineName(this),
                signaled ? (error != 0 ? "signaled error " + error : "signaled") : "unsignaled");
    }
}
