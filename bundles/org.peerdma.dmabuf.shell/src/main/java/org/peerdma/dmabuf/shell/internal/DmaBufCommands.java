package org.peerdma.dmabuf.shell.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

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
 */
@Component(service = DmaBufCommands.class, immediate = true, property = {"osgi.command.scope=dmabuf", "osgi.command.function=bufs",
    "osgi.command.function=show", "osgi.command.function=heaps", "osgi.command.function=heapalloc",
    "osgi.command.function=udmabuf", "osgi.command.function=gpuprobe", "osgi.command.function=gpualloc",
    "osgi.command.function=attach", "osgi.command.function=map", "osgi.command.function=unmap",
    "osgi.command.function=detach", "osgi.command.function=close", "osgi.command.function=write",
    "osgi.command.function=read", "osgi.command.function=fence", "osgi.command.function=signal",
    "osgi.command.function=wait", "osgi.command.function=devread", "osgi.command.function=devwrite"})
public class DmaBufCommands {
    private record Att(int id, int fd, DmaBufAttachment attach, DmaBufImporter importer, DmaDirection[] dir) {
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
    public synchronized String show(@Descriptor("shell fd") int fd) {
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
                        a.peer2peer(), mine != null && mine.importer().mapped(a) ? " mapped " + mine.dir()[0] : ""));
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
    public synchronized int heapalloc(@Descriptor("heap name (system, reserved)") String heap,
            @Descriptor("bytes (K/M/G suffixes)") String size) {
        int fd = check(need(heaps, "dma_heap").alloc(proc, heap,
                new DmaHeaps.AllocationData(Sizes.parse(size), 0, DmaHeaps.O_RDWR | DmaHeaps.O_CLOEXEC, 0)),
                "DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/" + heap);
        return opened(fd);
    }

    @Descriptor("udmabuf: a sealed memfd of the given size, filled with a byte, turned into a dma-buf")
    public synchronized int udmabuf(@Descriptor("bytes (page multiple; K/M/G suffixes)") String size,
            @Descriptor("fill byte (a character, default 0)") String... fill) {
        Udmabuf u = need(udmabuf, "udmabuf");
        long n = Sizes.parse(size);
        Memfd m = Memfd.create("gogo", Memfd.MFD_ALLOW_SEALING);
        check(m.ftruncate(n), "ftruncate of the memfd");
        check(m.addSeals(Memfd.F_SEAL_SHRINK), "F_ADD_SEALS");
        if (fill.length > 0 && !fill[0].isEmpty()) {
            byte[] b = new byte[(int) Math.min(n, 1 << 20)];
            java.util.Arrays.fill(b, (byte) fill[0].charAt(0));
            for (long off = 0; off < n; off += b.length) {
                m.write(off, off + b.length <= n ? b : java.util.Arrays.copyOf(b, (int) (n - off)));
            }
        }
        int memfd = proc.install(m);
        try {
            return opened(check(u.create(proc, memfd, 0, 0, n), "UDMABUF_CREATE"));
        } finally {
            proc.close(memfd); // the udmabuf holds the pages
        }
    }

    @Descriptor("bind the GPU-like exporter to a device: a BAR's first bytes become VRAM (p2pdma memory)")
    public String gpuprobe(@Descriptor("GPU") String bdf, @Descriptor("BAR index (default 1)") String... barAndSize) {
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
    public synchronized int gpualloc(@Descriptor("GPU") String bdf, @Descriptor("bytes (K/M/G suffixes)") String size) {
        PciDevice d = dev(bdf);
        return opened(check(need(gpu, "gpu_exporter").allocate(proc, d, Sizes.parse(size)), "allocation on " + d.name()));
    }

    @Descriptor("attach a device's importer driver to a buffer: nic (dynamic, allow_peer2peer) or nvme (static)")
    public synchronized int attach(@Descriptor("shell fd") int fd, @Descriptor("importing device") String bdf,
            @Descriptor("nic (default) or nvme") String... kind) {
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
            Att att = new Att(ids.incrementAndGet(), fd, a, imp, new DmaDirection[1]);
            atts.put(att.id(), att);
            System.err.println(String.format(Locale.ROOT, "attachment %d: %s %s on fd %d, peer2peer=%b", att.id(),
                    d.name(), imp.dynamic() ? "dynamic" : "static", fd, a.peer2peer()));
            return att.id();
        } finally {
            core.put(b);
        }
    }

