package org.peerdma.xen.displ.internal;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.imageio.ImageIO;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.displ.DisplBack;
import org.peerdma.xen.displ.DisplFront;
import org.peerdma.xen.gntdev.Displif;
import org.peerdma.xen.gntdev.DumbBuffers;
import org.peerdma.xen.gntdev.Gntdev;
import org.peerdma.xen.gntdev.GntdevFile;
import org.peerdma.xen.gntdev.PageDirectory;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;
import org.peerdma.xen.hv.XsWatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The backend (displ_be's role) in dom0. */
@Component(service = DisplBack.class)
public class DisplBackImpl implements DisplBack {
    private static final Logger LOG = LoggerFactory.getLogger("xen:displ_be");

    @Reference
    Hypercalls hv;
    @Reference
    Gntdev gntdev;
    @Reference
    PageDirectory dir;
    @Reference
    DmaBufCore core;

    private FdTable proc;
    private GntdevFile file;
    private final Map<Integer, Front> fronts = new ConcurrentHashMap<>();

    private final class Front {
        final int domid;
        final int width;
        final int height;
        final int pitch;
        final int fd;
        final int port;
        final XsWatch watch;
        volatile int frame;
        volatile int events;
        volatile boolean lost;
        volatile String why = "";

        Front(int domid, int width, int height, int fd, int port, XsWatch watch) {
            this.domid = domid;
            this.width = width;
            this.height = height;
            this.pitch = DumbBuffers.pitch(width, 32);
            this.fd = fd;
            this.port = port;
            this.watch = watch;
        }

        Status status() {
            return new Status(domid, width, height, frame, events, lost, why);
        }
    }

    public DisplBackImpl() {
    }

    /** For tests outside OSGi. */
    public DisplBackImpl(Hypercalls hv, Gntdev gntdev, PageDirectory dir, DmaBufCore core) {
        this.hv = hv;
        this.gntdev = gntdev;
        this.dir = dir;
        this.core = core;
        activate();
    }

    @Activate
    void activate() {
        proc = core.fdTable("displ_be");
        file = gntdev.open(proc);
    }

    @Deactivate
    void deactivate() {
        for (int d : List.copyOf(fronts.keySet())) {
            detach(d);
        }
        file.close();
    }

    private static String base(int fe) {
        return "/local/domain/" + fe + "/" + DisplFront.DIR;
    }

    private int readInt(int fe, String key) {
        String v;
        try {
            v = hv.xsRead(base(fe) + "/" + key);
        } catch (XenError e) {
            if (e.errno() == Xen.ENOENT) {
                throw new KernelException(Errno.ENOENT, "d" + fe + " has not published a display (" + key + " missing)");
            }
            throw new KernelException(Errno.of(e.errno()).orElse(Errno.EIO), e.getMessage());
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw KernelException.einval("d%d's %s is '%s', not a number", fe, key, v);
        }
    }

    @Override
    public synchronized Status attach(int fe) {
        if (fronts.containsKey(fe)) {
            throw new KernelException(Errno.EBUSY, "the display of d" + fe + " is already attached");
        }
        int w = readInt(fe, "width");
        int h = readInt(fe, "height");
        int bpp = readInt(fe, "bpp");
        int size = readInt(fe, "buffer-size");
        int gref = readInt(fe, "gref-directory");
        int evtchn = readInt(fe, "evtchn");
        if (bpp != 32 || w < 1 || h < 1 || size < (long) DumbBuffers.pitch(w, 32) * h) {
            throw KernelException.einval("d%d's display: %dx%d@%d in %d bytes is inconsistent", fe, w, h, bpp, size);
        }
        int[] refs = dir.read(fe, gref, Displif.dataPages(size));
        int fd = file.expFromRefs(0, fe, refs);
        if (fd < 0) {
            throw new KernelException(Errno.EIO, "d" + fe + "'s framebuffer grants do not map (" + fd + ")");
        }
        int port = hv.evtchnBindInterdomain(fe, evtchn);
        if (port < 0) {
            proc.close(fd);
            throw KernelException.einval("d%d's event channel %d cannot be bound (%d)", fe, evtchn, port);
        }
        XsWatch[] w0 = new XsWatch[1];
        Front[] holder = new Front[1];
        w0[0] = hv.xsWatch("@releaseDomain", "displ-d" + fe, (p, t) -> {
            Front f = holder[0];
            if (f != null && !f.lost && !alive(fe)) {
                lose(f, "the frontend domain d" + fe + " is gone (crashed or destroyed)");
            }
        });
        Front f = new Front(fe, w, h, fd, port, w0[0]);
        f.frame = readInt(fe, "frame"); // frames drawn before the backend came
        holder[0] = f;
        hv.evtchnHandler(port, p -> {
            f.events++;
            try {
                f.frame = readInt(fe, "frame");
            } catch (KernelException e) {
                LOG.debug("d{}: frame: {}", fe, e.getMessage());
            }
        });
        fronts.put(fe, f);
        hv.xsWrite("/local/domain/" + hv.domid() + "/backend/vdispl/" + fe + "/0/state", "4");
        LOG.info("d{}: display {}x{} attached: {} pages, no copy", fe, w, h, refs.length);
        return f.status();
    }

    private boolean alive(int fe) {
        try {
            hv.xsRead("/local/domain/" + fe + "/domid");
            return true;
        } catch (XenError e) {
            return false;
        }
    }

    /** The frontend died: give its pages back at once so the hypervisor can reclaim them; refuse reads. */
    private void lose(Front f, String why) {
        synchronized (this) {
            if (f.lost) {
                return;
            }
            f.lost = true;
            f.why = why;
            proc.close(f.fd);
            f.watch.close();
        }
        LOG.warn("display of d{} lost: {}", f.domid, why);
    }

    private Front front(int fe) {
        Front f = fronts.get(fe);
        if (f == null) {
            throw new KernelException(Errno.ENOENT, "no display of d" + fe + " attached");
        }
        return f;
    }

    @Override
    public Status status(int fe) {
        return front(fe).status();
    }

    @Override
    public List<Status> list() {
        List<Status> out = new ArrayList<>();
        fronts.values().forEach(f -> out.add(f.status()));
        out.sort((a, b) -> Integer.compare(a.domid(), b.domid()));
        return out;
    }

    @Override
    public int[] pixels(int fe) {
        synchronized (this) {
            Front f = front(fe);
            if (f.lost) {
                throw new KernelException(Errno.ENODEV, "display of d" + fe + " lost: " + f.why);
            }
            DmaBuf buf = proc.get(f.fd);
            try {
                BufMap m = core.vmapUnlocked(buf);
                try {
                    int[] px = new int[f.width * f.height];
                    for (int y = 0; y < f.height; y++) {
                        long row = (long) y * f.pitch;
                        for (int x = 0; x < f.width; x++) {
                            px[y * f.width + x] = m.getInt(row + x * 4L) | 0xff000000;
                        }
                    }
                    return px;
                } finally {
                    core.vunmapUnlocked(buf, m);
                }
            } finally {
                core.put(buf);
            }
        }
    }

    @Override
    public void writePng(int fe, Path out) {
        Front f = front(fe);
        int[] px = pixels(fe);
        BufferedImage img = new BufferedImage(f.width, f.height, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, f.width, f.height, px, 0, f.width);
        try (java.io.OutputStream os = java.nio.file.Files.newOutputStream(out)) {
            if (!ImageIO.write(img, "png", os)) {
                throw new KernelException(Errno.EIO, "no PNG writer in this JVM");
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new KernelException(Errno.ENOENT, out + ": no such file or directory");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new KernelException(Errno.EACCES, out + ": permission denied");
        } catch (java.nio.file.FileSystemException e) {
            String why = String.valueOf(e.getReason());
            throw new KernelException(why.contains("Is a directory") ? Errno.EISDIR
                    : why.contains("Not a directory") ? Errno.ENOTDIR : Errno.EIO, out + ": " + why);
        } catch (IOException e) {
            throw new KernelException(Errno.EIO, out + ": " + e.getMessage());
        }
    }

    @Override
    public synchronized void detach(int fe) {
        Front f = fronts.remove(fe);
        if (f == null) {
            throw new KernelException(Errno.ENOENT, "no display of d" + fe + " attached");
        }
        if (!f.lost) {
            f.watch.close();
            proc.close(f.fd);
        }
        try {
            hv.evtchnClose(f.port);
        } catch (XenError e) {
            LOG.debug("d{}: {}", fe, e.getMessage());
        }
    }
}
