package org.peerdma.dmabuf.shell.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.drivers.AttachmentReport;
import org.peerdma.dmabuf.drivers.GpuExporter;
import org.peerdma.dmabuf.fence.DmaFence;
import org.peerdma.dmabuf.fence.FenceOps;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.DmaBufImporters;
import org.peerdma.dmabuf.resv.DmaResvUsage;
import org.peerdma.dmaheap.DmaHeaps;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.udmabuf.Memfd;
import org.peerdma.udmabuf.Udmabuf;
import org.peerdma.util.Sizes;

/**
 * dma-buf from the shell. The shell is one process: its fds, attachments (numbered) and fences
 * (numbered) live here, and are all closed, detached and signalled when the commands go away
 * (immediate: a delayed component would be disposed, and the shell's fds closed, after every command).
 *
 * <p>Arguments: the commands Gogo calls take every argument as a String and read numbers themselves
 * as 64-bit values ({@link #number}), then run the typed implementation (package-private, which
 * tests and {@link #_main} call directly). Gogo would cut a number to 32 bits for an {@code int}
 * parameter (fd 4294967299 would be fd 3); it passes its word {@code null} as a Java null to any
 * parameter, which a number parameter cannot take (Gogo's reflective call fails with
 * IllegalArgumentException before the method runs), while a String one can and is checked (EINVAL);
 * extra words after a command's optional ones land in its varargs array and are counted (EINVAL,
 * never ignored); a word where a number goes is EINVAL naming it. Arguments no public method takes
 * (missing ones, extra ones after fixed parameters) reach {@link #_main}, which reads them itself.
 * So every wrong argument is an errno with the usage, never a Java exception.
 */
@Component(service = DmaBufCommands.class, immediate = true, property = {"osgi.command.scope=dmabuf", "osgi.command.function=bufs",
    "osgi.command.function=show", "osgi.command.function=heaps", "osgi.command.function=heapalloc",
    "osgi.command.function=udmabuf", "osgi.command.function=gpuprobe", "osgi.command.function=gpualloc",
    "osgi.command.function=attach", "osgi.command.function=map", "osgi.command.function=unmap",
    "osgi.command.function=detach", "osgi.command.function=close", "osgi.command.function=write",
    "osgi.command.function=read", "osgi.command.function=fence", "osgi.command.function=signal",
    "osgi.command.function=wait", "osgi.command.function=devread", "osgi.command.function=devwrite"})
public class DmaBufCommands {
    private record Att(int id, int fd, DmaBufAttachment attach, DmaBufImporter importer) {
    }

    private record Fence(int id, DmaFence fence, int fd, DmaResvUsage usage) {
    }

    private static final FenceOps OPS = new FenceOps() {
        @Override
        public String driverName(DmaFence f) {
            return "gogo";
        }

        @Override
        public String timelineName(DmaFence f) {
            return "shell";
        }
    };

    @Reference
    DmaBufCore core;

    @Reference
    PciCore pci;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile DmaHeaps heaps;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile Udmabuf udmabuf;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile GpuExporter gpu;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile DmaBufImporters importers;

    private FdTable proc;
    private final TreeSet<Integer> fds = new TreeSet<>();
    private final Map<Integer, Att> atts = new TreeMap<>();
    private final Map<Integer, Fence> fences = new TreeMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final long context = DmaFence.contextAlloc(1);
    private long seqno;

    public DmaBufCommands() {
    }

    /** For tests outside OSGi. */
    public DmaBufCommands(DmaBufCore core, PciCore pci, DmaHeaps heaps, Udmabuf udmabuf, GpuExporter gpu,
            DmaBufImporters importers) {
        this.core = core;
        this.pci = pci;
        this.heaps = heaps;
        this.udmabuf = udmabuf;
        this.gpu = gpu;
        this.importers = importers;
        activate();
    }

    @Activate
    final void activate() {
        proc = core.fdTable("gogo");
    }

    /** The shell process exits: its fences are signalled, attachments detached, fds closed. */
    @Deactivate
    public synchronized void deactivate() {
        for (Fence f : fences.values()) {
            f.fence().signal();
            f.fence().put();
        }
        fences.clear();
        for (Att a : atts.values()) {
            a.importer().detach(a.attach());
        }
        atts.clear();
        for (int fd : fds) {
            proc.close(fd);
        }
        fds.clear();
    }

