package org.peerdma.hyperdmabuf.shell;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.hyperdmabuf.HyperDmabuf;
import org.peerdma.hyperdmabuf.HyperDmabufFile;
import org.peerdma.hyperdmabuf.HyperDmabufId;

/** /dev/hyper_dmabuf from a domain's shell (one process, one open file). */
@Component(service = HdmabufCommands.class, immediate = true, property = {"osgi.command.scope=hdmabuf",
    "osgi.command.function=tx", "osgi.command.function=rx", "osgi.command.function=dumb",
    "osgi.command.function=write", "osgi.command.function=read", "osgi.command.function=export",
    "osgi.command.function=importfd", "osgi.command.function=unexport", "osgi.command.function=query",
    "osgi.command.function=events", "osgi.command.function=close", "osgi.command.function=status",
    "osgi.command.function=backend"})
public class HdmabufCommands {
    @Reference
    DmaBufCore core;
    @Reference
    HyperDmabuf drv;
    @Reference(service = org.peerdma.xen.gntdev.DumbBuffers.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC)
    volatile Object dumb; // org.peerdma.xen.gntdev.DumbBuffers when this kernel has gntdev

    private FdTable proc;
    private HyperDmabufFile file;
    private final List<Integer> fds = new ArrayList<>();

    @Activate
    void activate() {
        proc = core.fdTable("gogo-hyper_dmabuf");
        file = drv.open(proc);
    }

    @Deactivate
    synchronized void deactivate() {
        file.close();
        for (int fd : fds) {
            proc.close(fd);
        }
    }

    private static String check(int r, String what) {
        KernelException.check(r, what);
        return what + ": ok";
    }

