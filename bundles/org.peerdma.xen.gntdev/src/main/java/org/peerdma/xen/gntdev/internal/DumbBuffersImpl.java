package org.peerdma.xen.gntdev.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.gntdev.DumbBuffers;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.mm.DomainPages;

/** Dumb buffers over DomainPages. */
@Component(service = DumbBuffers.class)
public class DumbBuffersImpl implements DumbBuffers {
    @Reference
    DmaBufCore core;
    @Reference
    DomainPages pages;

    public DumbBuffersImpl() {
    }

    /** For tests outside OSGi. */
    public DumbBuffersImpl(DmaBufCore core, DomainPages pages) {
        this.core = core;
        this.pages = pages;
    }

    @Override
    public int create(FdTable proc, int width, int height, int bpp) {
        if (width <= 0 || height <= 0 || (bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)) {
            return -Xen.EINVAL;
        }
        long size = (long) DumbBuffers.pitch(width, bpp) * height;
        long count = (size + Xen.PAGE_SIZE - 1) / Xen.PAGE_SIZE;
        if (count > Integer.MAX_VALUE) {
            return -Xen.EINVAL;
        }
        long[] gfns;
        try {
            gfns = pages.alloc((int) count, "dumb buffer");
        } catch (org.peerdma.xen.hv.XenError e) {
            return -e.errno(); // this domain is dying: its pages cannot be reached (ESRCH)
        }
        if (gfns == null) {
            return -Xen.ENOMEM;
        }
        Ops ops = new Ops(gfns);
        DmaBuf buf;
        try {
            buf = core.export(new ExportInfo("xen-front-dumb", ops, count * Xen.PAGE_SIZE, ops, null));
        } catch (KernelException e) {
            pages.free(gfns);
            return e.returnValue();
        }
        int fd = proc.fd(buf, 0x80000);
        if (fd < 0) {
            core.put(buf);
        }
        return fd;
    }

    @Override
    public long[] gfns(FdTable proc, int fd) {
        DmaBuf buf = proc.get(fd);
        try {
            if (!(buf.priv() instanceof Ops o)) {
                throw KernelException.einval("fd %d is not a dumb buffer (exporter %s)", fd, buf.exporter());
            }
            return o.gfns.clone();
        } finally {
            core.put(buf);
        }
    }

    final class Ops implements DmaBufOps {
        final long[] gfns;
        final List<ByteBuffer> mem = new ArrayList<>();

        Ops(long[] gfns) {
            this.gfns = gfns;
            for (long g : gfns) {
                mem.add(pages.page(g));
            }
        }

        /** dma-direct of a PV domain: the DMA address is the pseudo-physical address, a page per entry. */
        @Override
        public SgTable mapDmaBuf(DmaBufAttachment attach, DmaDirection dir) {
            List<SgEntry> sg = new ArrayList<>(gfns.length);
            for (long g : gfns) {
                long pa = g << Xen.PAGE_SHIFT;
                sg.add(new SgEntry(pa, Xen.PAGE_SIZE, pa, Xen.PAGE_SIZE));
            }
            return new SgTable(sg);
        }

        @Override
        public void unmapDmaBuf(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
            // direct: nothing to undo
        }

        @Override
        public void release(DmaBuf buf) {
            pages.free(gfns);
        }

        @Override
        public boolean hasVmap() {
            return true;
        }

        @Override
        public BufMap vmap(DmaBuf buf) {
            return BufMap.of(mem);
        }

        @Override
        public boolean hasMmap() {
            return true;
        }

        @Override
        public BufMap mmap(DmaBuf buf, long pgoff, long length, boolean shared) {
            if (!shared) {
                throw new KernelException(Errno.EINVAL, "dumb buffers are mapped shared");
            }
            return BufMap.of(mem).slice(pgoff * Xen.PAGE_SIZE, length);
        }
    }
}
