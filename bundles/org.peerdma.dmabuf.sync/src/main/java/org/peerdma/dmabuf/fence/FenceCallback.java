package org.peerdma.dmabuf.fence;

/** A struct dma_fence_cb: called once, in the signaling thread, when the fence signals. */
@FunctionalInterface
public interface FenceCallback {
    void signaled(DmaFence fence);
}
