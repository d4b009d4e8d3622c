package org.peerdma.xen.gntdev;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.BufMap;

/**
 * An open gntdev file. Results are the ioctls': a positive value or 0 on success, -errno on
 * failure, nothing taken then. Every ioctl also fails with -EBADF once the file is closed (an ioctl
 * in flight when it closes completes, and the release undoes what it made), and with the
 * hypercall's -ESRCH when this domain is dying.
 */
@ProviderType
public interface GntdevFile extends AutoCloseable {
    /**
     * mapGrantRefs - IOCTL_GNTDEV_MAP_GRANT_REF and mmap: the pages {@code domid} granted, mapped
     * into this process. Return: a mapping, null with the error in {@link #lastError()}: -EINVAL for
     * count 0 or above the limit, or a grant that does not map (GNTST status logged; nothing stays
     * mapped).
     */
    GrantPages mapGrantRefs(int domid, int[] refs, boolean readonly);

    /**
     * expFromRefs - IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS: a dma-buf of {@code refs.length} pages that
     * {@code domid} granted, mapped GNTMAP_host_map, exported through an O_CLOEXEC fd of this
     * process. Return: the fd; -EINVAL for count 0 or above the limit, WC together with COHERENT,
     * or a grant that does not map (nothing stays mapped); -ENOMEM. Other flag bits are ignored,
     * as gntdev ignores them.
     */
    int expFromRefs(int flags, int domid, int[] refs);

    /**
     * expWaitReleased - IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED: wait until the buffer exported as
     * {@code fd} is released (its pages unmapped). Return: 0; -ENOENT when no export has that fd
     * (already released, or a wrong fd: not an error for callers); -ETIMEDOUT.
     */
    int expWaitReleased(int fd, int waitToMs);

    /**
     * impToRefs - IOCTL_GNTDEV_DMABUF_IMP_TO_REFS: grant the pages of the local dma-buf {@code fd}
     * to {@code domid} (read-write), refs written to {@code refsOut} (its length is the count).
     * Return: 0; -EBADF/-EINVAL for a bad fd; -EINVAL when count is 0, above the limit, or the
     * buffer is not count pages or not page aligned; -ENOSPC when grant refs run out; the map's
     * error when the exporter cannot map for gntdev.
     */
    int impToRefs(int fd, int domid, int[] refsOut);

    /**
     * impRelease - IOCTL_GNTDEV_DMABUF_IMP_RELEASE of the newest import of {@code fd} (a buffer imported
     * twice is two imports, released one per call, as on gntdev-dmabuf.c's imp_list): end foreign access
     * to every ref (deferred for refs still mapped), unmap, detach, put the dma-buf. Return: 0 or -ENOENT.
     */
    int impRelease(int fd);

    /** @return the error of the last call that returned null. */
    int lastError();

    /** @return fds of live exports / imports of this file, newest first (an fd imported twice is listed twice). */
    List<Integer> exports();

    List<Integer> imports();

    /**
     * close - release the file: its imports are released; exports live on (each holds the file)
     * until their dma-bufs are released.
     */
    @Override
    void close();

    /** A grant mapping made through this file. */
    interface GrantPages extends AutoCloseable {
        /** @return the granted pages as one mapping (the granter's frames themselves). */
        BufMap memory();

        int count();

        /** close - IOCTL_GNTDEV_UNMAP_GRANT_REF. */
        @Override
        void close();
    }
}
