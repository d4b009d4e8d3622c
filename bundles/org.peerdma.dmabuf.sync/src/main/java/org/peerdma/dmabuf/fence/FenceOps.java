package org.peerdma.dmabuf.fence;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * struct dma_fence_ops. {@link #driverName} and {@link #timelineName} are mandatory (dma_fence_init
 * BUGs without them); the rest are optional with the kernel's defaults.
 */
@ConsumerType
public interface FenceOps {
    String driverName(DmaFence f);

    String timelineName(DmaFence f);

    /** enable_signaling: false means the fence is already signaled (it is then signaled at once). */
    default boolean enableSignaling(DmaFence f) {
        return true;
    }

    /** signaled: a peek at the hardware; true makes dma_fence_is_signaled signal the fence. */
    default boolean signaled(DmaFence f) {
        return false;
    }

    /** @return whether {@link #waitTimeout} is implemented (ops->wait is set). */
    default boolean hasWait() {
        return false;
    }

    /** wait: ops->wait replacing dma_fence_default_wait. */
    default long waitTimeout(DmaFence f, boolean intr, long timeout) {
        throw new IllegalStateException("ops->wait called but not provided");
    }

    /** use_64bit_seqno: compare seqnos as 64-bit numbers. */
    default boolean use64bitSeqno() {
        return false;
    }

    /** release: the last reference was dropped. */
    default void release(DmaFence f) {
    }
}
