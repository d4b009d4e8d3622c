package org.peerdma.dmabuf.fence;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * dma_fence_array (dma-fence-array.c): a fence that signals when all of its fences have (or, with
 * signalOnAny, the first one has); the first error seen becomes its error. It holds a reference to
 * each fence.
 */
public final class DmaFenceArray extends DmaFence {
    private final List<DmaFence> fences;
    private final boolean signalOnAny;
    private final AtomicInteger pending;

    private static final FenceOps OPS = new FenceOps() {
        @Override
        public String driverName(DmaFence f) {
            return "dma_fence_array";
        }

        @Override
        public String timelineName(DmaFence f) {
            return "unbound";
        }

        @Override
        public boolean enableSignaling(DmaFence f) {
            return ((DmaFenceArray) f).arm();
        }

        @Override
        public boolean signaled(DmaFence f) {
            return ((DmaFenceArray) f).pending.get() <= 0;
        }
    };

    /**
     * dma_fence_array_create(num, fences, context, seqno, signal_on_any). Errors: an empty list is a
     * driver bug (the kernel WARNs and returns NULL): IllegalArgumentException.
     */
    public DmaFenceArray(List<DmaFence> fences, long context, long seqno, boolean signalOnAny) {
        super(OPS, new Object(), context, seqno);
        if (fences == null || fences.isEmpty()) {
            throw new IllegalArgumentException("dma_fence_array_create with no fences");
        }
        this.fences = List.copyOf(fences);
        this.signalOnAny = signalOnAny;
        this.pending = new AtomicInteger(signalOnAny ? 1 : fences.size());
        for (DmaFence f : this.fences) {
            f.get();
        }
    }

    public List<DmaFence> fences() {
        return fences;
    }

    @Override
    public boolean isContainer() {
        return true;
    }

    /** dma_fence_array_enable_signaling: a callback on every fence; false when all are already done. */
    private boolean arm() {
        for (DmaFence f : fences) {
            int r = f.addCallback(this::oneSignaled);
            if (r != 0) {
                oneSignaled(f); // already signaled: count it now
            }
        }
        return pending.get() > 0;
    }

    private void oneSignaled(DmaFence f) {
        if (f.error() != 0 && error() == 0 && !isSignaled0()) {
            setError(f.error());
        }
        if (pending.decrementAndGet() == 0) {
            signal();
        }
    }

    private boolean isSignaled0() {
        return timestampNanos() != 0;
    }

    @Override
    public void put() {
        super.put();
        if (refcount() == 0) {
            for (DmaFence f : fences) {
                f.put();
            }
        }
    }
}
