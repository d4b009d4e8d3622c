package org.peerdma.mm.shell;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.dmirror.Dmirror;
import org.peerdma.mm.dmirror.DmirrorDevices;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.MmProcesses;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.Vma;
import org.peerdma.util.Sizes;

/** Processes, their memory and dmirror devices from the shell. */
@Component(service = HmmCommands.class, immediate = true, property = {"osgi.command.scope=hmm",
    "osgi.command.function=proc", "osgi.command.function=mmap", "osgi.command.function=munmap",
    "osgi.command.function=mprotect", "osgi.command.function=vmas", "osgi.command.function=write",
    "osgi.command.function=read", "osgi.command.function=dmirror", "osgi.command.function=devread",
    "osgi.command.function=migrate", "osgi.command.function=migrateback", "osgi.command.function=snapshot",
    "osgi.command.function=exit", "osgi.command.function=rmdev", "osgi.command.function=madvise",
    "osgi.command.function=hugepages", "osgi.command.function=pte", "osgi.command.function=p2pmmap",
    "osgi.command.function=dmamap", "osgi.command.function=oomreap"})
public class HmmCommands {
    /** Device memory of shell-made dmirror devices is placed from here, 1 GiB apart. */
    static final long DEVMEM_BASE = 0x200_0000_0000L;

    @Reference
    MmProcesses procs;
    @Reference
    DmirrorDevices devices;
    @Reference
    org.peerdma.mm.vm.Hmm hmm;
    // p2pdma and the DMA API may be unloaded: these commands then say which module to load
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile org.peerdma.mm.p2pvma.DeviceMemoryMapper mapper;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile org.peerdma.mm.vm.HmmDma hmmDma;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile org.peerdma.pci.PciCore pci;

    private final Map<String, Mm> mms = new TreeMap<>();
    private final Map<String, Dmirror> devs = new TreeMap<>();

    @Deactivate
    synchronized void deactivate() {
        for (Mm mm : mms.values()) {
            devs.values().forEach(d -> d.release(mm));
            mm.mmput();
        }
        devs.values().forEach(devices::destroy);
    }

    private Mm mm(String name) {
        Mm m = mms.get(name);
        if (m == null) {
            throw new KernelException(Errno.ESRCH, "no process '" + name + "' (hmm:proc NAME makes one)");
        }
        return m;
    }

    private Dmirror dev(String name) {
        Dmirror d = devs.get(name);
        if (d == null) {
            throw new KernelException(Errno.ENODEV, "no dmirror device '" + name + "' (hmm:dmirror NAME PAGES)");
        }
        return d;
    }

    private static long addr(String s) {
        try {
            return Long.decode(s);
        } catch (NumberFormatException e) {
            throw KernelException.einval("address '%s' is not a number", s);
        }
    }

    private static int prot(String s) {
        int p = 0;
        for (char c : s.toCharArray()) {
            switch (c) {
                case 'r' -> p |= Vm.PROT_READ;
                case 'w' -> p |= Vm.PROT_WRITE;
                case 'x' -> p |= Vm.PROT_EXEC;
                case '-' -> {
                }
                default -> throw KernelException.einval("protection '%s': letters r, w, x or -", s);
            }
        }
        return p;
    }

    private static String check(long r, String what) {
        return String.format(Locale.ROOT, "%#x", KernelException.check(r, what));
    }

    private static void pages(int n, int max) {
        if (n < 1 || n > max) {
            throw KernelException.einval("%d pages: 1 to %d from the shell", n, max);
        }
    }

    @Descriptor("a process with an empty address space")
    public synchronized String proc(@Descriptor("name") String name) {
        if (mms.containsKey(name)) {
            throw new KernelException(Errno.EEXIST, "process " + name + " exists");
        }
        mms.put(name, procs.create(name));
        return "process " + name;
    }

