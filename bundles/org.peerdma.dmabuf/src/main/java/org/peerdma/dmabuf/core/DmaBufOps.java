package org.peerdma.dmabuf.core;


import org.osgi.annotation.versioning.ConsumerType;
import org.peerdma.dma.DmaDirection;

/**
 * struct dma_buf_ops, implemented by exporters. Mandatory: {@link #mapDmaBuf}, {@link #unmapDmaBuf},
 * {@link #release} (dma_buf_export refuses ops without them, and ops with only one of pin/unpin).
 * Optional ones report whether they exist with the {@code has*} methods (a NULL op in C).
 */
@ConsumerType
public interface DmaBufOps {
    /** attach (optional): return 0 or a negative errno; may clear attach.peer2peer. */
    default int attach(DmaBuf buf, DmaBufAttachment attach) {
        return 0;
    }

    /** detach (optional). */
    default void detach(DmaBuf buf, DmaBufAttachment attach) {
    }

    /** @return whether pin/unpin exist (a dynamic exporter). */
    default boolean hasPin() {
        return false;
    }

    /** @return whether unpin exists; must equal {@link #hasPin()}. */
    default boolean hasUnpin() {
        return hasPin();
    }

    /** pin (optional, with unpin): keep the buffer where it is while a static importer maps it. */
    default int pin(DmaBufAttachment attach) {
        return 0;
    }

    default void unpin(DmaBufAttachment attach) {
    }

    /** map_dma_buf (mandatory): the buffer mapped for attach's device, or null (ENOMEM). */
    SgTable mapDmaBuf(DmaBufAttachment attach, DmaDirection dir);

    /** unmap_dma_buf (mandatory). */
    void unmapDmaBuf(DmaBufAttachment attach, SgTable sgt, DmaDirection dir);

    /** release (mandatory): the last reference is gone. */
    void release(DmaBuf buf);

    /** begin_cpu_access (optional): 0 or a negative errno. */
    default int beginCpuAccess(DmaBuf buf, DmaDirection dir) {
        return 0;
    }

    default int endCpuAccess(DmaBuf buf, DmaDirection dir) {
        return 0;
    }

    /** @return whether mmap exists. */
    default boolean hasMmap() {
        return false;
    }

    /**
     * mmap (optional): the bytes from page pgoff on, for a user mapping; {@code shared} is
     * VM_SHARED|VM_MAYSHARE. Errors: KernelException with the exporter's errno.
     */
    default BufMap mmap(DmaBuf buf, long pgoff, long length, boolean shared) {
        throw new IllegalStateException("mmap called on an exporter without it");
    }

    /** @return whether vmap exists. */
    default boolean hasVmap() {
        return false;
    }

    /** vmap (optional): a kernel mapping of the whole buffer, or null on failure. */
    default BufMap vmap(DmaBuf buf) {
        return null;
    }

    default void vunmap(DmaBuf buf, BufMap map) {
    }
}
