package org.peerdma.xen.gntdev.shell;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.gntdev.Displif;
import org.peerdma.xen.gntdev.DumbBuffers;
import org.peerdma.xen.gntdev.Gntdev;
import org.peerdma.xen.gntdev.GntdevFile;
import org.peerdma.xen.gntdev.PageDirectory;

/**
 * gntdev from a domain's shell (dom0's, or a guest's through xl:exec). The shell is one process
 * with one open gntdev file; its fds and shared directories live until closed or the module stops.
 */
@Component(service = GntdevCommands.class, immediate = true, property = {"osgi.command.scope=gntdev",
    "osgi.command.function=dumb", "osgi.command.function=torefs", "osgi.command.function=share",
    "osgi.command.function=unshare", "osgi.command.function=fromrefs", "osgi.command.function=fromdir",
    "osgi.command.function=waitrel", "osgi.command.function=imprelease", "osgi.command.function=write",
    "osgi.command.function=read", "osgi.command.function=close", "osgi.command.function=status"})
public class GntdevCommands {
    @Reference
    DmaBufCore core;
    @Reference
    Gntdev gntdev;
    @Reference
    DumbBuffers dumb;
    @Reference
    PageDirectory dir;

    private FdTable proc;
    private GntdevFile file;
    private final List<Integer> fds = new ArrayList<>();
    private final Map<Integer, PageDirectory.Shared> shared = new TreeMap<>();

    @Activate
    void activate() {
        proc = core.fdTable("gogo-gntdev");
        file = gntdev.open(proc);
    }

    @Deactivate
    synchronized void deactivate() {
        shared.values().forEach(PageDirectory.Shared::close);
        file.close();
        for (int fd : fds) {
            proc.close(fd);
        }
    }

    private static int check(int r, String what) {
        return (int) KernelException.check(r, what);
    }

    @Descriptor("create a dumb buffer of this domain's own pages (a PV display frontend's framebuffer); prints its fd")
    public synchronized String dumb(@Descriptor("width") int w, @Descriptor("height") int h, @Descriptor("bpp") int bpp) {
        int fd = check(dumb.create(proc, w, h, bpp), "DRM_IOCTL_MODE_CREATE_DUMB");
        fds.add(fd);
        return String.format("fd %d: %dx%d@%d, %d pages", fd, w, h, bpp, proc.get(fd).size() / 4096);
    }

    @Descriptor("IOCTL_GNTDEV_DMABUF_IMP_TO_REFS: grant a dma-buf's pages to a domain; prints the refs")
    public synchronized String torefs(@Descriptor("fd") int fd, @Descriptor("grantee domid") int domid) {
        DmaBuf b = proc.get(fd);
        int count = (int) (b.size() / 4096);
        core.put(b);
        int[] refs = new int[count];
        check(file.impToRefs(fd, domid, refs), "IMP_TO_REFS");
        return "refs " + Arrays.stream(refs).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }

    @Descriptor("share a dumb buffer through a displif page directory; prints the one ref to hand over")
    public synchronized String share(@Descriptor("fd") int fd, @Descriptor("backend domid") int domid) {
        long[] gfns = dumb.gfns(proc, fd);
        PageDirectory.Shared s = dir.share(domid, gfns, false);
        shared.put(s.firstRef(), s);
        return String.format("gref_directory %d: %d data pages behind %d directory page(s)", s.firstRef(), gfns.length,
                Displif.dirPages(gfns.length));
    }

    @Descriptor("end a page-directory share (deferred while the backend still maps its pages)")
    public synchronized String unshare(@Descriptor("gref_directory") int ref) {
        PageDirectory.Shared s = shared.remove(ref);
        if (s == null) {
            throw KernelException.einval("no share with directory ref %d", ref);
        }
        s.close();
        return "share " + ref + " ended";
    }

    @Descriptor("IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS: a dma-buf of another domain's granted pages; prints the fd")
    public synchronized String fromrefs(@Descriptor("granting domid") int domid, @Descriptor("refs") int... refs) {
        int fd = check(file.expFromRefs(0, domid, refs), "EXP_FROM_REFS");
        fds.add(fd);
        return "fd " + fd + ": " + refs.length + " pages of d" + domid;
    }

    @Descriptor("walk a page directory and export the buffer behind it (what a display backend does); prints the fd")
    public synchronized String fromdir(@Descriptor("granting domid") int domid, @Descriptor("gref_directory") int ref,
            @Descriptor("buffer size in bytes") long size) {
        int[] refs = dir.read(domid, ref, Displif.dataPages(size));
        return fromrefs(domid, refs);
    }

    @Descriptor("IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED")
    public String waitrel(@Descriptor("fd") int fd, @Descriptor("ms") int ms) {
        int r = file.expWaitReleased(fd, ms);
        return r == 0 ? "released" : Errno.of(-r).map(Enum::name).orElse(Integer.toString(r));
    }

    @Descriptor("IOCTL_GNTDEV_DMABUF_IMP_RELEASE")
    public synchronized String imprelease(@Descriptor("fd") int fd) {
        check(file.impRelease(fd), "IMP_RELEASE");
        return "fd " + fd + " released";
    }

    @Descriptor("write text into a buffer (through its mapping)")
    public synchronized String write(@Descriptor("fd") int fd, @Descriptor("offset") long off, @Descriptor("text") String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        DmaBuf buf = proc.get(fd);
        try {
            core.writeBytes(buf, off, b);
        } finally {
            core.put(buf);
        }
        return b.length + " bytes at " + off;
    }

    @Descriptor("read text from a buffer (through its mapping)")
    public synchronized String read(@Descriptor("fd") int fd, @Descriptor("offset") long off, @Descriptor("bytes") int len) {
        DmaBuf buf = proc.get(fd);
        try {
            return new String(core.readBytes(buf, off, len), StandardCharsets.UTF_8);
        } finally {
            core.put(buf);
        }
    }

    @Descriptor("close a shell fd")
    public synchronized String close(@Descriptor("fd") int fd) {
        if (!fds.remove((Integer) fd)) {
            throw new KernelException(Errno.EBADF, "fd " + fd + " is not open in this shell");
        }
        check(proc.close(fd), "close");
        return "fd " + fd + " closed";
    }

    @Descriptor("this shell's gntdev state: fds, exports, imports, shares")
    public synchronized String status() {
        return String.format("fds %s; exports %s; imports %s; shares %s", fds, file.exports(), file.imports(),
                shared.keySet());
    }
}