    @Descriptor("mmap anonymous memory (private unless 'shared'; 'hugetlb' for 2M pages from the pool); prints the address")
    public synchronized String mmap(@Descriptor("process") String p, @Descriptor("size (K/M suffixes)") String size,
            @Descriptor("protection, e.g. rw (default), then flags: shared, hugetlb") String... opts) {
        long len = Sizes.parse(size);
        int flags = Vm.MAP_ANONYMOUS;
        boolean shared = false;
        for (int i = 1; i < opts.length; i++) {
            switch (opts[i]) {
                case "shared" -> shared = true;
                case "private" -> shared = false;
                case "hugetlb" -> flags |= Vm.MAP_HUGETLB;
                default -> throw KernelException.einval("mmap flag '%s': shared, private or hugetlb", opts[i]);
            }
        }
        flags |= shared ? Vm.MAP_SHARED : Vm.MAP_PRIVATE;
        long r = mm(p).mmap(0, len, opts.length > 0 ? prot(opts[0]) : Vm.PROT_READ | Vm.PROT_WRITE, flags, null, 0);
        if (r == -12 && (flags & Vm.MAP_HUGETLB) != 0) {
            MmProcesses.Hugepages h = procs.hugepages();
            throw new KernelException(Errno.ENOMEM, String.format(Locale.ROOT,
                    "mmap: ENOMEM: %d free huge page(s), %d reserved (hmm:hugepages N sets nr_hugepages)", h.free(),
                    h.reserved()));
        }
        return check(r, "mmap");
    }

    @Descriptor("madvise: hugepage or nohugepage (transparent huge pages for whole 2M blocks)")
    public synchronized String madvise(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("size") String size, @Descriptor("hugepage or nohugepage") String advice) {
        int adv = switch (advice) {
            case "hugepage" -> Vm.MADV_HUGEPAGE;
            case "nohugepage" -> Vm.MADV_NOHUGEPAGE;
            default -> throw KernelException.einval("advice '%s': hugepage or nohugepage", advice);
        };
        check(mm(p).madvise(addr(a), Sizes.parse(size), adv), "madvise");
        return "advice " + advice;
    }

    @Descriptor("the hugetlb pool (HugePages_Total/Free/Rsvd); with a count, set vm.nr_hugepages first")
    public synchronized String hugepages(@Descriptor("nr_hugepages (optional)") int... n) {
        if (n.length > 0) {
            procs.setNrHugepages(n[0]);
        }
        MmProcesses.Hugepages h = procs.hugepages();
        return String.format(Locale.ROOT, "HugePages_Total: %d%nHugePages_Free:  %d%nHugePages_Rsvd:  %d%n"
                + "Hugepagesize:    2048 kB", h.total(), h.free(), h.reserved());
    }

