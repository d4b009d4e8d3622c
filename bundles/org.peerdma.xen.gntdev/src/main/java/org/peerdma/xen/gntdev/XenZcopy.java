package org.peerdma.xen.gntdev;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.FdTable;

/**
 * The xen-zcopy RFC's DRM helper ioctls (include/uapi/drm/xen_zcopy_drm.h), on the gntdev dma-buf
 * machinery that replaced it. GEM handles are the process's dma-buf fds here.
 */
@ProviderType
public interface XenZcopy {
    /**
     * @param handle the new buffer's fd in the process
     * @param waitHandle what DUMB_WAIT_FREE waits on
     */
    record Dumb(int handle, int waitHandle) {
    }

    /**
     * dumbFromRefs - DRM_XEN_ZCOPY_DUMB_FROM_REFS: a dumb buffer of {@code width x height x bpp}
     * made of the {@code grefs} of domain {@code otherendId}. Return: the buffer, or null with
     * {@link #lastError(FdTable)}: -EINVAL when the count is 0, above gntdev's limit, or not the
     * dumb buffer's page count, or a grant does not map.
     */
    Dumb dumbFromRefs(FdTable proc, int otherendId, int[] grefs, int width, int height, int bpp);

    /**
     * dumbToRefs - DRM_XEN_ZCOPY_DUMB_TO_REFS: grant the pages of buffer {@code handle} to
     * {@code otherendId}; refs into {@code grefsOut}. Return: 0 or IMP_TO_REFS's errors.
     */
    int dumbToRefs(FdTable proc, int handle, int otherendId, int[] grefsOut);

    /** dumbWaitFree - DRM_XEN_ZCOPY_DUMB_WAIT_FREE. Return: 0, -ENOENT (unknown or already freed), -ETIMEDOUT. */
    int dumbWaitFree(FdTable proc, int waitHandle, int waitToMs);

    /** @return the error of the last call of this process that returned null. */
    int lastError(FdTable proc);
}