    @Descriptor("list every dma-buf: inode, exporter, size, references, attachments, fences, shell fd")
    public synchronized String bufs() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-6s %-12s %12s %4s %7s %6s %s%n", "INO",
                "EXPORTER", "SIZE", "REFS", "ATTACH", "FENCES", "FD"));
        Map<DmaBuf, List<Integer>> shellFds = new java.util.IdentityHashMap<>();
        for (int fd : fds) {
            DmaBuf b = proc.get(fd);
            shellFds.computeIfAbsent(b, x -> new ArrayList<>()).add(fd);
            core.put(b);
        }
        for (DmaBuf b : core.buffers()) {
            List<Integer> mine = shellFds.get(b);
            sb.append(String.format(Locale.ROOT, "%-6d %-12s %12d %4d %7d %6d %s%n", b.ino(), b.exporter(), b.size(),
                    b.refcount(), b.attachments().size(), b.resv().size(),
                    mine == null ? "-" : mine.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))));
        }
        return chomp(sb);
    }

    @Descriptor("show a buffer's attachments, their mappings and fences (with the exporter's report for GPU buffers)")
    public String show(@Descriptor("shell fd") String fd) {
        return show(number("show", "FD", fd));
    }

    synchronized String show(long fd) {
        DmaBuf b = buf(fd);
        try {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "fd %d: ino %d exporter %s size %d refs %d vmaps %d%n", fd, b.ino(), b.exporter(), b.size(),
                    b.refcount() - 1, b.vmapCount()));
            List<AttachmentReport> reports = gpu != null && b.exporter().equals("amdgpu-like") ? gpu.report(b) : List.of();
            int i = 0;
            for (DmaBufAttachment a : b.attachments()) {
                Att mine = atts.values().stream().filter(x -> x.attach() == a).findFirst().orElse(null);
                sb.append(String.format(Locale.ROOT, "  attachment %s %s %s peer2peer=%b%s%n",
                        mine == null ? "-" : String.valueOf(mine.id()), a.device().name(), a.dynamic() ? "dynamic" : "static",
                        a.peer2peer(), mine != null && mine.importer().mapped(a) ? " mapped " + directions(mine) : ""));
                if (i < reports.size()) {
                    AttachmentReport r = reports.get(i);
                    sb.append(String.format(Locale.ROOT, "    %s %s%n    why: %s%n", r.path(),
                            r.dmaAddresses().stream().map(x -> String.format(Locale.ROOT, "%#x", x)).toList(), r.reason()));
                }
                i++;
            }
            for (Fence f : fences.values()) {
                if (f.fd() == fd) {
                    sb.append(String.format(Locale.ROOT, "  fence %d %s status %d%n", f.id(), f.usage(), f.fence().getStatus()));
                }
            }
            return chomp(sb);
        } finally {
            core.put(b);
        }
    }

    @Descriptor("list the dma-buf heaps (/dev/dma_heap) and the CMA area's use")
    public String heaps() {
        DmaHeaps h = need(heaps, "dma_heap");
        long[] cma = h.cmaUsage();
        return String.join(" ", h.heaps()) + String.format(Locale.ROOT, "%ncma: %d of %d bytes in use", cma[0], cma[1]);
    }

    @Descriptor("DMA_HEAP_IOCTL_ALLOC: allocate from a heap; prints the new fd")
    public synchronized long heapalloc(@Descriptor("heap name (system, reserved)") String heap,
            @Descriptor("bytes (K/M/G suffixes)") String size) {
        given("heapalloc", "HEAP", heap);
        given("heapalloc", "SIZE", size);
        int fd = check(need(heaps, "dma_heap").alloc(proc, heap,
                new DmaHeaps.AllocationData(Sizes.parse(size), 0, DmaHeaps.O_RDWR | DmaHeaps.O_CLOEXEC, 0)),
                "DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/" + heap);
        return opened(fd);
    }

    @Descriptor("udmabuf: a sealed memfd of the given size, filled with a byte, turned into a dma-buf")
    public synchronized long udmabuf(@Descriptor("bytes (page multiple; K/M/G suffixes)") String size,
            @Descriptor("fill byte (a character, default 0)") String... fillChar) {
        given("udmabuf", "SIZE", size);
        String[] fill = optional("udmabuf", fillChar, 1, "FILL");
        Udmabuf u = need(udmabuf, "udmabuf");
        long n = Sizes.parse(size);
        Memfd m = Memfd.create("gogo", Memfd.MFD_ALLOW_SEALING);
        check(m.ftruncate(n), "ftruncate of the memfd");
        check(m.addSeals(Memfd.F_SEAL_SHRINK), "F_ADD_SEALS");
        int memfd = proc.install(m);
        int fd;
        try {
            // UDMABUF_CREATE first: it checks the size against size_limit_mb before any page is touched,
            // where filling first would have written every byte of a 1T memfd
            fd = check(u.create(proc, memfd, 0, 0, n), "UDMABUF_CREATE");
            try {
                if (fill.length > 0 && !fill[0].isEmpty()) {
                    byte[] b = new byte[(int) Math.min(n, 1 << 20)];
                    java.util.Arrays.fill(b, (byte) fill[0].charAt(0));
                    for (long off = 0; off < n; off += b.length) {
                        check(m.write(off, off + b.length <= n ? b : java.util.Arrays.copyOf(b, (int) (n - off))),
                                "write to the memfd");
                    }
                }
            } catch (RuntimeException e) {
                proc.close(fd); // the new udmabuf is not the shell's yet: closed here, or it would leak
                throw e;
            }
        } finally {
            proc.close(memfd); // the udmabuf holds the pages
        }
        return opened(fd);
    }

    @Descriptor("bind the GPU-like exporter to a device: a BAR's first bytes become VRAM (p2pdma memory)")
    public String gpuprobe(@Descriptor("GPU") String bdf, @Descriptor("BAR index (default 1)") String... barSize) {
        given("gpuprobe", "BDF", bdf);
        String[] barAndSize = optional("gpuprobe", barSize, 2, "BAR or SIZE");
        GpuExporter g = need(gpu, "gpu_exporter");
        PciDevice d = dev(bdf);
        int bar;
        try {
            bar = barAndSize.length > 0 ? Integer.parseInt(barAndSize[0]) : 1;
        } catch (NumberFormatException e) {
            throw KernelException.einval("BAR index '%s' is not a number (0-5)", barAndSize[0]);
        }
        long size = barAndSize.length > 1 ? Sizes.parse(barAndSize[1]) : 256L << 20;
        check(g.probe(d, bar, size), "probe of " + d.name() + " BAR " + bar);
        return String.format(Locale.ROOT, "%s: %d bytes of BAR %d as VRAM", d.name(), size, bar);
    }

    @Descriptor("allocate a buffer in the GPU's VRAM and export it; prints the new fd")
    public synchronized long gpualloc(@Descriptor("GPU") String bdf,
            @Descriptor("bytes (K/M/G suffixes)") String size) {
        given("gpualloc", "BDF", bdf);
        given("gpualloc", "SIZE", size);
        PciDevice d = dev(bdf);
        return opened(check(need(gpu, "gpu_exporter").allocate(proc, d, Sizes.parse(size)), "allocation on " + d.name()));
    }

    @Descriptor("attach a device's importer driver to a buffer: nic (dynamic, allow_peer2peer) or nvme (static)")
    public long attach(@Descriptor("shell fd") String fd, @Descriptor("importing device") String bdf,
            @Descriptor("nic (default) or nvme") String... kinds) {
        return attach(number("attach", "FD", fd), bdf, kinds);
    }

    synchronized long attach(long fd, String bdf, String... kinds) {
        given("attach", "BDF", bdf);
        String[] kind = optional("attach", kinds, 1, "KIND");
        DmaBufImporters drv = need(importers, "dmabuf_importers");
        PciDevice d = dev(bdf);
        String k = kind.length > 0 ? kind[0] : "nic";
        DmaBufImporter imp = switch (k) {
            case "nic" -> drv.rdmaNic(d);
            case "nvme" -> drv.nvme(d);
            default -> throw KernelException.einval("importer kind '%s': nic or nvme", k);
        };
        DmaBuf b = buf(fd);
        try {
            DmaBufAttachment a = imp.attach(b);
            Att att = new Att(ids.incrementAndGet(), (int) fd, a, imp);
            atts.put(att.id(), att);
            System.err.println(String.format(Locale.ROOT, "attachment %d: %s %s on fd %d, peer2peer=%b", att.id(),
                    d.name(), imp.dynamic() ? "dynamic" : "static", fd, a.peer2peer()));
            return att.id();
        } finally {
            core.put(b);
        }
    }

    @Descriptor("map an attachment for its device (dma_buf_map_attachment); prints the DMA addresses")
    public String map(@Descriptor("attachment") String id,
            @Descriptor("direction: bidirectional (default), to_device, from_device") String... dirs) {
        return map(number("map", "ATTACHMENT", id), dirs);
    }

    synchronized String map(long id, String... dirs) {
        String[] dir = optional("map", dirs, 1, "DIRECTION");
        Att a = att(id);
        DmaDirection d = dir.length > 0 ? direction(dir[0]) : DmaDirection.BIDIRECTIONAL;
        SgTable sgt = a.importer().map(a.attach(), d);
        // the mapping handed out: one for this direction, else the BIDIRECTIONAL one that serves any
        DmaDirection got = a.importer().directions(a.attach()).contains(d) ? d : DmaDirection.BIDIRECTIONAL;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "attachment %d mapped %s, %d segment(s)%n", id,
                got, sgt.entries().size()));
        for (SgEntry e : sgt.entries()) {
            sb.append(String.format(Locale.ROOT, "  dma %#x len %d (phys %#x)%n", e.dmaAddress(), e.dmaLength(), e.phys()));
        }
        return chomp(sb);
    }

    @Descriptor("unmap an attachment")
    public String unmap(@Descriptor("attachment") String id) {
        return unmap(number("unmap", "ATTACHMENT", id));
    }

    synchronized String unmap(long id) {
        Att a = att(id);
        return a.importer().unmap(a.attach()) ? "attachment " + id + " unmapped" : "attachment " + id + " was not mapped";
    }

    @Descriptor("detach an attachment (unmapping it first)")
    public String detach(@Descriptor("attachment") String id) {
        return detach(number("detach", "ATTACHMENT", id));
    }

    synchronized String detach(long id) {
        Att a = att(id);
        a.importer().detach(a.attach());
        atts.remove(a.id());
        return "attachment " + id + " detached";
    }

    @Descriptor("close a shell fd (attachments made through it are detached first)")
    public String close(@Descriptor("shell fd") String fd) {
        return close(number("close", "FD", fd));
    }

    synchronized String close(long fd) {
        if (fd < 0 || fd > Integer.MAX_VALUE || !fds.contains((int) fd)) {
            throw new KernelException(Errno.EBADF, "fd " + fd + " is not open in the shell");
        }
        for (Att a : List.copyOf(atts.values())) {
            if (a.fd() == fd) {
                a.importer().detach(a.attach());
                atts.remove(a.id());
            }
        }
        check(proc.close((int) fd), "close");
        fds.remove((int) fd);
        return "fd " + fd + " closed";
    }

    @Descriptor("write text into a buffer through a kernel mapping (vmap)")
    public String write(@Descriptor("shell fd") String fd, @Descriptor("byte offset") String off,
            @Descriptor("text") String text) {
        return write(number("write", "FD", fd), number("write", "OFFSET", off), text);
    }

    synchronized String write(long fd, long off, String text) {
        byte[] data = given("write", "TEXT", text).getBytes(StandardCharsets.UTF_8);
        DmaBuf b = buf(fd);
        try {
            core.writeBytes(b, off, data);
        } finally {
            core.put(b);
        }
        return data.length + " bytes written at " + off;
    }

    @Descriptor("read bytes of a buffer through a kernel mapping (vmap), as text")
    public String read(@Descriptor("shell fd") String fd, @Descriptor("byte offset") String off,
            @Descriptor("bytes") String len) {
        return read(number("read", "FD", fd), number("read", "OFFSET", off), number("read", "BYTES", len));
    }

    synchronized String read(long fd, long off, long len) {
        if (len < 0) {
            throw KernelException.einval("length %d is negative", len);
        }
        DmaBuf b = buf(fd);
        try {
            return new String(core.readBytes(b, off, len), StandardCharsets.UTF_8);
        } finally {
            core.put(b);
        }
    }

    @Descriptor("the attachment's device reads the buffer with its own DMA (mapping first if needed), as text, "
            + "and says where the access went")
    public String devread(@Descriptor("attachment") String id, @Descriptor("byte offset") String off,
            @Descriptor("bytes") String len) {
        return devread(number("devread", "ATTACHMENT", id), number("devread", "OFFSET", off), number("devread", "BYTES", len));
    }

    synchronized String devread(long id, long off, long len) {
        Att a = att(id);
        if (len < 0) {
            throw KernelException.einval("length %d is negative", len);
        }
        long size = a.attach().buf().size();
        if (off < 0 || off > size || len > size - off) { // before the bytes are allocated
            throw KernelException.einval("%d bytes at %d is outside the %d-byte buffer", len, off, size);
        }
        java.nio.ByteBuffer dst = java.nio.ByteBuffer.wrap(copyBuffer(len));
        a.importer().dmaRead(a.attach(), off, dst);
        return new String(dst.array(), StandardCharsets.UTF_8) + System.lineSeparator() + via(a, off, len);
    }

    /** The directions of the mappings an attachment holds: "BIDIRECTIONAL", "FROM_DEVICE,TO_DEVICE". */
    private static String directions(Att a) {
        return a.importer().directions(a.attach()).stream().map(DmaDirection::name)
                .collect(java.util.stream.Collectors.joining(","));
    }

    private static String via(Att a, long off, long len) {
        return len == 0 ? "  (nothing transferred)" : "  via " + a.importer().route(a.attach(), off).what();
    }

    @Descriptor("the attachment's device writes text into the buffer with its own DMA, and says where it went")
    public String devwrite(@Descriptor("attachment") String id, @Descriptor("byte offset") String off,
            @Descriptor("text") String text) {
        return devwrite(number("devwrite", "ATTACHMENT", id), number("devwrite", "OFFSET", off), text);
    }

    synchronized String devwrite(long id, long off, String text) {
        given("devwrite", "TEXT", text);
        Att a = att(id);
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        a.importer().dmaWrite(a.attach(), off, java.nio.ByteBuffer.wrap(data));
        return data.length + " bytes written by " + a.attach().device().name() + " at " + off + System.lineSeparator()
                + via(a, off, data.length);
    }

    @Descriptor("add an unsignalled fence to a buffer's reservation object")
    public long fence(@Descriptor("shell fd") String fd,
            @Descriptor("usage: kernel, write (default), read, bookkeep") String... usages) {
        return fence(number("fence", "FD", fd), usages);
    }

    synchronized long fence(long fd, String... usages) {
        String[] usage = optional("fence", usages, 1, "USAGE");
        DmaResvUsage u = usage.length > 0 ? usage(usage[0]) : DmaResvUsage.WRITE;
        DmaBuf b = buf(fd);
        try {
            DmaFence f = new DmaFence(OPS, new Object(), context, ++seqno);
            b.resv().lock();
            try {
                check(b.resv().reserveFences(1), "dma_resv_reserve_fences");
                b.resv().addFence(f, u);
            } finally {
                b.resv().unlock();
            }
            Fence fe = new Fence(ids.incrementAndGet(), f, (int) fd, u);
            fences.put(fe.id(), fe);
            System.err.println(String.format(Locale.ROOT, "fence %d (context %d seqno %d) %s on fd %d", fe.id(), context,
                    f.seqno(), u, fd));
            return fe.id();
        } finally {
            core.put(b);
        }
    }

    @Descriptor("signal a shell fence, optionally with an error (negative errno)")
    public String signal(@Descriptor("fence") String id, @Descriptor("error, e.g. -5") String... errors) {
        return signal(number("signal", "FENCE", id), numbers("signal", "ERROR", errors));
    }

    synchronized String signal(long id, long... errors) {
        long[] error = errors == null ? new long[0] : errors;
        if (error.length > 1) {
            throw wrong("signal", (error.length - 1) + " too many");
        }
        Fence f = id < Integer.MIN_VALUE || id > Integer.MAX_VALUE ? null : fences.get((int) id);
        if (f == null) {
            throw KernelException.einval("no fence %d in the shell (have: %s)", id, fences.keySet());
        }
        if (error.length > 0 && (error[0] >= 0 || error[0] < -DmaFence.MAX_ERRNO)) {
            // dma_fence_set_error WARNs on anything but -MAX_ERRNO..-1 (and stores it): refused here
            throw KernelException.einval("fence error %d is not a negative errno (-1..-%d)", error[0], DmaFence.MAX_ERRNO);
        }
        if (f.fence().isSignaled()) {
            return "fence " + id + " was already signalled"; // an error set now would change what waiters saw
        }
        if (error.length > 0) {
            f.fence().setError((int) error[0]);
        }
        int r = f.fence().signal();
        return r == 0 ? "fence " + id + " signalled (status " + f.fence().getStatus() + ")"
                : "fence " + id + " was already signalled";
    }

    static final String WAIT_USAGE = "dmabuf:wait FD USAGE MS (usage kernel, write, read or bookkeep; MS 0..2147483647)";

    @Descriptor("wait on a buffer's fences of a usage (dma_resv_wait_timeout)")
    public String wait(@Descriptor("shell fd") String fd, @Descriptor("usage: kernel, write, read (everything but "
            + "bookkeep) or bookkeep") String usage, @Descriptor("timeout in ms (0..2147483647)") String ms) {
        return wait(number("wait", "FD", fd), usage, number("wait", "MS", ms));
    }

    String wait(long fd, String usage, long ms) {
        DmaResvUsage u = usage(given("wait", "USAGE", usage));
        if (ms < 0 || ms > Integer.MAX_VALUE) {
            // msecs_to_jiffies takes an unsigned int and makes "negative" ones infinite: say so instead
            throw new KernelException(Errno.EINVAL, String.format(Locale.ROOT, "timeout %d ms is outside 0..%d (usage: %s)",
                    ms, Integer.MAX_VALUE, WAIT_USAGE));
        }
        DmaBuf b;
        synchronized (this) {
            b = buf(fd);
        }
        try {
            long r = b.resv().waitTimeout(u, true, (ms * DmaFence.HZ + 999) / 1000); // msecs_to_jiffies
            if (r < 0) {
                throw new KernelException(Errno.of((int) r).orElse(Errno.EINTR), "wait on fd " + fd + " failed");
            }
            return r == 0 ? "timed out after " + ms + " ms" : "signalled";
        } finally {
            core.put(b);
        }
    }

    // ================================================================ arguments Gogo cannot give to the typed methods

    /** Usage lines, by function, in a fixed order (the order the commands are listed and tested in). */
    static final Map<String, String> USAGE = usages("bufs", "dmabuf:bufs", "show", "dmabuf:show FD", "heaps",
            "dmabuf:heaps", "heapalloc", "dmabuf:heapalloc HEAP SIZE", "udmabuf", "dmabuf:udmabuf SIZE [FILL]",
            "gpuprobe", "dmabuf:gpuprobe BDF [BAR [SIZE]]", "gpualloc", "dmabuf:gpualloc BDF SIZE",
            "attach", "dmabuf:attach FD BDF [nic|nvme]",
            "map", "dmabuf:map ATTACHMENT [bidirectional|to_device|from_device]",
            "unmap", "dmabuf:unmap ATTACHMENT", "detach", "dmabuf:detach ATTACHMENT",
            "close", "dmabuf:close FD", "write", "dmabuf:write FD OFFSET TEXT",
            "read", "dmabuf:read FD OFFSET BYTES", "devread", "dmabuf:devread ATTACHMENT OFFSET BYTES",
            "devwrite", "dmabuf:devwrite ATTACHMENT OFFSET TEXT",
            "fence", "dmabuf:fence FD [kernel|write|read|bookkeep]", "signal", "dmabuf:signal FENCE [ERROR]",
            "wait", WAIT_USAGE);

    private static Map<String, String> usages(String... pairs) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /** EINVAL naming the command, what is wrong and its usage (as {@link Args#count} words it). */
    static KernelException wrong(String fn, String why) {
        return new KernelException(Errno.EINVAL, String.format(Locale.ROOT, "wrong arguments for %s (%s): usage: %s", fn,
                why, USAGE.get(fn)));
    }

    /**
     * A number argument as typed (decimal, 0x hex, 0 octal, 64 bits at most). The commands Gogo calls
     * take every argument as a String and read numbers here: Gogo hands its word {@code null} to any
     * parameter as a Java null, and for a primitive or boxed number parameter its reflective call
     * then fails before the method runs (IllegalArgumentException), or Gogo 1.1.6 even invokes the
     * method with its NO_MATCH marker when a costlier conversion of the other words won; a String
     * parameter takes any word, so every argument reaches this check. Errors: EINVAL with the usage.
     */
    static long number(String fn, String what, String v) {
        String s = given(fn, what, v).strip();
        try {
            return Long.decode(s);
        } catch (NumberFormatException e) {
            throw new KernelException(Errno.EINVAL, String.format(Locale.ROOT, "wrong arguments for %s: %s '%s' is not "
                    + "a number (64 bits at most): usage: %s", fn, what, org.peerdma.util.Texts.clip(s), USAGE.get(fn)));
        }
    }

    /** Number arguments of a varargs array (null for none). Errors as {@link #number}. */
    static long[] numbers(String fn, String what, String[] v) {
        long[] out = new long[v == null ? 0 : v.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = number(fn, what, v[i]);
        }
        return out;
    }

    /** A String argument: Gogo's word {@code null} arrives as a Java null, which is EINVAL with the usage. */
    static String given(String fn, String what, String v) {
        if (v == null) {
            throw wrong(fn, what + " is null");
        }
        return v;
    }

    /**
     * The optional words of a command, which Gogo puts in the varargs array with any extra ones after
     * them: at most {@code max}, none null. Return: the words (empty for none).
     */
    static String[] optional(String fn, String[] v, int max, String what) {
        if (v == null) {
            return new String[0];
        }
        if (v.length > max) {
            throw wrong(fn, (v.length - max) + " too many");
        }
        for (String x : v) {
            given(fn, what, x);
        }
        return v;
    }

    /**
     * copyBuffer - room for {@code len} bytes a device reads out (len checked against the buffer), as
     * kvmalloc gives it: ENOMEM past Integer.MAX_VALUE - 8 (kvmalloc refuses more than INT_MAX, and a
     * Java array stops just short of it) or when the memory is not there, as DmaBufCore.readBytes does.
     * ENOMEM, not EINVAL: the range asked for is valid, the allocation is what fails. Never a length
     * cut to 32 bits.
     */
    private static byte[] copyBuffer(long len) {
        if (len > Integer.MAX_VALUE - 8) {
            throw new KernelException(Errno.ENOMEM, String.format(Locale.ROOT,
                    "cannot allocate a copy of %d bytes (at most %d at once, as kvmalloc)", len, Integer.MAX_VALUE - 8));
        }
        try {
            return new byte[(int) len];
        } catch (OutOfMemoryError e) {
            throw new KernelException(Errno.ENOMEM, "cannot allocate a copy of " + len + " bytes");
        }
    }

    /**
     * _main - what Gogo calls when no public method takes the arguments as given (Gogo passes the
     * function's name first): a missing argument, or an extra one after fixed parameters. The
     * arguments are read here, and the typed method runs with them; a wrong one is EINVAL naming
     * it, with the usage.
     */
    public Object _main(String function, String... args) {
        String fn = function == null ? "" : function.toLowerCase(Locale.ROOT);
        String usage = USAGE.get(fn);
        if (usage == null) {
            throw KernelException.einval("no dmabuf command '%s'", function);
        }
        String[] v = args == null ? new String[0] : args;
        Args a = new Args(fn, usage, v);
        switch (fn) {
            case "bufs":
                a.count(0, 0);
                return bufs();
            case "heaps":
                a.count(0, 0);
                return heaps();
            case "show":
                a.count(1, 1);
                return show(a.number(0, "FD"));
            case "heapalloc":
                a.count(2, 2);
                return heapalloc(v[0], v[1]);
            case "udmabuf":
                a.count(1, 2);
                return udmabuf(v[0], rest(v, 1));
            case "gpuprobe":
                a.count(1, 3);
                return gpuprobe(v[0], rest(v, 1));
            case "gpualloc":
                a.count(2, 2);
                return gpualloc(v[0], v[1]);
            case "attach":
                a.count(2, 3);
                return attach(a.number(0, "FD"), v[1], rest(v, 2));
            case "map":
                a.count(1, 2);
                return map(a.number(0, "ATTACHMENT"), rest(v, 1));
            case "unmap":
                a.count(1, 1);
                return unmap(a.number(0, "ATTACHMENT"));
            case "detach":
                a.count(1, 1);
                return detach(a.number(0, "ATTACHMENT"));
            case "close":
                a.count(1, 1);
                return close(a.number(0, "FD"));
            case "write":
                a.count(3, 3);
                return write(a.number(0, "FD"), a.number(1, "OFFSET"), v[2]);
            case "read":
                a.count(3, 3);
                return read(a.number(0, "FD"), a.number(1, "OFFSET"), a.number(2, "BYTES"));
            case "devread":
                a.count(3, 3);
                return devread(a.number(0, "ATTACHMENT"), a.number(1, "OFFSET"), a.number(2, "BYTES"));
            case "devwrite":
                a.count(3, 3);
                return devwrite(a.number(0, "ATTACHMENT"), a.number(1, "OFFSET"), v[2]);
            case "fence":
                a.count(1, 2);
                return fence(a.number(0, "FD"), rest(v, 1));
            case "signal":
                return a.count(1, 2) == 1 ? signal(a.number(0, "FENCE")) : signal(a.number(0, "FENCE"), a.number(1, "ERROR"));
            default: // "wait"
                return waitArgs(v);
        }
    }

    private static String[] rest(String[] v, int from) {
        return java.util.Arrays.copyOfRange(v, from, v.length);
    }

    private String waitArgs(String... args) {
        Args a = new Args("wait", WAIT_USAGE, args);
        a.count(3, 3);
        return wait(a.number(0, "FD"), args[1], a.number(2, "MS"));
    }

    /**
     * getWait - {@code dmabuf:wait} with no arguments. Gogo looks the function up by name (also
     * "getwait") among all public methods, Object's too: without this form it would call
     * Object.wait() and fail with IllegalMonitorStateException. A method of this class comes before
     * Object's, and with nothing to convert it wins.
     */
    public String getWait(CommandSession session) {
        return waitArgs();
    }

    /** getWait - {@code dmabuf:wait X}: otherwise Object.wait(long). */
    public String getWait(Object one) {
        return waitArgs(String.valueOf(one));
    }

    /** getWait - {@code dmabuf:wait X Y}: otherwise Object.wait(long, int). */
    public String getWait(Object one, Object two) {
        return waitArgs(String.valueOf(one), String.valueOf(two));
    }

    /** Arguments as typed, checked against one command's usage. */
    private record Args(String fn, String usage, String[] args) {
        /** @return the count; EINVAL with the usage when it is not between min and max. */
        int count(int min, int max) {
            if (args.length < min || args.length > max) {
                throw new KernelException(Errno.EINVAL, String.format(Locale.ROOT, "wrong arguments for %s (%s): usage: %s",
                        fn, args.length < min ? "missing " + (min - args.length) : (args.length - max) + " too many", usage));
            }
            return args.length;
        }

        /** @return argument {@code i} as a number (decimal, 0x hex, 0 octal); EINVAL naming it otherwise. */
        long number(int i, String what) {
            return DmaBufCommands.number(fn, what, args[i]);
        }
    }

    /** A new shell fd: its description on stderr, the number as the result (so {@code fd = (gpualloc ...)} works). */
    private long opened(int fd) {
        fds.add(fd);
        DmaBuf b = proc.get(fd);
        try {
            System.err.println(String.format(Locale.ROOT, "fd %d: %s buffer of %d bytes (ino %d)", fd, b.exporter(),
                    b.size(), b.ino()));
            return fd;
        } finally {
            core.put(b);
        }
    }

    /** The buffer behind a shell fd, with a reference the caller puts. */
    private DmaBuf buf(long fd) {
        if (fd < 0 || fd > Integer.MAX_VALUE || !fds.contains((int) fd)) {
            throw new KernelException(Errno.EBADF, "fd " + fd + " is not a dma-buf open in the shell (open: " + fds + ")");
        }
        return proc.get((int) fd);
    }

    private Att att(long id) {
        Att a = id < Integer.MIN_VALUE || id > Integer.MAX_VALUE ? null : atts.get((int) id);
        if (a == null) {
            throw KernelException.einval("no attachment %d in the shell (have: %s)", id, atts.keySet());
        }
        return a;
    }

    private PciDevice dev(String bdf) {
        Bdf b = Bdf.parse(bdf);
        return pci.machine().device(b)
                .orElseThrow(() -> KernelException.enodev("no PCI device %s in machine '%s'", b, pci.machine().name()));
    }

    private static <T> T need(T service, String module) {
        if (service == null) {
            throw KernelException.enodev("module %s is not loaded (modprobe %s)", module, module);
        }
        return service;
    }

    private static int check(int r, String what) {
        return (int) KernelException.check(r, what);
    }

    private static DmaDirection direction(String s) {
        try {
            return DmaDirection.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw KernelException.einval("direction '%s': bidirectional, to_device or from_device", s);
        }
    }

    private static DmaResvUsage usage(String s) {
        try {
            return DmaResvUsage.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw KernelException.einval("usage '%s': kernel, write, read or bookkeep", s);
        }
    }

    private static String chomp(StringBuilder sb) {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\n' ? sb.substring(0, n - 1) : sb.toString();
    }
}
