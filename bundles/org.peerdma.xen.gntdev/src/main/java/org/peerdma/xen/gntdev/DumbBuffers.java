package org.peerdma.xen.gntdev;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.FdTable;

/**
 * DRM dumb buffers of a PV display frontend (DRM_IOCTL_MODE_CREATE_DUMB + PRIME export): dma-bufs
 * made of the domain's own pages, so their pages can be granted (IMP_TO_REFS, the page
 * directory). Mapped for a device they give pseudo-physical addresses (a PV domain without an
 * IOMMU: dma-direct, DMA address = gfn &lt;&lt; 12).
 */
@ProviderType
public interface DumbBuffers {
    /**
     * create - a buffer of {@code height} rows of {@code width * bpp/8} bytes (pitch rounded up
     * to 64 bytes, size to pages), exported as an fd of {@code proc}. Return: the fd; -EINVAL for
     * a zero or negative size or bpp not 8/16/24/32; -ENOMEM when the domain has too few free pages; -ESRCH
     * when the domain is dying.
     */
    int create(FdTable proc, int width, int height, int bpp);

    /** @return the gfns of the buffer behind {@code fd}, in order. Errors: EBADF, EINVAL (not a dumb buffer). */
    long[] gfns(FdTable proc, int fd);

    /** @return pitch in bytes for width and bpp. */
    static int pitch(int width, int bpp) {
        return ((width * ((bpp + 7) / 8)) + 63) & ~63;
    }
}
