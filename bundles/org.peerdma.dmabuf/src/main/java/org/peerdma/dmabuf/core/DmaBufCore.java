package org.peerdma.dmabuf.core;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dma.DmaDirection;
import org.peerdma.p2pdma.DeviceNode;

/**
 * The dma-buf core. Errors from object-returning calls are KernelExceptions with the kernel's errno;
 * int-returning calls return 0 or the negative errno, as the kernel does.
 */
@ProviderType
public interface DmaBufCore {
    long DMA_BUF_SYNC_READ = 1;
    long DMA_BUF_SYNC_WRITE = 2;
    long DMA_BUF_SYNC_RW = 3;
    long DMA_BUF_SYNC_START = 0;
    long DMA_BUF_SYNC_END = 4;
    /** _IOW('b', 0, struct dma_buf_sync). */
    long DMA_BUF_IOCTL_SYNC = 0x40086200L;
    /** _IOW('b', 1, u64): DMA_BUF_SET_NAME_B. */
    long DMA_BUF_SET_NAME = 0x40086201L;
    /** DMA_BUF_NAME_LEN. */
    int NAME_LEN = 32;
    int SEEK_SET = 0;
    int SEEK_CUR = 1;
    int SEEK_END = 2;

    /**
     * export - dma_buf_export. Errors: EINVAL (a WARN in the kernel) when priv, ops, map_dma_buf,
     * unmap_dma_buf or release is missing, or exactly one of pin/unpin is given; EINVAL for a size that
     * is not positive.
     */
    DmaBuf export(ExportInfo info);

    /** get - get_dma_buf: one more reference. */
    void get(DmaBuf buf);

    /** put - dma_buf_put (fput); the last one calls ops.release (a WARN if attachments remain). */
    void put(DmaBuf buf);

    /** A process's file descriptor table. */
    FdTable fdTable(String owner);

    /**
     * attach - dma_buf_dynamic_attach(buf, dev, importerOps, priv); importerOps null is
     * dma_buf_attach (static). Errors: EINVAL for a null buffer or device, or importer ops without
     * move_notify; the exporter's attach error.
     */
    DmaBufAttachment attach(DmaBuf buf, DeviceNode dev, ImporterOps importerOps, Object priv);

    /** detach - dma_buf_detach: unmaps a mapping it still holds, calls ops.detach. */
    void detach(DmaBufAttachment attach);

    /**
     * mapAttachment - dma_buf_map_attachment: needs the resv lock. A static importer of a pinning
     * exporter pins first (error returned, EBUSY warned); a null map is ENOMEM; a static importer then
     * waits for the KERNEL fences (interruptible). Errors as KernelException.
     */
    SgTable mapAttachment(DmaBufAttachment attach, DmaDirection dir);

    /** mapAttachmentUnlocked - the _unlocked variant: takes and drops the resv lock itself. */
    SgTable mapAttachmentUnlocked(DmaBufAttachment attach, DmaDirection dir);

    /** unmapAttachment - needs the resv lock; unpins under the same condition as map. */
    void unmapAttachment(DmaBufAttachment attach, SgTable sgt, DmaDirection dir);

    void unmapAttachmentUnlocked(DmaBufAttachment attach, SgTable sgt, DmaDirection dir);

    /** pin - dma_buf_pin: dynamic attachments only (a WARN otherwise), lock held; 0 without an op. */
    int pin(DmaBufAttachment attach);

    void unpin(DmaBufAttachment attach);

    /** moveNotify - dma_buf_move_notify: the exporter (lock held) tells every dynamic importer. */
    void moveNotify(DmaBuf buf);

    /**
     * beginCpuAccess - dma_buf_begin_cpu_access: the exporter's op, then (if it returned 0) an
     * interruptible wait for the fences a CPU access of that direction must wait for.
     */
    int beginCpuAccess(DmaBuf buf, DmaDirection dir);

    int endCpuAccess(DmaBuf buf, DmaDirection dir);

    /**
     * vmap - dma_buf_vmap: lock held; EINVAL without ops.vmap; the first call maps (counter 1), later
     * ones return the same map and count.
     */
    BufMap vmap(DmaBuf buf);

    /**
     * vunmap - the kernel BUGs on a zero counter or a different map (compared by identity: pass the
     * object vmap returned); the op runs at 0.
     */
    void vunmap(DmaBuf buf, BufMap map);

    /** vmapUnlocked - dma_buf_vmap_unlocked: takes and drops the reservation lock itself. */
    default BufMap vmapUnlocked(DmaBuf buf) {
        buf.resv().lock();
        try {
            return vmap(buf);
        } finally {
            buf.resv().unlock();
        }
    }

    /**
     * readBytes - {@code len} bytes at {@code off} through a kernel mapping (vmap, copy, vunmap), as a
     * driver or a debug tool reads a buffer. Errors: EINVAL for a range outside the buffer (checked
     * before anything is allocated); ENOMEM for more than Integer.MAX_VALUE - 8 bytes (kvmalloc's
     * INT_MAX limit), or when the copy cannot be allocated; vmap's errors.
     */
    default byte[] readBytes(DmaBuf buf, long off, long len) {
        checkRange(buf, off, len);
        byte[] out = allocateCopy(len);
        BufMap m = vmapUnlocked(buf);
        try {
            m.read(off, out);
        } finally {
            vunmapUnlocked(buf, m);
        }
        return out;
    }

    /** writeBytes - the bytes at {@code off} through a kernel mapping. Errors as readBytes. */
    default void writeBytes(DmaBuf buf, long off, byte[] data) {
        checkRange(buf, off, data.length);
        BufMap m = vmapUnlocked(buf);
        try {
            m.write(off, data);
        } finally {
            vunmapUnlocked(buf, m);
        }
    }

    /**
     * allocateCopy - room for a copy of {@code len} bytes (len checked non-negative by the caller), as
     * kvmalloc(len) gives it to a driver copying a buffer out: kvmalloc refuses any size over INT_MAX
     * ("Don't even allow crazy sizes": a WARN and NULL, so -ENOMEM), and a Java array stops a few bytes
     * short of Integer.MAX_VALUE, so the limit is Integer.MAX_VALUE - 8. ENOMEM rather than EINVAL
     * because the range asked for is valid: what fails is the allocation. The length is never cut to
     * 32 bits, and memory the JVM does not have for this one array is ENOMEM too.
     */
    private static byte[] allocateCopy(long len) {
        if (len > Integer.MAX_VALUE - 8) {
            throw new org.peerdma.errno.KernelException(org.peerdma.errno.Errno.ENOMEM, String.format(
                    "cannot allocate a copy of %d bytes (at most %d at once, as kvmalloc)", len, Integer.MAX_VALUE - 8));
        }
        try {
            return new byte[(int) len];
        } catch (OutOfMemoryError e) {
            throw new org.peerdma.errno.KernelException(org.peerdma.errno.Errno.ENOMEM,
                    "cannot allocate a copy of " + len + " bytes");
        }
    }

    private static void checkRange(DmaBuf buf, long off, long len) {
        if (off < 0 || len < 0 || off > buf.size() || len > buf.size() - off) {
            throw org.peerdma.errno.KernelException.einval("%d bytes at %d is outside the %d-byte buffer", len, off,
                    buf.size());
        }
    }

    /** vunmapUnlocked - dma_buf_vunmap_unlocked. */
    default void vunmapUnlocked(DmaBuf buf, BufMap map) {
        buf.resv().lock();
        try {
            vunmap(buf, map);
        } finally {
            buf.resv().unlock();
        }
    }

    /** @return every live dma-buf (the kernel's global list). */
    List<DmaBuf> buffers();
}