    /**
     * An int argument of an ioctl. Numbers come from Gogo as longs, and an int parameter would take
     * only their low 32 bits (4294967298 would be domain 2): EINVAL instead.
     */
    static int intArg(long v, String what) {
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw KernelException.einval("%s %d is out of range (a 32-bit int)", what, v);
        }
        return (int) v;
    }

    /** A file descriptor argument: EBADF for one no fd table can hold. */
    static int fdArg(long fd) {
        if (fd < 0 || fd > Integer.MAX_VALUE) {
            throw new KernelException(Errno.EBADF, "fd " + fd + " is not an open file descriptor");
        }
        return (int) fd;
    }

    private static HyperDmabufId hid(String s) {
        try {
            return HyperDmabufId.parse(s);
        } catch (IllegalArgumentException e) {
            throw KernelException.einval("%s", e.getMessage());
        }
    }

    @Descriptor("TX_CH_SETUP to a domain")
    public String tx(@Descriptor("remote domid") long d) {
        return check(file.txChSetup(intArg(d, "domain")), "TX_CH_SETUP d" + d);
    }

    @Descriptor("RX_CH_SETUP from a domain")
    public String rx(@Descriptor("source domid") long d) {
        return check(file.rxChSetup(intArg(d, "domain")), "RX_CH_SETUP d" + d);
    }

    @Descriptor("a dumb buffer of this domain's own pages (needs gntdev in this kernel); prints its fd")
    public synchronized String dumb(@Descriptor("width") long w, @Descriptor("height") long h) {
        Object d = dumb;
        if (!(d instanceof org.peerdma.xen.gntdev.DumbBuffers db)) {
            throw KernelException.enodev("no dumb-buffer driver in this kernel");
        }
        int fd = db.create(proc, intArg(w, "width"), intArg(h, "height"), 32);
        check(fd, "CREATE_DUMB");
        fds.add(fd);
        return "fd " + fd;
    }

    @Descriptor("write text into a buffer")
    public synchronized String write(@Descriptor("fd") long fd, @Descriptor("offset") long off, @Descriptor("text") String t) {
        byte[] b = t.getBytes(StandardCharsets.UTF_8);
        DmaBuf buf = proc.get(fdArg(fd));
        try {
            core.writeBytes(buf, off, b);
        } finally {
            core.put(buf);
        }
        return b.length + " bytes at " + off;
    }

    @Descriptor("read text from a buffer")
    public synchronized String read(@Descriptor("fd") long fd, @Descriptor("offset") long off, @Descriptor("bytes") long len) {
        DmaBuf buf = proc.get(fdArg(fd));
        try {
            return new String(core.readBytes(buf, off, len), StandardCharsets.UTF_8);
        } finally {
            core.put(buf);
        }
    }

    @Descriptor("EXPORT_REMOTE a buffer to a domain, with optional private data; prints the id")
    public String export(@Descriptor("fd") long fd, @Descriptor("remote domid") long d, @Descriptor("private data") String... priv) {
        HyperDmabufFile.Export e = file.exportRemote(fdArg(fd), intArg(d, "domain"), priv.length > 0 ? String.join(" ", priv).getBytes(
                StandardCharsets.UTF_8) : null);
        check(e.ret(), "EXPORT_REMOTE");
        return "hid " + e.hid();
    }

    @Descriptor("EXPORT_FD: a local dma-buf over an imported buffer; prints its fd")
    public synchronized String importfd(@Descriptor("hid") String h) {
        int fd = file.exportFd(hid(h), 0x80000);
        check(fd, "EXPORT_FD");
        fds.add(fd);
        return "fd " + fd;
    }

    @Descriptor("UNEXPORT after a delay")
    public String unexport(@Descriptor("hid") String h,
            @Descriptor("delay ms (default 0; negative: never, as msecs_to_jiffies makes it)") long... ms) {
        return check(file.unexport(hid(h), ms.length > 0 ? intArg(ms[0], "delay") : 0), "UNEXPORT");
    }

    @Descriptor("QUERY an item: type exporter importer size busy unexported delayed_unexported priv_size priv")
    public String query(@Descriptor("hid") String h, @Descriptor("item") String item) {
        String[] names = {"type", "exporter", "importer", "size", "busy", "unexported", "delayed_unexported",
            "priv_size", "priv"};
        int i = List.of(names).indexOf(item.toLowerCase(Locale.ROOT));
        if (i < 0) {
            throw KernelException.einval("query item '%s': one of %s", item, String.join(" ", names));
        }
        byte[] priv = new byte[HyperDmabuf.MAX_SIZE_PRIV_DATA];
        long v = file.query(hid(h), HyperDmabuf.QUERY_TYPE + i, priv);
        if (v < 0) {
            check((int) v, "QUERY");
        }
        if (i == 8) {
            long n = file.query(hid(h), HyperDmabuf.QUERY_PRIV_INFO_SIZE, null);
            return new String(priv, 0, (int) n, StandardCharsets.UTF_8);
        }
        return Long.toString(v);
    }

    @Descriptor("read the NEW_IMPORT events queued now")
    public String events() {
        StringBuilder sb = new StringBuilder();
        for (HyperDmabuf.Event e : drv.readEvents(1 << 16, 0, true)) {
            sb.append("NEW_IMPORT ").append(e.hid()).append(" priv '")
                    .append(new String(e.priv(), StandardCharsets.UTF_8)).append("'").append(System.lineSeparator());
        }
        return sb.length() == 0 ? "no events" : sb.toString().stripTrailing();
    }

    @Descriptor("close a shell fd")
    public synchronized String close(@Descriptor("fd") long fd) {
        if (fd < 0 || fd > Integer.MAX_VALUE || !fds.remove((Integer) (int) fd)) {
            throw new KernelException(Errno.EBADF, "fd " + fd + " is not open in this shell");
        }
        check(proc.close((int) fd), "close");
        return "fd " + fd + " closed";
    }

    @Descriptor("show the backend in use and those available, or switch (refused while buffers are shared)")
    public String backend(@Descriptor("backend name") String... name) {
        if (name.length == 0) {
            return "backend " + drv.backend() + " (available: " + String.join(", ", drv.backendNames()) + ")";
        }
        int r = drv.useBackend(name[0]);
        if (r == -16) {
            throw new KernelException(Errno.EBUSY, "buffers are exported or imported through backend " + drv.backend()
                    + ": unexport and release them before switching to " + name[0]);
        }
        if (r == -2) {
            throw new KernelException(Errno.ENOENT, "no backend '" + name[0] + "' (available: "
                    + String.join(", ", drv.backendNames()) + ")");
        }
        return "backend " + drv.backend();
    }

    @Descriptor("the driver's state: backend, exports, imports")
    public String status() {
        return "fds " + fds + "; " + drv.status();
    }
}
