package org.peerdma.xen.displ.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.displ.DisplFront;
import org.peerdma.xen.gntdev.DumbBuffers;
import org.peerdma.xen.gntdev.PageDirectory;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.XenError;

/** The frontend driver of this domain. */
@Component(service = DisplFront.class)
public class DisplFrontImpl implements DisplFront {
    @Reference
    Hypercalls hv;
    @Reference
    DumbBuffers dumb;
    @Reference
    PageDirectory dir;
    @Reference
    DmaBufCore core;

    private FdTable proc;
    private int fd = -1;
    private PageDirectory.Shared shared;
    private BufMap fb;
    private int port;
    private int width;
    private int height;
    private int pitch;
    private int frames;

    public DisplFrontImpl() {
    }

    /** For tests outside OSGi. */
    public DisplFrontImpl(Hypercalls hv, DumbBuffers dumb, PageDirectory dir, DmaBufCore core) {
        this.hv = hv;
        this.dumb = dumb;
        this.dir = dir;
        this.core = core;
        activate();
    }

    @Activate
    void activate() {
        proc = core.fdTable("xen-drm-front");
    }

    private String base() {
        return "/local/domain/" + hv.domid() + "/" + DIR;
    }

    @Override
    public synchronized void connect(int backendDomid, int w, int h) {
        if (fd >= 0) {
            throw new KernelException(Errno.EBUSY, "the display is already connected");
        }
        if (w < 1 || h < 1 || w > 8192 || h > 8192) {
            throw KernelException.einval("mode %dx%d: 1..8192 each way", w, h);
        }
        int f = dumb.create(proc, w, h, 32);
        if (f < 0) {
            throw new KernelException(Errno.of(-f).orElse(Errno.EIO), "framebuffer " + w + "x" + h + ": no buffer");
        }
        try {
            PageDirectory.Shared s = dir.share(backendDomid, dumb.gfns(proc, f), false);
            int p = hv.evtchnAllocUnbound(backendDomid);
            if (p < 0) {
                s.close();
                throw new KernelException(Errno.of(-p).orElse(Errno.EIO), "no event channel to d" + backendDomid);
            }
            fd = f;
            shared = s;
            port = p;
            width = w;
            height = h;
            pitch = DumbBuffers.pitch(w, 32);
            org.peerdma.dmabuf.core.DmaBuf fbBuf = proc.get(f);
            long size = fbBuf.size();
            core.put(fbBuf);
            fb = proc.mmap(f, 0, size);
            frames = 0;
            String b = base();
            hv.xsWrite(b + "/backend-id", Integer.toString(backendDomid));
            hv.xsWrite(b + "/width", Integer.toString(w));
            hv.xsWrite(b + "/height", Integer.toString(h));
            hv.xsWrite(b + "/bpp", "32");
            hv.xsWrite(b + "/buffer-size", Long.toString((long) pitch * h));
            hv.xsWrite(b + "/gref-directory", Integer.toString(s.firstRef()));
            hv.xsWrite(b + "/evtchn", Integer.toString(p));
            hv.xsWrite(b + "/frame", "0");
            hv.xsWrite(b + "/state", "3");
        } catch (KernelException | XenError e) {
            if (fd < 0) {
                proc.close(f);
            }
            throw e instanceof XenError x ? new KernelException(Errno.of(x.errno()).orElse(Errno.EIO), x.getMessage()) : (KernelException) e;
        }
    }

    @Override
    public synchronized void render(int n) {
        if (fd < 0) {
            throw KernelException.einval("the display is not connected");
        }
        int sq = Math.min(16, Math.min(width, height));
        int sx = (n * 8) % Math.max(1, width - sq + 1);
        int sy = (height - sq) / 2;
        for (int y = 0; y < height; y++) {
            long row = (long) y * pitch;
            for (int x = 0; x < width; x++) {
                int px;
                if (x >= sx && x < sx + sq && y >= sy && y < sy + sq) {
                    px = 0xffffffff;
                } else {
                    px = 0xff000000 | ((x + n * 4) & 0xff) << 16 | ((y + n * 2) & 0xff) << 8 | ((n * 16) & 0xff);
                }
                fb.putInt(row + x * 4L, px); // XRGB8888, little-endian
            }
        }
        frames++;
        hv.xsWrite(base() + "/frame", Integer.toString(n));
        hv.evtchnSend(port);
    }

    @Override
    public synchronized int frames() {
        return frames;
    }

    @Override
    public synchronized boolean connected() {
        return fd >= 0;
    }

    @Override
    @Deactivate
    public synchronized void disconnect() {
        if (fd < 0) {
            return;
        }
        try {
            hv.xsWrite(base() + "/state", "6");
            hv.evtchnClose(port);
        } catch (XenError e) {
            // dying: nothing to tell
        }
        shared.close();
        proc.close(fd);
        fd = -1;
        fb = null;
    }
}