    @Descriptor("the page-table entry of an address")
    public synchronized String pte(@Descriptor("process") String p, @Descriptor("address") String a) {
        Mm.Pte t = mm(p).pte(addr(a));
        if (t.equals(Mm.Pte.NONE)) {
            return "none";
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "pfn %#x", t.pfn()));
        sb.append(t.present() ? " present" : "").append(t.writable() ? " writable" : " read-only");
        sb.append(t.zero() ? " zero-page" : "").append(t.special() ? " special" : "");
        sb.append(t.order() > 0 ? " order " + t.order() + (t.order() == Vm.HPAGE_PMD_ORDER ? " (PMD)" : "") : "");
        sb.append(t.devicePrivate() ? " device-private" : t.page() != null ? " device" : "");
        sb.append(t.migration() ? " migration-entry" : "").append(t.exclusiveOwner() != null ? " device-exclusive" : "");
        return sb.toString();
    }

    @Descriptor("munmap")
    public synchronized String munmap(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("size") String size) {
        check(mm(p).munmap(addr(a), Sizes.parse(size)), "munmap");
        return "unmapped";
    }

    @Descriptor("mprotect")
    public synchronized String mprotect(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("size") String size, @Descriptor("protection, e.g. r") String prot) {
        check(mm(p).mprotect(addr(a), Sizes.parse(size), prot(prot)), "mprotect");
        return "protection " + prot;
    }

    @Descriptor("the process's vmas (/proc/PID/maps)")
    public synchronized String vmas(@Descriptor("process") String p) {
        StringBuilder sb = new StringBuilder();
        for (Vma v : mm(p).vmas()) {
            sb.append(v).append(System.lineSeparator());
        }
        return sb.length() == 0 ? "no mappings" : sb.toString().stripTrailing();
    }

    @Descriptor("the CPU writes text at an address (faulting pages in)")
    public synchronized String write(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("text") String text) {
        return KernelException.check(mm(p).write(addr(a), text.getBytes(StandardCharsets.UTF_8)), "write")
                + " bytes written";
    }

    @Descriptor("the CPU reads text at an address")
    public synchronized String read(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("bytes") int len) {
        if (len < 0 || len > 1 << 20) {
            throw KernelException.einval("length %d: 0 to 1 MiB from the shell", len);
        }
        byte[] b = new byte[len];
        check(mm(p).read(addr(a), b), "read");
        return new String(b, StandardCharsets.UTF_8);
    }

    @Descriptor("a dmirror device with PAGES pages of device-private memory")
    public synchronized String dmirror(@Descriptor("name") String name, @Descriptor("pages") int pages) {
        if (devs.containsKey(name)) {
            throw new KernelException(Errno.EEXIST, "device " + name + " exists");
        }
        if (pages < 1 || pages > 262144) {
            throw KernelException.einval("%d pages: 1 to 262144", pages);
        }
        devs.put(name, devices.create(name, DEVMEM_BASE + ((long) devs.size() << 30), pages));
        return "device " + name + ": " + pages + " pages of device memory";
    }

    @Descriptor("the device reads pages of a process through HMM (HMM_DMIRROR_READ), as text")
    public synchronized String devread(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n, @Descriptor("bytes to show") int show) {
        pages(n, 256);
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, new byte[(int) (n * Vm.PAGE_SIZE)]);
        check(dev(d).read(mm(p), c), "HMM_DMIRROR_READ");
        return new String(c.ptr, 0, Math.min(show, c.ptr.length), StandardCharsets.UTF_8).replace("\0", "") + " ("
                + c.faults + " fault(s))";
    }

    @Descriptor("migrate pages of a process to the device's memory")
    public synchronized String migrate(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n) {
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, null);
        int r = dev(d).migrateToDev(mm(p), c);
        if (r < 0 && r != -2) {
            check(r, "MIGRATE_TO_DEV");
        }
        return c.cpages + " of " + n + " page(s) on " + d + (r == -2 ? " (ENOENT: not all could move)" : "");
    }

    @Descriptor("migrate the device's pages of a range back to system memory")
    public synchronized String migrateback(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n) {
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, null);
        check(dev(d).migrateToSys(mm(p), c), "MIGRATE_TO_SYS");
        return c.cpages + " page(s) back in system memory";
    }

    @Descriptor("what the CPU page table holds for a range, page by page (no faulting)")
    public synchronized String snapshot(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n) {
        pages(n, 65536);
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, new byte[n]);
        check(dev(d).snapshot(mm(p), c), "HMM_DMIRROR_SNAPSHOT");
        StringBuilder sb = new StringBuilder();
        for (byte b : c.ptr) {
            sb.append(snapshotWord(b)).append(' ');
        }
        return sb.toString().trim();
    }

    /** One HMM_DMIRROR_PROT_* byte as a word: rw, ro, none, error, zero, dev-private(-ro), remote-private, +pmd. */
    static String snapshotWord(byte b) {
        if (b == Dmirror.PROT_ERROR) {
            return "error";
        }
        String access = (b & Dmirror.PROT_WRITE) != 0 ? "rw" : (b & Dmirror.PROT_READ) != 0 ? "ro" : "none";
        String w = switch (b & 0xF0) {
            case Dmirror.PROT_ZERO -> "zero";
            case Dmirror.PROT_DEV_PRIVATE_LOCAL -> access.equals("rw") ? "dev-private" : "dev-private-ro";
            case Dmirror.PROT_DEV_PRIVATE_REMOTE -> "remote-private";
            case Dmirror.PROT_DEV_COHERENT_LOCAL -> "dev-coherent";
            case Dmirror.PROT_DEV_COHERENT_REMOTE -> "remote-coherent";
            default -> access;
        };
        return w + ((b & Dmirror.PROT_PMD) != 0 ? "+pmd" : (b & Dmirror.PROT_PUD) != 0 ? "+pud" : "");
    }

    @Descriptor("remove a dmirror device: process pages still in its memory are migrated back first")
    public synchronized String rmdev(@Descriptor("device") String d) {
        Dmirror dev = dev(d);
        int held = dev.totalPages() - dev.freePages();
        devs.remove(d);
        devices.destroy(dev);
        return "device " + d + " removed" + (held > 0 ? ", " + held + " page(s) evicted to system memory" : "");
    }

    private static <T> T need(T service, String module) {
        if (service == null) {
            throw KernelException.enodev("module %s is not loaded (modprobe %s)", module, module);
        }
        return service;
    }

    private org.peerdma.pci.PciDevice pciDev(String bdf) {
        org.peerdma.pci.Bdf b = org.peerdma.pci.Bdf.parse(bdf);
        org.peerdma.pci.PciCore core = need(pci, "pci");
        return core.machine().device(b).orElseThrow(
                () -> KernelException.enodev("no PCI device %s in machine '%s'", b, core.machine().name()));
    }

    @Descriptor("mmap a p2pdma provider's p2pmem/allocate file into a process (shared, pool pages); prints the address")
    public synchronized String p2pmmap(@Descriptor("process") String p, @Descriptor("provider BDF") String bdf,
            @Descriptor("size") String size) {
        return check(need(mapper, "p2pdma").mmapP2pmem(mm(p), pciDev(bdf), Sizes.parse(size)), "mmap p2pmem");
    }

    @Descriptor("hmm_range_fault a range, then hmm_dma_map_pfn each page for a PCI device: the DMA addresses it would use")
    public synchronized String dmamap(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("pages") int n, @Descriptor("device BDF") String bdf) {
        pages(n, 256);
        org.peerdma.mm.vm.HmmDma hd = need(hmmDma, "p2pdma");
        org.peerdma.pci.PciDevice dev = pciDev(bdf);
        Mm m = mm(p);
        org.peerdma.mm.vm.HmmDma.Map map = new org.peerdma.mm.vm.HmmDma.Map();
        check(hd.mapAlloc(dev, map, n, Vm.PAGE_SIZE), "hmm_dma_map_alloc");
        try {
            org.peerdma.mm.vm.Hmm.Range r = new org.peerdma.mm.vm.Hmm.Range();
            r.start = addr(a);
            r.end = r.start + n * Vm.PAGE_SIZE;
            r.hmmPfns = map.pfnList;
            r.defaultFlags = Vm.HMM_PFN_REQ_FAULT;
            m.mmapLock().readLock().lock();
            try {
                check(hmm.rangeFault(m, r), "hmm_range_fault");
            } finally {
                m.mmapLock().readLock().unlock();
            }
            StringBuilder sb = new StringBuilder();
            long[] dmas = new long[n];
            for (int i = 0; i < n; i++) { // all mapped at once, as a driver programs its device
                dmas[i] = hd.mapPfn(dev, map, i);
            }
            for (int i = 0; i < n; i++) {
                long dma = dmas[i];
                long f = map.pfnList[i];
                sb.append(String.format(Locale.ROOT, "%#x pfn %#x -> ", r.start + i * Vm.PAGE_SIZE, Vm.hmmPfnToPfn(f)));
                sb.append(dma == -1 ? "DMA_MAPPING_ERROR" : String.format(Locale.ROOT, "%#x", dma));
                sb.append((f & Vm.HMM_PFN_P2PDMA_BUS) != 0 ? " (P2PDMA bus address)"
                        : (f & Vm.HMM_PFN_P2PDMA) != 0 ? " (P2PDMA through the host bridge)" : "");
                sb.append(System.lineSeparator());
            }
            for (int i = 0; i < n; i++) {
                hd.unmapPfn(dev, map, i);
            }
            return sb.toString().stripTrailing();
        } finally {
            hd.mapFree(dev, map);
        }
    }

    @Descriptor("the OOM reaper frees the process's private memory (non-blocking notifiers; EAGAIN if one refused)")
    public synchronized String oomreap(@Descriptor("process") String p) {
        Mm m = mm(p);
        long before = m.rssPages();
        check(m.oomReap(), "oom_reap");
        return (before - m.rssPages()) + " page(s) reaped";
    }

    @Descriptor("the process exits (its mirrors are released, its memory freed)")
    public synchronized String exit(@Descriptor("process") String p) {
        Mm m = mm(p);
        devs.values().forEach(d -> d.release(m));
        mms.remove(p);
        m.mmput();
        return "process " + p + " exited";
    }
}