    @Descriptor("map an attachment for its device (dma_buf_map_attachment); prints the DMA addresses")
    public synchronized String map(@Descriptor("attachment") int id,
            @Descriptor("direction: bidirectional (default), to_device, from_device") String... dir) {
        Att a = att(id);
        DmaDirection d = dir.length > 0 ? direction(dir[0]) : DmaDirection.BIDIRECTIONAL;
        SgTable sgt = a.importer().map(a.attach(), d);
        a.dir()[0] = d;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "attachment %d mapped %s, %d segment(s)%n", id, d,
                sgt.entries().size()));
        for (SgEntry e : sgt.entries()) {
            sb.append(String.format(Locale.ROOT, "  dma %#x len %d (phys %#x)%n", e.dmaAddress(), e.dmaLength(), e.phys()));
        }
        return chomp(sb);
    }

    @Descriptor("unmap an attachment")
    public synchronized String unmap(@Descriptor("attachment") int id) {
        Att a = att(id);
        return a.importer().unmap(a.attach()) ? "attachment " + id + " unmapped" : "attachment " + id + " was not mapped";
    }

    @Descriptor("detach an attachment (unmapping it first)")
    public synchronized String detach(@Descriptor("attachment") int id) {
        Att a = att(id);
        a.importer().detach(a.attach());
        atts.remove(id);
        return "attachment " + id + " detached";
    }

    @Descriptor("close a shell fd (attachments made through it are detached first)")
    public synchronized String close(@Descriptor("shell fd") int fd) {
        if (!fds.contains(fd)) {
            throw new KernelException(Errno.EBADF, "fd " + fd + " is not open in the shell");
        }
        for (Att a : List.copyOf(atts.values())) {
            if (a.fd() == fd) {
                a.importer().detach(a.attach());
                atts.remove(a.id());
            }
        }
        check(proc.close(fd), "close");
        fds.remove(fd);
        return "fd " + fd + " closed";
    }

    @Descriptor("write text into a buffer through a kernel mapping (vmap)")
    public synchronized String write(@Descriptor("shell fd") int fd, @Descriptor("byte offset") long off,
            @Descriptor("text") String text) {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        DmaBuf b = buf(fd);
        try {
            core.writeBytes(b, off, data);
        } finally {
            core.put(b);
        }
        return data.length + " bytes written at " + off;
    }

    @Descriptor("read bytes of a buffer through a kernel mapping (vmap), as text")
    public synchronized String read(@Descriptor("shell fd") int fd, @Descriptor("byte offset") long off,
            @Descriptor("bytes") int len) {
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
    public synchronized String devread(@Descriptor("attachment") int id, @Descriptor("byte offset") long off,
            @Descriptor("bytes") int len) {
        Att a = att(id);
        if (len < 0) {
            throw KernelException.einval("length %d is negative", len);
        }
        java.nio.ByteBuffer dst = java.nio.ByteBuffer.allocate(len);
        a.importer().dmaRead(a.attach(), off, dst);
        return new String(dst.array(), StandardCharsets.UTF_8) + System.lineSeparator() + "  via "
                + a.importer().route(a.attach(), off).what();
    }

    @Descriptor("the attachment's device writes text into the buffer with its own DMA, and says where it went")
    public synchronized String devwrite(@Descriptor("attachment") int id, @Descriptor("byte offset") long off,
            @Descriptor("text") String text) {
        Att a = att(id);
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        a.importer().dmaWrite(a.attach(), off, java.nio.ByteBuffer.wrap(data));
        return data.length + " bytes written by " + a.attach().device().name() + " at " + off + System.lineSeparator()
                + "  via " + a.importer().route(a.attach(), off).what();
    }

    @Descriptor("add an unsignalled fence to a buffer's reservation object")
    public synchronized int fence(@Descriptor("shell fd") int fd,
            @Descriptor("usage: kernel, write (default), read, bookkeep") String... usage) {
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
            Fence fe = new Fence(ids.incrementAndGet(), f, fd, u);
            fences.put(fe.id(), fe);
            System.err.println(String.format(Locale.ROOT, "fence %d (context %d seqno %d) %s on fd %d", fe.id(), context,
                    f.seqno(), u, fd));
            return fe.id();
        } finally {
            core.put(b);
        }
    }

    @Descriptor("signal a shell fence, optionally with an error (negative errno)")
    public synchronized String signal(@Descriptor("fence") int id, @Descriptor("error, e.g. -5") int... error) {
        Fence f = fences.get(id);
        if (f == null) {
            throw KernelException.einval("no fence %d in the shell", id);
        }
        if (error.length > 0) {
            f.fence().setError(error[0]);
        }
        int r = f.fence().signal();
        return r == 0 ? "fence " + id + " signalled (status " + f.fence().getStatus() + ")"
                : "fence " + id + " was already signalled";
    }

    @Descriptor("wait on a buffer's fences of a usage (dma_resv_wait_timeout)")
    public String wait(@Descriptor("shell fd") int fd, @Descriptor("usage (default read: everything but bookkeep)") String usage,
            @Descriptor("timeout in ms") long ms) {
        DmaBuf b;
        synchronized (this) {
            b = buf(fd);
        }
        try {
            long r = b.resv().waitTimeout(usage(usage), true, (ms * DmaFence.HZ + 999) / 1000); // msecs_to_jiffies
            if (r < 0) {
                throw new KernelException(Errno.of((int) r).orElse(Errno.EINTR), "wait on fd " + fd + " failed");
            }
            return r == 0 ? "timed out after " + ms + " ms" : "signalled";
        } finally {
            core.put(b);
        }
    }

    /** A new shell fd: its description on stderr, the number as the result (so {@code fd = (gpualloc ...)} works). */
    private int opened(int fd) {
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
    private DmaBuf buf(int fd) {
        if (!fds.contains(fd)) {
            throw new KernelException(Errno.EBADF, "fd " + fd + " is not a dma-buf open in the shell (open: " + fds + ")");
        }
        return proc.get(fd);
    }

    private Att att(int id) {
        Att a = atts.get(id);
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
