package org.peerdma.mm.vm.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.peerdma.dma.PhysMemory;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.MmuInterval;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.Vma;
import org.peerdma.mm.vm.VmFile;
import org.peerdma.mm.vm.VmOps;

/**
 * An address space: vmas sorted by start, one page-table level (vpn -&gt; pte), anonymous pages
 * from the RAM map. The mmap_lock orders mmap/munmap/mprotect (write) against faults and walks
 * (read); the page table itself is guarded by this object's monitor (the page-table lock).
 */
final class MmImpl implements Mm {
    static final long TOP = 0x7f00_0000_0000L;
    static final long EINVAL = -22;
    /** x86_64's TASK_SIZE_MAX with 4-level paging: the top of a process's address space. */
    static final long TASK_SIZE = 0x7ffffffff000L;
    static final long ENOMEM = -12;

    private final String name;
    private final PhysMemory ram;
    private final org.peerdma.mm.ZoneDevice zone;
    private final Map<Long, PhysMemory.PhysRegion> pendingRam = new java.util.HashMap<>();
    private final ReentrantReadWriteLock mmapLock = new ReentrantReadWriteLock();
    private final TreeMap<Long, VmaImpl> vmas = new TreeMap<>();
    private final TreeMap<Long, PteImpl> ptes = new TreeMap<>();
    private int users = 1;
    // mmu interval notifiers (mmu_notifier_subscriptions)
    private final List<Sub> subs = new CopyOnWriteArrayList<>();
    private final List<Sub> deferred = new ArrayList<>();
    private long invalidateSeq = 2;
    private int activeInvalidates;
    private final ZeroPage zero;
    private final HugetlbPool hugetlb;
    /** Huge-page addresses of hugetlb vmas reserved at mmap and not faulted yet. */
    private final java.util.Set<Long> hugeResv = new java.util.HashSet<>();
    static final int HPAGE_NR = 1 << Vm.HPAGE_PMD_ORDER;

    /** The kernel's zero page: its frame and its (read-only) memory. */
    record ZeroPage(long pfn, ByteBuffer mem) {
    }

    /** The kernel's live address spaces (this one is in it until it exits). */
    private final java.util.Set<MmImpl> live;

    MmImpl(String name, PhysMemory ram, org.peerdma.mm.ZoneDevice zone, ZeroPage zero, HugetlbPool hugetlb,
            java.util.Set<MmImpl> live) {
        this.name = name;
        this.ram = ram;
        this.zone = zone;
        this.zero = zero;
        this.hugetlb = hugetlb;
        this.live = live;
        live.add(this);
    }

    /** The holder name a driver uses for the reference a device page in a page table holds. */
    static final String PTE_HOLDER = "mm";

    static final class VmaImpl implements Vma {
        long start;
        long end;
        long flags;
        final VmFile file;
        long pgoff;
        final VmOps ops;

        VmaImpl(long start, long end, long flags, VmFile file, long pgoff, VmOps ops) {
            this.start = start;
            this.end = end;
            this.flags = flags;
            this.file = file;
            this.pgoff = pgoff;
            this.ops = ops;
        }

        VmaImpl copy() {
            return new VmaImpl(start, end, flags, file, pgoff, ops);
        }

        @Override
        public long start() {
            return start;
        }

        @Override
        public long end() {
            return end;
        }

        @Override
        public long flags() {
            return flags;
        }

        @Override
        public VmFile file() {
            return file;
        }

        @Override
        public long pgoff() {
            return pgoff;
        }

        @Override
        public VmOps ops() {
            return ops;
        }

        @Override
        public String toString() {
            return String.format("%012x-%012x %s%s%s%s %s", start, end, (flags & Vm.VM_READ) != 0 ? "r" : "-",
                    (flags & Vm.VM_WRITE) != 0 ? "w" : "-", (flags & Vm.VM_EXEC) != 0 ? "x" : "-",
                    (flags & Vm.VM_SHARED) != 0 ? "s" : "p",
                    ops != null ? "[special]" : file != null ? file.name() : "[anon]");
        }
    }

    /** A huge page (THP or hugetlb): 512 subpages mapped one by one, freed when the last goes. */
    static final class Compound {
        final PhysMemory.PhysRegion region;
        final boolean hugetlb;
        final Runnable free;
        final java.util.concurrent.atomic.AtomicInteger pages = new java.util.concurrent.atomic.AtomicInteger(HPAGE_NR);

        Compound(PhysMemory.PhysRegion region, boolean hugetlb, Runnable free) {
            this.region = region;
            this.hugetlb = hugetlb;
            this.free = free;
        }

        void put() {
            if (pages.decrementAndGet() == 0) {
                free.run();
            }
        }
    }

    /**
     * A page a page table owns, and how many page tables map it (parent and children after fork
     * share it): an anonymous page, a subpage of a huge page, or a page a driver inserted
     * (vm_insert_page: not anonymous, so a private write copies it).
     */
    static final class AnonPage {
        final PhysMemory.PhysRegion region;
        final Compound compound;
        final boolean anon;
        final java.util.concurrent.atomic.AtomicInteger maps = new java.util.concurrent.atomic.AtomicInteger(1);

        AnonPage(PhysMemory.PhysRegion region) {
            this(region, null, true);
        }

        AnonPage(PhysMemory.PhysRegion region, Compound compound, boolean anon) {
            this.region = region;
            this.compound = compound;
            this.anon = anon;
        }

        void get() {
            maps.incrementAndGet();
        }

        void put() {
            if (maps.decrementAndGet() == 0) {
                if (compound != null) {
                    compound.put();
                } else {
                    region.close();
                }
            }
        }

        boolean shared() {
            return maps.get() > 1;
        }
    }

    /** A page-table entry: the frame, its memory, and whether the address space owns the page. */
    static final class PteImpl {
        final long pfn;
        boolean writable;
        final boolean special;
        final ByteBuffer mem;
        final AnonPage owned;
        /** ZONE_DEVICE memory (device-private: not CPU accessible; coherent: mem is its data). */
        final org.peerdma.mm.Page device;
        /** A device-exclusive entry's owner (not CPU accessible until restored), or null. */
        Object exclusiveOwner;
        /** A migration entry: the page is being migrated; CPU accesses wait (migration_entry_wait). */
        boolean migrating;
        /** The mapping's order: 9 while a PMD maps the huge page this subpage belongs to, else 0. */
        int order;

        PteImpl(long pfn, boolean writable, boolean special, ByteBuffer mem, AnonPage owned) {
            this(pfn, writable, special, mem, owned, null);
        }

        PteImpl(long pfn, boolean writable, boolean special, ByteBuffer mem, AnonPage owned,
                org.peerdma.mm.Page device) {
            this.pfn = pfn;
            this.writable = writable;
            this.special = special;
            this.mem = mem;
            this.owned = owned;
            this.device = device;
        }

        boolean devicePrivate() {
            return device != null && device.pgmap().type == org.peerdma.mm.MemoryType.DEVICE_PRIVATE;
        }

        /** Drop what this entry holds: an owned RAM page, or the page table's reference on a device page. */
        void release() {
            if (owned != null) {
                owned.put();
            }
            if (device != null) {
                device.put(PTE_HOLDER);
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ReentrantReadWriteLock mmapLock() {
        return mmapLock;
    }

    private static long protFlags(int prot) {
        long f = 0;
        if ((prot & Vm.PROT_READ) != 0) {
            f |= Vm.VM_READ;
        }
        if ((prot & Vm.PROT_WRITE) != 0) {
            f |= Vm.VM_WRITE;
        }
        if ((prot & Vm.PROT_EXEC) != 0) {
            f |= Vm.VM_EXEC;
        }
        return f;
    }

    private static long pageUp(long len) {
        return (len + Vm.PAGE_SIZE - 1) & -Vm.PAGE_SIZE;
    }

    // ---------------------------------------------------------------- mmap / munmap / mprotect

    @Override
    public long mmap(long addr, long length, int prot, int flags, VmFile file, long pgoff) {
        int type = flags & (Vm.MAP_SHARED | Vm.MAP_PRIVATE);
        if (length <= 0 || (addr & (Vm.PAGE_SIZE - 1)) != 0 || (prot & ~7) != 0
                || type == 0 || type == (Vm.MAP_SHARED | Vm.MAP_PRIVATE)) {
            return EINVAL;
        }
        boolean anon = (flags & Vm.MAP_ANONYMOUS) != 0;
        if (!anon && (file == null || pgoff < 0 || (pgoff << Vm.PAGE_SHIFT) + pageUp(length) > pageUp(file.size()))) {
            return EINVAL;
        }
        long vflags = protFlags(prot) | Vm.VM_MAYREAD | Vm.VM_MAYWRITE | (type == Vm.MAP_SHARED ? Vm.VM_SHARED : 0);
        long len = pageUp(length);
        if ((flags & Vm.MAP_HUGETLB) != 0) {
            if (!anon || (addr & (Vm.PMD_SIZE - 1)) != 0) {
                return EINVAL; // hugetlbfs files are not modelled; the address must be huge-page aligned
            }
            len = (length + Vm.PMD_SIZE - 1) & -Vm.PMD_SIZE;
            vflags |= Vm.VM_HUGETLB | Vm.VM_DONTEXPAND;
        }
        return map(addr, len, (flags & Vm.MAP_FIXED) != 0, vflags, anon ? null : file, anon ? 0 : pgoff, null);
    }

    @Override
    public long mmapDevice(long addr, long length, int prot, int flags, VmOps ops) {
        int type = flags & (Vm.MAP_SHARED | Vm.MAP_PRIVATE);
        if (length <= 0 || (addr & (Vm.PAGE_SIZE - 1)) != 0 || ops == null || (prot & ~7) != 0
                || type == 0 || type == (Vm.MAP_SHARED | Vm.MAP_PRIVATE)) {
            return EINVAL;
        }
        long vflags = protFlags(prot) | Vm.VM_MAYREAD | Vm.VM_MAYWRITE | (type == Vm.MAP_SHARED ? Vm.VM_SHARED : 0);
        return map(addr, pageUp(length), (flags & Vm.MAP_FIXED) != 0, vflags, null, 0, ops);
    }

    @Override
    public int insertPage(Vma vma, long addr, long pfn) {
        if (!(vma instanceof VmaImpl v) || (v.flags & Vm.VM_PFNMAP) != 0 || addr < v.start || addr >= v.end
                || (addr & (Vm.PAGE_SIZE - 1)) != 0) {
            return (int) EINVAL;
        }
        synchronized (this) {
            PhysMemory.PhysRegion page = pendingRam.get(pfn);
            org.peerdma.mm.Page dev = page == null && isDevicePfn(pfn) ? zone.pfnToPage(pfn) : null;
            if (page == null && (dev == null || dev.pgmap().type == org.peerdma.mm.MemoryType.DEVICE_PRIVATE)) {
                return (int) EINVAL; // neither an allocPage page nor CPU-addressable device memory
            }
            long vpn = addr >>> Vm.PAGE_SHIFT;
            if (ptes.containsKey(vpn)) {
                return -16; // -EBUSY
            }
            v.flags |= Vm.VM_MIXEDMAP;
            // vm_page_prot: writable only in a shared writable mapping (a private one copies on write)
            boolean w = (v.flags & (Vm.VM_SHARED | Vm.VM_WRITE)) == (Vm.VM_SHARED | Vm.VM_WRITE);
            if (dev != null) {
                dev.get(PTE_HOLDER);
                ptes.put(vpn, new PteImpl(pfn, w, false, dev.data(), null, dev));
            } else {
                pendingRam.remove(pfn);
                ptes.put(vpn, new PteImpl(pfn, w, false, page.memory(), new AnonPage(page, null, false)));
            }
            return 0;
        }
    }

    @Override
    public long mmapSpecial(long addr, long length, int prot, VmOps ops) {
        if (length <= 0 || (addr & (Vm.PAGE_SIZE - 1)) != 0 || ops == null) {
            return EINVAL;
        }
        long vflags = protFlags(prot) | Vm.VM_MAYREAD | Vm.VM_MAYWRITE | Vm.VM_SHARED | Vm.VM_IO | Vm.VM_PFNMAP
                | Vm.VM_DONTEXPAND;
        return map(addr, pageUp(length), addr != 0, vflags, null, 0, ops);
    }

    private long map(long addr, long len, boolean fixed, long vflags, VmFile file, long pgoff, VmOps ops) {
        mmapLock.writeLock().lock();
        try {
            long at;
            boolean huge = (vflags & Vm.VM_HUGETLB) != 0;
            if (fixed) {
                at = addr;
                if (at + len < at || at + len > TOP) {
                    return ENOMEM;
                }
            } else {
                at = freeArea(len, huge ? Vm.PMD_SIZE : Vm.PAGE_SIZE);
                if (at < 0) {
                    return ENOMEM;
                }
            }
            if (huge && !hugetlb.reserve(len / Vm.PMD_SIZE)) {
                return ENOMEM; // not enough free huge pages to reserve (HugePages_Free - HugePages_Rsvd)
            }
            if (fixed) {
                unmapLocked(at, len); // MAP_FIXED replaces what was there
            }
            if (huge) {
                synchronized (this) {
                    for (long b = at; b < at + len; b += Vm.PMD_SIZE) {
                        hugeResv.add(b);
                    }
                }
            }
            VmaImpl v = new VmaImpl(at, at + len, vflags, file, pgoff, ops);
            vmas.put(at, v);
            return at;
        } finally {
            mmapLock.writeLock().unlock();
        }
    }

    /** Top-down: the highest gap below TOP that fits, its start aligned. */
    private long freeArea(long len, long align) {
        long hi = TOP;
        for (VmaImpl v : vmas.descendingMap().values()) {
            long at = (hi - len) & -align;
            if (at >= v.end) {
                return at;
            }
            hi = Math.min(hi, v.start);
        }
        long at = (hi - len) & -align;
        return at >= Vm.PAGE_SIZE << 4 ? at : -1;
    }

    /** A hugetlb vma is split only at huge-page boundaries (hugetlb_vm_op_split): -EINVAL otherwise. */
    private boolean hugetlbSplitOk(long start, long end) {
        for (VmaImpl v : overlapping(start, end)) {
            if ((v.flags & Vm.VM_HUGETLB) != 0 && (start > v.start && (start & (Vm.PMD_SIZE - 1)) != 0
                    || end < v.end && (end & (Vm.PMD_SIZE - 1)) != 0)) {
                return false;
            }
        }
        return true;
    }

    /** split_huge_pmd: a THP mapped by the PMD holding addr becomes 512 page mappings (the page stays whole). */
    private synchronized void splitPmd(long addr) {
        long vpn0 = (addr & -Vm.PMD_SIZE) >>> Vm.PAGE_SHIFT;
        for (PteImpl p : ptes.subMap(vpn0, true, vpn0 + HPAGE_NR - 1, true).values()) {
            if (p.order > 0 && p.owned != null && p.owned.compound != null && !p.owned.compound.hugetlb) {
                p.order = 0;
            }
        }
    }

    private void splitEdges(long start, long end) {
        if ((start & (Vm.PMD_SIZE - 1)) != 0) {
            splitPmd(start);
        }
        if ((end & (Vm.PMD_SIZE - 1)) != 0) {
            splitPmd(end);
        }
    }

    /** Split every THP mapping in [start, end) and at its edges. */
    private void splitPmds(long start, long end) {
        for (long b = start & -Vm.PMD_SIZE; b < end; b += Vm.PMD_SIZE) {
            splitPmd(b);
        }
    }

    /** Map a huge page's 512 subpages at base (under the page-table lock). */
    private void installHuge(long base, Compound c, boolean writable) {
        ByteBuffer all = c.region.memory();
        long pfn0 = c.region.phys() >>> Vm.PAGE_SHIFT;
        long vpn0 = base >>> Vm.PAGE_SHIFT;
        for (int i = 0; i < HPAGE_NR; i++) {
            PteImpl p = new PteImpl(pfn0 + i, writable, false, all.slice(i * (int) Vm.PAGE_SIZE, (int) Vm.PAGE_SIZE),
                    new AnonPage(null, c, true));
            p.order = Vm.HPAGE_PMD_ORDER;
            PteImpl old = ptes.put(vpn0 + i, p);
            if (old != null) {
                old.release();
            }
        }
    }

    @Override
    public int munmap(long addr, long length) {
        if (length <= 0 || (addr & (Vm.PAGE_SIZE - 1)) != 0) {
            return (int) EINVAL;
        }
        // do_vmi_munmap: start > TASK_SIZE || len > TASK_SIZE - start is -EINVAL
        if (Long.compareUnsigned(addr, TASK_SIZE) > 0 || Long.compareUnsigned(length, TASK_SIZE - addr) > 0) {
            return (int) EINVAL;
        }
        mmapLock.writeLock().lock();
        try {
            if (!hugetlbSplitOk(addr, addr + pageUp(length))) {
                return (int) EINVAL;
            }
            unmapLocked(addr, pageUp(length));
            return 0;
        } finally {
            mmapLock.writeLock().unlock();
        }
    }

    @Override
    public long unmapMappingRange(VmOps ops, long start, long length) {
        if (ops == null || length <= 0 || (start & (Vm.PAGE_SIZE - 1)) != 0 || start + pageUp(length) < start) {
            return EINVAL;
        }
        long end = start + pageUp(length);
        mmapLock.writeLock().lock();
        try {
            long n = 0;
            for (VmaImpl v : overlapping(start, end)) {
                if (v.ops != ops) {
                    continue;
                }
                long s = Math.max(start, v.start);
                long e = Math.min(end, v.end);
                long[] count = new long[1];
                invalidate(s, e, "unmap", null, true, () -> {
                    synchronized (this) {
                        count[0] = ptes.subMap(s >>> Vm.PAGE_SHIFT, true, (e - 1) >>> Vm.PAGE_SHIFT, true).size();
                    }
                    clearPtes(s, e);
                });
                n += count[0];
            }
            return n;
        } finally {
            mmapLock.writeLock().unlock();
        }
    }

    /** Notifiers first, then the ptes (pages freed), then the vmas split or dropped. */
    private void unmapLocked(long start, long len) {
        long end = start + len;
        invalidate(start, end, "unmap", null, true, () -> {
            splitEdges(start, end); // a THP cut at either edge is mapped by pages from now on
            clearPtes(start, end);
        });
        for (VmaImpl v : overlapping(start, end)) {
            if ((v.flags & Vm.VM_HUGETLB) != 0) { // reservations of pages never faulted go back
                long n = 0;
                synchronized (this) {
                    for (long b = Math.max(start, v.start); b < Math.min(end, v.end); b += Vm.PMD_SIZE) {
                        n += hugeResv.remove(b) ? 1 : 0;
                    }
                }
                hugetlb.unreserve(n);
            }
            vmas.remove(v.start);
            if (v.start < start) {
                VmaImpl left = v.copy();
                left.end = start;
                vmas.put(left.start, left);
            }
            if (v.end > end) {
                VmaImpl right = v.copy();
                right.pgoff += (end - v.start) >> Vm.PAGE_SHIFT;
                right.start = end;
                vmas.put(right.start, right);
            }
            if (v.ops != null && v.start >= start && v.end <= end) {
                v.ops.close(v);
            }
        }
    }

    /** The vmas over [start, end) when they cover it without a gap, else null. */
    private List<VmaImpl> covering(long start, long end) {
        List<VmaImpl> over = overlapping(start, end);
        long covered = start;
        for (VmaImpl v : over) {
            if (v.start > covered) {
                return null;
            }
            covered = v.end;
        }
        return covered < end ? null : over;
    }

    private List<VmaImpl> overlapping(long start, long end) {
        List<VmaImpl> out = new ArrayList<>();
        Map.Entry<Long, VmaImpl> first = vmas.floorEntry(start);
        long from = first != null && first.getValue().end > start ? first.getKey() : start;
        for (VmaImpl v : vmas.subMap(from, true, end, false).values()) {
            if (v.end > start) {
                out.add(v);
            }
        }
        return out;
    }

    private synchronized void clearPtes(long start, long end) {
        var range = ptes.subMap(start >>> Vm.PAGE_SHIFT, true, (end - 1) >>> Vm.PAGE_SHIFT, true);
        List<PteImpl> gone = new ArrayList<>(range.values());
        range.clear();
        gone.forEach(PteImpl::release);
    }

    @Override
    public int mprotect(long addr, long length, int prot) {
        if (length <= 0 || (addr & (Vm.PAGE_SIZE - 1)) != 0 || (prot & ~7) != 0) {
            return (int) EINVAL;
        }
        long end = addr + pageUp(length);
        // do_mprotect_pkey: end <= start is -ENOMEM, and nothing is mapped above TASK_SIZE
        if (Long.compareUnsigned(end, addr) <= 0 || Long.compareUnsigned(end, TASK_SIZE) > 0) {
            return (int) ENOMEM;
        }
        mmapLock.writeLock().lock();
        try {
            List<VmaImpl> over = covering(addr, end);
            if (over == null) {
                return (int) ENOMEM; // part of the range is not mapped
            }
            long nf = protFlags(prot);
            for (VmaImpl v : over) {
                if ((nf & Vm.VM_WRITE) != 0 && (v.flags & Vm.VM_MAYWRITE) == 0) {
                    return -13; // -EACCES
                }
            }
            if (!hugetlbSplitOk(addr, end)) {
                return (int) EINVAL;
            }
            splitEdges(addr, end); // change_huge_pmd keeps whole PMDs; a THP cut at an edge is split
            boolean dropsWrite = over.stream().anyMatch(v -> (v.flags & Vm.VM_WRITE) != 0) && (nf & Vm.VM_WRITE) == 0;
            if (dropsWrite || nf == 0) {
                invalidate(addr, end, "protection", null, true, () -> {
                    synchronized (this) {
                        for (PteImpl p : ptes.subMap(addr >>> Vm.PAGE_SHIFT, true, (end - 1) >>> Vm.PAGE_SHIFT, true)
                                .values()) {
                            p.writable = false;
                        }
                    }
                });
            }
            setFlags(over, addr, end, f -> (f & ~(Vm.VM_READ | Vm.VM_WRITE | Vm.VM_EXEC)) | nf);
            return 0;
        } finally {
            mmapLock.writeLock().unlock();
        }
    }

    /** The vmas over [addr, end) split at its edges, the middle parts' flags changed. */
    private void setFlags(List<VmaImpl> over, long addr, long end, java.util.function.LongUnaryOperator change) {
        for (VmaImpl v : over) {
            vmas.remove(v.start);
            long s = Math.max(v.start, addr);
            long e = Math.min(v.end, end);
            if (v.start < s) {
                VmaImpl left = v.copy();
                left.end = s;
                vmas.put(left.start, left);
            }
            VmaImpl mid = v.copy();
            mid.pgoff += (s - v.start) >> Vm.PAGE_SHIFT;
            mid.start = s;
            mid.end = e;
            mid.flags = change.applyAsLong(v.flags);
            vmas.put(mid.start, mid);
            if (v.end > e) {
                VmaImpl right = v.copy();
                right.pgoff += (e - v.start) >> Vm.PAGE_SHIFT;
                right.start = e;
                vmas.put(right.start, right);
            }
        }
    }

    @Override
    public int madvise(long addr, long length, int advice) {
        if ((addr & (Vm.PAGE_SIZE - 1)) != 0 || length < 0
                || advice != Vm.MADV_HUGEPAGE && advice != Vm.MADV_NOHUGEPAGE) {
            return (int) EINVAL;
        }
        long end = addr + pageUp(length);
        if (Long.compareUnsigned(end, addr) < 0) {
            return (int) EINVAL; // madvise: end < start
        }
        if (Long.compareUnsigned(end, TASK_SIZE) > 0) {
            return (int) ENOMEM; // not mapped
        }
        mmapLock.writeLock().lock();
        try {
            List<VmaImpl> over = covering(addr, end);
            if (over == null) {
                return (int) ENOMEM; // part of the range is not mapped
            }
            for (VmaImpl v : over) {
                if ((v.flags & (Vm.VM_HUGETLB | Vm.VM_IO | Vm.VM_PFNMAP | Vm.VM_MIXEDMAP)) != 0) {
                    return (int) EINVAL; // hugepage_madvise on a special or hugetlb vma
                }
            }
            setFlags(over, addr, end, f -> advice == Vm.MADV_HUGEPAGE ? (f | Vm.VM_HUGEPAGE) & ~Vm.VM_NOHUGEPAGE
                    : (f | Vm.VM_NOHUGEPAGE) & ~Vm.VM_HUGEPAGE);
            return 0;
        } finally {
            mmapLock.writeLock().unlock();
        }
    }

    @Override
    public Vma findVma(long addr) {
        Map.Entry<Long, VmaImpl> e = vmas.floorEntry(addr);
        return e != null && addr < e.getValue().end ? e.getValue() : null;
    }

    @Override
    public List<Vma> vmas() {
        mmapLock.readLock().lock();
        try {
            return List.copyOf(vmas.values());
        } finally {
            mmapLock.readLock().unlock();
        }
    }

    // ---------------------------------------------------------------- faults

    @Override
    public int insertPfn(Vma vma, long addr, long pfn, boolean writable) {
        if (!(vma instanceof VmaImpl v) || (v.flags & Vm.VM_PFNMAP) == 0 || addr < v.start || addr >= v.end) {
            return (int) EINVAL;
        }
        synchronized (this) {
            long vpn = addr >>> Vm.PAGE_SHIFT;
            if (ptes.containsKey(vpn)) {
                return -16; // -EBUSY
            }
            ptes.put(vpn, new PteImpl(pfn, writable && (v.flags & Vm.VM_WRITE) != 0, true, null, null));
            return 0;
        }
    }

    @Override
    public int handleFault(long addr, boolean write) {
        boolean locked = mmapLock.getReadHoldCount() > 0 || mmapLock.isWriteLockedByCurrentThread();
        if (!locked) {
            mmapLock.readLock().lock();
        }
        try {
            return fault(addr, write);
        } finally {
            if (!locked) {
                mmapLock.readLock().unlock();
            }
        }
    }

    private int fault(long addr, boolean write) {
        Vma found = findVma(addr);
        if (!(found instanceof VmaImpl v)) {
            return -14; // -EFAULT: SIGSEGV, no mapping
        }
        if (write ? (v.flags & Vm.VM_WRITE) == 0 : (v.flags & Vm.VM_READ) == 0) {
            return -13; // -EACCES: SIGSEGV, access error
        }
        long vpn = addr >>> Vm.PAGE_SHIFT;
        PteImpl p;
        while (true) {
            Object exclusive;
            synchronized (this) {
                p = ptes.get(vpn);
                while (p != null && p.migrating) { // migration_entry_wait, then the fault is retried
                    if (!waitForMigration()) {
                        return -4; // -EINTR
                    }
                    p = ptes.get(vpn);
                }
                exclusive = p == null ? null : p.exclusiveOwner;
                if (p != null && exclusive == null && !p.devicePrivate() && (!write || p.writable)) {
                    return 0;
                }
            }
            if (exclusive != null) { // remove_device_exclusive_entry: the device loses it, the CPU gets it back
                synchronized (this) {
                    if (lockedPages.contains(p)) { // folio_lock: its driver is still mapping it
                        if (!waitForMigration()) {
                            return -4;
                        }
                        continue;
                    }
                }
                long pg = addr & -Vm.PAGE_SIZE;
                PteImpl entry = p;
                invalidate(pg, pg + Vm.PAGE_SIZE, "exclusive", null, true, () -> {
                    synchronized (this) {
                        entry.exclusiveOwner = null;
                    }
                });
                continue;
            }
            if (p == null || !p.devicePrivate()) {
                break;
            }
            // a device-private entry: the owner's migrate_to_ram brings the page back, then we retry.
            // Only the holder of the page lock calls it; another fault on the page waits and retries.
            synchronized (this) {
                if (ptes.get(vpn) != p || p.migrating) { // pte_same failed: it changed meanwhile
                    continue;
                }
                if (!lockedPages.add(p.device)) {
                    if (!waitForMigration()) {
                        return -4;
                    }
                    continue;
                }
            }
            int r;
            try {
                r = p.device.pgmap().ops.migrateToRam(p.device, new Fault(this, v, addr & -Vm.PAGE_SIZE, write));
            } finally {
                unlockPage(p.device);
            }
            if (r != 0) {
                return -14; // VM_FAULT_SIGBUS
            }
            synchronized (this) {
                if (ptes.get(vpn) == p && !p.migrating) {
                    return -14; // the driver said yes but moved nothing: SIGBUS rather than fault for ever
                }
            }
            // it moved (perhaps by another migration, perhaps back to a device since): fault again
        }
        boolean mixedCow = p != null && p.owned != null && write && (v.flags & Vm.VM_MIXEDMAP) != 0
                && (v.flags & Vm.VM_SHARED) == 0;
        if (v.ops != null && !mixedCow) {
            if (p != null) {
                return -14; // a special pte the driver installed read-only
            }
            int r = v.ops.fault(this, v, addr & -Vm.PAGE_SIZE, write);
            return r < 0 ? r : 0;
        }
        if ((v.flags & (Vm.VM_IO | Vm.VM_PFNMAP)) != 0) {
            return -14;
        }
        if ((v.flags & Vm.VM_HUGETLB) != 0) {
            return hugetlbFault(v, addr, write, p);
        }
        if (p == null && thpFault(v, addr)) {
            return 0;
        }
        if (p != null && p.order > 0 && write) { // do_huge_pmd_wp_page
            if (reuseHuge(addr)) {
                return 0;
            }
            splitPmd(addr); // shared after fork: split, then copy this page alone
        }
        long index = v.pgoff + ((addr - v.start) >> Vm.PAGE_SHIFT);
        if (v.file != null && (v.flags & Vm.VM_SHARED) != 0) {
            synchronized (this) { // a shared file mapping maps the file's page itself (unless a racing fault did)
                PteImpl cur = ptes.get(vpn);
                if (cur == null) {
                    ptes.put(vpn, new PteImpl(v.file.pfn(index), (v.flags & Vm.VM_WRITE) != 0, false,
                            v.file.page(index), null));
                } else if (write && !cur.writable && !cur.migrating && cur.exclusiveOwner == null) {
                    cur.writable = true; // wp_page_shared: write-protected (mprotect, fork) but shared: no copy
                }
            }
            return 0;
        }
        if (p != null && p.owned != null && p.owned.anon && write && !p.owned.shared()) {
            synchronized (this) { // the last mapper of a copy-on-write page: it becomes writable in place
                if (ptes.get(vpn) == p && !p.migrating && p.exclusiveOwner == null) {
                    p.writable = true;
                }
            }
            return 0; // (if it changed meanwhile, the access faults again)
        }
        if (v.anonymous() && (v.flags & Vm.VM_SHARED) == 0 && !write && p == null) {
            synchronized (this) { // do_anonymous_page, read: the zero page, read-only
                if (!ptes.containsKey(vpn)) {
                    ptes.put(vpn, new PteImpl(zero.pfn, false, false, zero.mem, null));
                }
            }
            return 0;
        }
        if (v.file != null && !write && p == null) {
            synchronized (this) { // private file mapping, read: the file's page, read-only until written
                ptes.putIfAbsent(vpn, new PteImpl(v.file.pfn(index), false, false, v.file.page(index), null));
            }
            return 0;
        }
        // anonymous page, or copy-on-write of a private file page
        PhysMemory.PhysRegion page = ram.allocate("anon " + name, Vm.PAGE_SIZE, Vm.PAGE_SIZE);
        if (p != null) {
            page.memory().put(p.mem.duplicate().clear());
        } else if (v.file != null) {
            page.memory().put(v.file.page(index).duplicate().clear());
        }
        PteImpl expected = p;
        Runnable install = () -> {
            PteImpl old;
            synchronized (this) {
                if (ptes.get(vpn) != expected || expected != null && (expected.migrating || expected.exclusiveOwner != null)) {
                    page.close(); // pte_same failed: a racing fault or a migration got there first
                    return;
                }
                old = ptes.put(vpn, new PteImpl(page.phys() >>> Vm.PAGE_SHIFT, (v.flags & Vm.VM_WRITE) != 0, false,
                        page.memory(), new AnonPage(page)));
            }
            if (old != null) {
                old.release();
            }
        };
        if (p != null) { // the old page goes: the notifiers are told around the change (wp_page_copy)
            long pg = addr & -Vm.PAGE_SIZE;
            invalidate(pg, pg + Vm.PAGE_SIZE, "clear", null, true, install);
        } else {
            install.run();
        }
        return 0;
    }

    /**
     * do_huge_pmd_anonymous_page: an empty, 2 MiB-aligned block inside an anonymous private vma with
     * VM_HUGEPAGE (THP "madvise" mode) gets a huge page, read or write fault alike (the model runs with
     * use_zero_page = 0). False to fall back to a page: not eligible, or no 2 MiB of RAM.
     */
    private boolean thpFault(VmaImpl v, long addr) {
        long base = addr & -Vm.PMD_SIZE;
        if (!v.anonymous() || (v.flags & (Vm.VM_SHARED | Vm.VM_NOHUGEPAGE)) != 0 || (v.flags & Vm.VM_HUGEPAGE) == 0
                || base < v.start || base + Vm.PMD_SIZE > v.end) {
            return false;
        }
        long vpn0 = base >>> Vm.PAGE_SHIFT;
        synchronized (this) {
            if (!ptes.subMap(vpn0, true, vpn0 + HPAGE_NR - 1, true).isEmpty()) {
                return false; // pmd not none
            }
        }
        PhysMemory.PhysRegion r;
        try {
            r = ram.allocate("thp " + name, Vm.PMD_SIZE, Vm.PMD_SIZE);
        } catch (KernelException e) {
            return false; // thp_fault_fallback
        }
        synchronized (this) {
            if (!ptes.subMap(vpn0, true, vpn0 + HPAGE_NR - 1, true).isEmpty()) {
                r.close(); // another fault filled the block meanwhile
                return false;
            }
            installHuge(base, new Compound(r, false, r::close), (v.flags & Vm.VM_WRITE) != 0);
        }
        return true;
    }

    /** A write to a huge mapping nobody else maps: the whole PMD becomes writable (wp_huge_pmd reuse). */
    private synchronized boolean reuseHuge(long addr) {
        long vpn0 = (addr & -Vm.PMD_SIZE) >>> Vm.PAGE_SHIFT;
        var block = ptes.subMap(vpn0, true, vpn0 + HPAGE_NR - 1, true).values();
        if (block.size() != HPAGE_NR || block.stream().anyMatch(q -> q.order == 0 || q.owned.shared()
                || q.migrating || q.exclusiveOwner != null)) {
            return false;
        }
        block.forEach(q -> q.writable = true);
        return true;
    }

    /**
     * hugetlb_fault: a hugetlb vma is mapped a whole huge page at a time, from the pool: the
     * reservation mmap made, else (a child after fork) a free unreserved page; none gives SIGBUS.
     * A write to a page also mapped elsewhere (after fork) copies the whole huge page.
     */
    private int hugetlbFault(VmaImpl v, long addr, boolean write, PteImpl stale) {
        synchronized (hugetlbFaultMutex) { // hugetlb_fault_mutex: one fault per huge page at a time
            PteImpl p;
            synchronized (this) {
                p = ptes.get(addr >>> Vm.PAGE_SHIFT);
            }
            if (p != null && (!write || p.writable)) {
                return 0; // a racing fault did it
            }
            return hugetlbFaultLocked(v, addr, write, p);
        }
    }

    private final Object hugetlbFaultMutex = new Object();

    private int hugetlbFaultLocked(VmaImpl v, long addr, boolean write, PteImpl p) {
        long base = addr & -Vm.PMD_SIZE;
        boolean shared = (v.flags & Vm.VM_SHARED) != 0;
        if (p == null) {
            boolean resv;
            synchronized (this) {
                resv = hugeResv.remove(base);
            }
            PhysMemory.PhysRegion r = hugetlb.alloc(resv);
            if (r == null) {
                return -14; // VM_FAULT_SIGBUS: no huge page
            }
            synchronized (this) {
                installHuge(base, new Compound(r, true, () -> hugetlb.release(r)),
                        (v.flags & Vm.VM_WRITE) != 0 && (write || shared));
            }
            return 0;
        }
        if (reuseHuge(addr)) {
            return 0;
        }
        PhysMemory.PhysRegion r = hugetlb.alloc(false);
        if (r == null) {
            return -14; // hugetlb_wp could not allocate the copy: SIGBUS
        }
        ByteBuffer to = r.memory();
        synchronized (this) {
            long vpn0 = base >>> Vm.PAGE_SHIFT;
            for (int i = 0; i < HPAGE_NR; i++) {
                PteImpl q = ptes.get(vpn0 + i);
                to.put(i * (int) Vm.PAGE_SIZE, q.mem.duplicate().clear(), 0, (int) Vm.PAGE_SIZE);
            }
        }
        invalidate(base, base + Vm.PMD_SIZE, "clear", null, true, () -> {
            synchronized (this) {
                installHuge(base, new Compound(r, true, () -> hugetlb.release(r)), true);
            }
        });
        return 0;
    }

    private int access(long addr, byte[] buf, boolean write) {
        mmapLock.readLock().lock();
        try {
            int done = 0;
            while (done < buf.length) {
                long a = addr + done;
                int r = fault(a, write);
                if (r < 0) {
                    return done > 0 ? done : r;
                }
                int k = (int) Math.min(buf.length - done, Vm.PAGE_SIZE - (a & (Vm.PAGE_SIZE - 1)));
                // the copy happens under the page-table lock, so a migration cannot copy the page
                // while the CPU writes it (the TLB flush of migrate_vma_setup)
                synchronized (this) {
                    PteImpl p = ptes.get(a >>> Vm.PAGE_SHIFT);
                    if (p == null || p.migrating || p.exclusiveOwner != null || p.devicePrivate()
                            || write && !p.writable) {
                        continue; // changed since the fault: fault again
                    }
                    if (p.mem == null) {
                        return done > 0 ? done : -14; // device memory without CPU access
                    }
                    ByteBuffer m = p.mem.duplicate().clear().position((int) (a & (Vm.PAGE_SIZE - 1)));
                    if (write) {
                        m.put(buf, done, k);
                    } else {
                        m.get(buf, done, k);
                    }
                }
                done += k;
            }
            return done;
        } finally {
            mmapLock.readLock().unlock();
        }
    }

    @Override
    public int read(long addr, byte[] dst) {
        return access(addr, dst, false);
    }

    @Override
    public int write(long addr, byte[] src) {
        return access(addr, src, true);
    }

    @Override
    public synchronized Pte pte(long addr) {
        PteImpl p = ptes.get(addr >>> Vm.PAGE_SHIFT);
        return p == null ? Pte.NONE
                : new Pte(p.pfn, !p.devicePrivate() && p.exclusiveOwner == null && !p.migrating, p.writable,
                        p.special, p.device, p.devicePrivate(), p.exclusiveOwner, p.migrating, p.pfn == zero.pfn,
                        p.order);
    }

    @Override
    public long zeroPfn() {
        return zero.pfn;
    }

    @Override
    public synchronized int migrationEntryWait(long addr) {
        PteImpl p = ptes.get(addr >>> Vm.PAGE_SHIFT);
        while (p != null && p.migrating) {
            if (!waitForMigration()) {
                return -4;
            }
            p = ptes.get(addr >>> Vm.PAGE_SHIFT);
        }
        return 0;
    }

    /** Device pages whose lock a fault holds while their owner's migrate_to_ram runs (lock_page). */
    private final java.util.Set<Object> lockedPages = new java.util.HashSet<>();

    private synchronized void unlockPage(Object page) {
        lockedPages.remove(page);
        notifyAll();
    }

    /** Under the monitor: wait for a migration's finalize or a page unlock (they notify). False if interrupted. */
    private boolean waitForMigration() {
        try {
            wait();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    // ---------------------------------------------------------------- migrate_vma (mm/migrate_device.c)

    @Override
    public synchronized long allocPage() {
        PhysMemory.PhysRegion r = ram.allocate("migrate " + name, Vm.PAGE_SIZE, Vm.PAGE_SIZE);
        long pfn = r.phys() >>> Vm.PAGE_SHIFT;
        pendingRam.put(pfn, r);
        return pfn;
    }

    @Override
    public synchronized ByteBuffer frame(long pfn) {
        PhysMemory.PhysRegion r = pendingRam.get(pfn);
        if (r != null) {
            return r.memory();
        }
        if (pfn == zero.pfn) {
            return zero.mem.duplicate().clear();
        }
        for (PteImpl p : ptes.values()) {
            if (p.pfn == pfn && p.mem != null && p.device == null) {
                return p.mem.duplicate().clear();
            }
        }
        if (zone != null) {
            try {
                return zone.pfnToPage(pfn).data();
            } catch (KernelException e) {
                // not device memory either
            }
        }
        throw new KernelException(Errno.EFAULT, String.format("pfn %#x is not a page of %s", pfn, name));
    }

    /** A running migration: the ptes it collected (its migration entries) and the empty ptes it filled. */
    private static final class Migration {
        final PteImpl[] taken;
        final boolean[] inserted;

        Migration(int n) {
            taken = new PteImpl[n];
            inserted = new boolean[n];
        }
    }

    /** The running migrations, by the Migrate that describes each. */
    private final Map<org.peerdma.mm.vm.Migrate, Migration> collected = new java.util.IdentityHashMap<>();

    @Override
    public int migrateSetup(org.peerdma.mm.vm.Migrate m) {
        long start = m.start & -Vm.PAGE_SIZE;
        long end = m.end & -Vm.PAGE_SIZE;
        long npages = (end - start) >> Vm.PAGE_SHIFT;
        if (!(m.vma instanceof VmaImpl v) || (v.flags & (Vm.VM_IO | Vm.VM_PFNMAP | Vm.VM_MIXEDMAP | Vm.VM_HUGETLB)) != 0
                || npages <= 0 || start < v.start || end > v.end || m.src == null || m.dst == null
                || m.src.length < npages || m.dst.length < npages) {
            return (int) EINVAL;
        }
        if (m.faultPage != null && !(m.faultPage instanceof org.peerdma.mm.Page fp
                && fp.pgmap().type == org.peerdma.mm.MemoryType.DEVICE_PRIVATE)) {
            return (int) EINVAL;
        }
        Migration mig = new Migration((int) npages);
        PteImpl[] taken = mig.taken;
        synchronized (this) {
            if (collected.putIfAbsent(m, mig) != null) {
                return (int) EINVAL; // this Migrate is still in a migration (finalize first)
            }
        }
        boolean ok = false;
        try {
            splitPmds(start, end); // migrate_vma_collect_pmd splits a THP and collects its pages
            // migrate_vma_collect: inside one MMU_NOTIFY_MIGRATE invalidation, with the owner
            invalidate(start, end, "migrate", m.pgmapOwner, true, () -> collect(v, m, start, npages, taken));
            ok = true;
        } finally {
            if (!ok) { // something threw: nothing may stay a migration entry
                synchronized (this) {
                    collected.remove(m);
                    undo(taken);
                }
            }
        }
        return 0;
    }

    /** The collection itself, under the page-table lock: src filled, migration entries, references taken. */
    private void collect(VmaImpl v, org.peerdma.mm.vm.Migrate m, long start, long npages, PteImpl[] taken) {
            long cpages = 0;
            synchronized (this) {
                for (int i = 0; i < npages; i++) {
                    PteImpl p = ptes.get((start >>> Vm.PAGE_SHIFT) + i);
                    long s = select(v, m, p);
                    m.src[i] = s;
                    m.dst[i] = 0;
                    if (s != 0) {
                        cpages++;
                    }
                    if ((s & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) != 0) {
                        p.migrating = true; // a migration entry in place of the page
                        if (p.owned != null) { // the migration's own reference (folio_get)
                            p.owned.get();
                        }
                        if (p.device != null) {
                            p.device.get(MIGRATE_HOLDER);
                        }
                        taken[i] = p;
                    }
                }
            }
            m.cpages = cpages;
    }

    /** A setup that failed: its migration entries go back to being the pages, its references are dropped. */
    private void undo(PteImpl[] taken) {
        for (PteImpl p : taken) {
            if (p != null) {
                p.migrating = false;
                if (p.owned != null) {
                    p.owned.put();
                }
                if (p.device != null) {
                    p.device.put(MIGRATE_HOLDER);
                }
            }
        }
        notifyAll();
    }

    /** The holder name of the reference a migration keeps on a device page it collected. */
    static final String MIGRATE_HOLDER = "migrate";

    /** migrate_vma_collect_pmd's choice for one pte: the src entry (0 = not collected). */
    private long select(VmaImpl v, org.peerdma.mm.vm.Migrate m, PteImpl p) {
        if (p == null) { // an empty pte: only anonymous memory can be populated (whatever the flags)
            return v.anonymous() ? org.peerdma.mm.vm.Migrate.MIGRATE_PFN_MIGRATE : 0;
        }
        if (p.pfn == zero.pfn) {
            return (m.flags & org.peerdma.mm.vm.Migrate.SELECT_SYSTEM) != 0 ? org.peerdma.mm.vm.Migrate.MIGRATE_PFN_MIGRATE
                    : 0;
        }
        if (p.migrating || p.exclusiveOwner != null || p.special
                || p.device != null && p.device != m.faultPage && lockedPages.contains(p.device)) {
            return 0; // another migration or a fault has it (trylock_page failed), or not a migratable entry
        }
        long page = org.peerdma.mm.vm.Migrate.migratePfn(p.pfn) | org.peerdma.mm.vm.Migrate.MIGRATE_PFN_MIGRATE
                | (p.writable ? org.peerdma.mm.vm.Migrate.MIGRATE_PFN_WRITE : 0);
        if (p.device == null) {
            return (m.flags & org.peerdma.mm.vm.Migrate.SELECT_SYSTEM) != 0 ? page : 0;
        }
        org.peerdma.mm.MemoryType t = p.device.pgmap().type;
        if (t == org.peerdma.mm.MemoryType.DEVICE_PRIVATE) {
            return (m.flags & org.peerdma.mm.vm.Migrate.SELECT_DEVICE_PRIVATE) != 0
                    && p.device.pgmap().owner == m.pgmapOwner ? page : 0;
        }
        if (t == org.peerdma.mm.MemoryType.DEVICE_COHERENT) {
            return (m.flags & org.peerdma.mm.vm.Migrate.SELECT_DEVICE_COHERENT) != 0
                    && p.device.pgmap().owner == m.pgmapOwner ? page : 0;
        }
        return 0; // other ZONE_DEVICE memory (p2pdma pages) is not migrated
    }

    private boolean isDevicePfn(long pfn) {
        if (zone == null) {
            return false;
        }
        try {
            zone.pfnToPage(pfn);
            return true;
        } catch (KernelException e) {
            return false;
        }
    }

    /** A migration can install RAM from allocPage, or device-private / device-coherent pages; nothing else. */
    private boolean installable(long dpfn) {
        if (pendingRam.containsKey(dpfn)) {
            return true;
        }
        if (!isDevicePfn(dpfn)) {
            return false;
        }
        org.peerdma.mm.MemoryType t = zone.pfnToPage(dpfn).pgmap().type;
        return t == org.peerdma.mm.MemoryType.DEVICE_PRIVATE || t == org.peerdma.mm.MemoryType.DEVICE_COHERENT;
    }

    @Override
    public void migratePages(org.peerdma.mm.vm.Migrate m) {
        long start = m.start & -Vm.PAGE_SIZE;
        long npages = ((m.end & -Vm.PAGE_SIZE) - start) >> Vm.PAGE_SHIFT;
        VmaImpl v = (VmaImpl) m.vma;
        List<Integer> inserts = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < npages; i++) {
                long s = m.src[i];
                if ((s & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_MIGRATE) == 0) {
                    continue;
                }
                long d = m.dst[i];
                boolean ok = (d & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) != 0
                        && installable(org.peerdma.mm.vm.Migrate.pfn(d));
                if (ok) {
                    long dpfn = org.peerdma.mm.vm.Migrate.pfn(d);
                    boolean toDevice = isDevicePfn(dpfn);
                    PteImpl p = ptes.get((start >>> Vm.PAGE_SHIFT) + i);
                    // file pages, and shared anonymous memory (shmem underneath), are not moved to device memory
                    boolean fromFile = (s & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) != 0 && p != null
                            && p.device == null && (p.owned == null || (v.flags & Vm.VM_SHARED) != 0);
                    if (toDevice && fromFile) {
                        ok = false;
                    }
                }
                if (!ok) {
                    m.src[i] = s & ~org.peerdma.mm.vm.Migrate.MIGRATE_PFN_MIGRATE;
                } else if ((s & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) == 0) {
                    inserts.add(i); // an empty pte or the zero page: migrate_vma_insert_page, now
                }
            }
        }
        if (inserts.isEmpty()) {
            return;
        }
        long first = start + ((long) inserts.get(0) << Vm.PAGE_SHIFT);
        invalidate(first, m.end & -Vm.PAGE_SIZE, "migrate", m.pgmapOwner, true, () -> {
            synchronized (this) {
                Migration mig = collected.get(m);
                for (int i : inserts) {
                    long vpn = (start >>> Vm.PAGE_SHIFT) + i;
                    PteImpl now = ptes.get(vpn);
                    if (!v.anonymous() || now != null && now.pfn != zero.pfn) {
                        m.src[i] &= ~org.peerdma.mm.vm.Migrate.MIGRATE_PFN_MIGRATE; // filled meanwhile: abort
                        continue;
                    }
                    ptes.put(vpn, newPte(org.peerdma.mm.vm.Migrate.pfn(m.dst[i]), (v.flags & Vm.VM_WRITE) != 0));
                    if (mig != null) {
                        mig.inserted[i] = true;
                    }
                }
            }
        });
    }

    /** The pte for a page a migration installs: RAM from allocPage (owned), or a device page (its reference moves in). */
    private PteImpl newPte(long dpfn, boolean writable) {
        PhysMemory.PhysRegion r = pendingRam.remove(dpfn);
        return r != null ? new PteImpl(dpfn, writable, false, r.memory(), new AnonPage(r))
                : new PteImpl(dpfn, writable, false, devicePageMem(dpfn), null, zone.pfnToPage(dpfn));
    }

    @Override
    public void migrateFinalize(org.peerdma.mm.vm.Migrate m) {
        long start = m.start & -Vm.PAGE_SIZE;
        long npages = ((m.end & -Vm.PAGE_SIZE) - start) >> Vm.PAGE_SHIFT;
        List<PteImpl> old = new ArrayList<>();
        List<Runnable> unused = new ArrayList<>();
        synchronized (this) {
            Migration mig = collected.remove(m);
            if (mig == null) {
                return; // no migration (finalize twice, or without setup): nothing of it is ours to free
            }
            PteImpl[] taken = mig.taken;
            for (int i = 0; i < npages; i++) {
                long vpn = (start >>> Vm.PAGE_SHIFT) + i;
                long s = m.src[i];
                long d = m.dst[i];
                PteImpl mine = taken != null ? taken[i] : null;
                if ((s & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) == 0) {
                    // an empty pte: installed by migratePages, or its new page unused
                    if (!mig.inserted[i] && (d & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) != 0) {
                        unused.add(releaseNew(org.peerdma.mm.vm.Migrate.pfn(d)));
                    }
                    continue;
                }
                if (mine == null) {
                    continue;
                }
                // our migration entry still there? (a zap in between removed it: nothing to restore)
                boolean entry = ptes.get(vpn) == mine;
                boolean migrate = (s & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_MIGRATE) != 0
                        && (d & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) != 0 && entry
                        && installable(org.peerdma.mm.vm.Migrate.pfn(d));
                mine.migrating = false;
                if (migrate) { // remove_migration_ptes with the new page: writable as the entry was
                    ptes.put(vpn, newPte(org.peerdma.mm.vm.Migrate.pfn(d), (s & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_WRITE) != 0));
                    old.add(mine);
                } else if ((d & org.peerdma.mm.vm.Migrate.MIGRATE_PFN_VALID) != 0) {
                    unused.add(releaseNew(org.peerdma.mm.vm.Migrate.pfn(d)));
                }
                // the migration's own reference goes
                if (mine.owned != null) {
                    unused.add(mine.owned::put);
                }
                if (mine.device != null) {
                    org.peerdma.mm.Page pg = mine.device;
                    unused.add(() -> pg.put(MIGRATE_HOLDER));
                }
            }
            notifyAll(); // CPU accesses waiting on the migration entries go on
        }
        old.forEach(PteImpl::release);
        unused.forEach(Runnable::run);
    }

    /** A new page the migration did not use: RAM back to the map, a device page back to its driver. */
    private Runnable releaseNew(long dpfn) {
        PhysMemory.PhysRegion r = pendingRam.remove(dpfn);
        if (r != null) {
            return r::close;
        }
        if (isDevicePfn(dpfn)) {
            org.peerdma.mm.Page pg = zone.pfnToPage(dpfn);
            return () -> pg.put(PTE_HOLDER);
        }
        return () -> {
        };
    }

    /** Device-coherent pages are CPU memory; device-private ones are not. */
    private ByteBuffer devicePageMem(long pfn) {
        org.peerdma.mm.Page pg = zone.pfnToPage(pfn);
        return pg.pgmap().type == org.peerdma.mm.MemoryType.DEVICE_PRIVATE ? null : pg.data();
    }

    @Override
    public synchronized long rssPages() {
        // MM_ANONPAGES: anonymous pages (hugetlb is counted apart) and device-private pages, which are anonymous too
        return ptes.values().stream()
                .filter(p -> p.owned != null && p.owned.anon && (p.owned.compound == null || !p.owned.compound.hugetlb)
                        || p.devicePrivate())
                .count();
    }

    // ---------------------------------------------------------------- fork

    @Override
    public Mm fork(String childName) {
        MmImpl child = new MmImpl(childName, ram, zone, zero, hugetlb, live);
        mmapLock.writeLock().lock();
        try {
            // exclusive entries go back to the CPU first (their devices are told)
            List<Long> exclusive = new ArrayList<>();
            synchronized (this) {
                ptes.forEach((vpn, p) -> {
                    if (p.exclusiveOwner != null) {
                        exclusive.add(vpn);
                    }
                });
            }
            for (long vpn : exclusive) {
                fault(vpn << Vm.PAGE_SHIFT, false);
            }
            for (VmaImpl v : vmas.values()) {
                boolean cow = (v.flags & Vm.VM_SHARED) == 0 && v.ops == null;
                child.vmas.put(v.start, v.copy());
                Runnable copy = () -> copyPtes(v, cow, child);
                if (cow) { // the parent's private pages become read-only: the notifiers are told around it
                    invalidate(v.start, v.end, "protection", null, true, copy);
                } else {
                    copy.run();
                }
            }
        } finally {
            mmapLock.writeLock().unlock();
        }
        return child;
    }

    /** copy_page_range for one vma: the child maps what the parent maps (private pages shared read-only). */
    private void copyPtes(VmaImpl v, boolean cow, MmImpl child) {
        {
                synchronized (this) {
                    for (var e : ptes.subMap(v.start >>> Vm.PAGE_SHIFT, true, (v.end - 1) >>> Vm.PAGE_SHIFT, true)
                            .entrySet()) {
                        PteImpl p = e.getValue();
                        if (p.owned != null) {
                            p.owned.get();
                            if (cow) {
                                p.writable = false;
                            }
                        }
                        if (p.device != null) {
                            p.device.get(PTE_HOLDER);
                            if (cow && p.devicePrivate()) { // copy_nonpresent_pte: both read-only now
                                p.writable = false;
                            }
                        }
                        PteImpl c = new PteImpl(p.pfn, cow && p.owned != null ? false : p.writable, p.special, p.mem,
                                p.owned, p.device);
                        c.order = p.order;
                        synchronized (child) {
                            child.ptes.put(e.getKey(), c);
                        }
                    }
                }
        }
    }

    // ---------------------------------------------------------------- users

    @Override
    public synchronized void mmget() {
        if (users <= 0) {
            throw KernelException.einval("mmget on an address space that has exited");
        }
        users++;
    }

    @Override
    public void mmput() {
        boolean last;
        synchronized (this) {
            if (users <= 0) {
                throw KernelException.einval("mmput on %s, which has exited already", name);
            }
            last = --users == 0;
        }
        if (last) {
            exitMmap();
        }
    }

    /** exit_mmap: every vma unmapped, its pages freed; the address space leaves the kernel's list. */
    private void exitMmap() {
        mmapLock.writeLock().lock();
        try {
            for (VmaImpl v : List.copyOf(vmas.values())) {
                unmapLocked(v.start, v.end - v.start);
            }
        } finally {
            mmapLock.writeLock().unlock();
        }
        live.remove(this);
    }

    /** The module goes while the process still has users: it is torn down now. Return: false if it had exited. */
    boolean kill() {
        synchronized (this) {
            if (users <= 0) {
                return false;
            }
            users = 0;
        }
        exitMmap();
        return true;
    }

    @Override
    public synchronized int users() {
        return users;
    }

    // ---------------------------------------------------------------- mmu interval notifiers

    final class Sub implements MmuInterval {
        final long start;
        final long last;
        final MmuInterval.Ops ops;
        volatile long seq;
        volatile boolean removed;

        Sub(long start, long last, MmuInterval.Ops ops) {
            this.start = start;
            this.last = last;
            this.ops = ops;
        }

        @Override
        public long start() {
            return start;
        }

        @Override
        public long last() {
            return last;
        }

        @Override
        public long readBegin() {
            synchronized (MmImpl.this) {
                long s = seq;
                while (s == invalidateSeq) { // an invalidation that covers us is running
                    try {
                        MmImpl.this.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                return s;
            }
        }

        @Override
        public boolean readRetry(long s) {
            return seq != s;
        }

        @Override
        public boolean checkRetry(long s) {
            return seq != s;
        }

        @Override
        public void setSeq(long curSeq) {
            seq = curSeq;
        }

        @Override
        public long seq() {
            return seq;
        }

        @Override
        public void remove() {
            synchronized (MmImpl.this) {
                while (activeInvalidates > 0 && subs.contains(this)) {
                    try {
                        MmImpl.this.wait(); // a running invalidation may still call us
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                subs.remove(this);
                deferred.remove(this);
                removed = true;
            }
        }
    }

    @Override
    public MmuInterval insertNotifier(long start, long length, MmuInterval.Ops ops) {
        if (length == 0 || Long.compareUnsigned(start + length - 1, start) < 0) {
            throw new KernelException(Errno.EOVERFLOW, String.format("interval %#x+%#x", start, length));
        }
        synchronized (this) {
            if (users <= 0) {
                throw KernelException.einval("the address space has no users");
            }
            Sub s = new Sub(start, start + length - 1, ops);
            if (activeInvalidates > 0) {
                if ((invalidateSeq & 1) != 0) {
                    deferred.add(s); // inserted when the invalidations end
                } else {
                    invalidateSeq |= 1; // an invalidation that saw no interval: we are now one it ends
                    subs.add(s);
                }
                s.seq = invalidateSeq; // odd: read_begin waits until the end
            } else {
                s.seq = invalidateSeq - 1;
                subs.add(s);
            }
            return s;
        }
    }

    @Override
    public synchronized long invalidateSeq() {
        return invalidateSeq;
    }

    private final ThreadLocal<Object> invalidating = new ThreadLocal<>();

    @Override
    public Object invalidationOwner() {
        return invalidating.get();
    }

    @Override
    public int makeDeviceExclusive(long addr, Object owner, java.util.function.LongConsumer map) {
        if (mmapLock.getReadHoldCount() == 0 && !mmapLock.isWriteLockedByCurrentThread()) {
            throw new IllegalStateException("make_device_exclusive: mmap_lock not held (lockdep)");
        }
        Vma v = findVma(addr);
        if (v == null || (v.flags() & Vm.VM_WRITE) == 0 || (v.flags() & Vm.VM_HUGETLB) != 0) {
            return -14;
        }
        int r = handleFault(addr, true); // GUP with FOLL_WRITE
        if (r < 0) {
            return -14;
        }
        long pg = addr & -Vm.PAGE_SIZE;
        splitPmd(pg); // a THP is split first
        PteImpl[] locked = new PteImpl[1];
        invalidate(pg, pg + Vm.PAGE_SIZE, "exclusive", owner, true, () -> {
            synchronized (this) {
                PteImpl p = ptes.get(pg >>> Vm.PAGE_SHIFT);
                if (p == null || p.device != null || p.special || p.migrating || lockedPages.contains(p)) {
                    return;
                }
                p.exclusiveOwner = owner;
                lockedPages.add(p); // the folio stays locked while the driver maps it
                locked[0] = p;
            }
        });
        if (locked[0] == null) {
            return -14;
        }
        try {
            map.accept(locked[0].pfn);
        } finally {
            unlockPage(locked[0]);
        }
        return 1;
    }

    @Override
    public int oomReap() {
        if (!mmapLock.readLock().tryLock()) {
            return -11; // -EAGAIN: mmap_read_trylock failed, the reaper comes back
        }
        try {
            boolean ok = true;
            for (VmaImpl v : List.copyOf(vmas.values())) {
                if ((v.flags & (Vm.VM_HUGETLB | Vm.VM_PFNMAP)) != 0 || (v.flags & Vm.VM_SHARED) != 0) {
                    continue; // only private memory is reaped
                }
                if (!invalidate(v.start, v.end, "unmap", null, false, () -> {
                    splitPmds(v.start, v.end);
                    clearPtes(v.start, v.end);
                })) {
                    ok = false; // a notifier would have to block: this vma is left for the next try
                }
            }
            return ok ? 0 : -11;
        } finally {
            mmapLock.readLock().unlock();
        }
    }

    /**
     * mmu_notifier_invalidate_range_start, {@code change} (the page-table change), then _end: while
     * it runs the sequence is odd when a subscription overlaps (read_begin waits, read_retry sees it),
     * and subscriptions inserted meanwhile are deferred. A non-blocking invalidation (the OOM reaper)
     * stops at the first callback that refuses: no change, false (-EAGAIN); the sequence still
     * moves on. {@code owner} is mmu_notifier_range.owner for the callbacks (invalidationOwner()).
     */
    private boolean invalidate(long start, long end, String event, Object owner, boolean blockable, Runnable change) {
        List<Sub> hit = new ArrayList<>();
        long cur;
        synchronized (this) {
            for (Sub s : subs) {
                if (s.start < end && s.last >= start) {
                    hit.add(s);
                }
            }
            activeInvalidates++; // every invalidation counts (active_invalidate_ranges)
            if (!hit.isEmpty()) {
                invalidateSeq |= 1;
            }
            cur = invalidateSeq;
        }
        Object before = invalidating.get();
        invalidating.set(owner);
        try {
            for (Sub s : hit) {
                if (!s.ops.invalidate(s, start, end, event, blockable, cur) && !blockable) {
                    return false; // -EAGAIN (a blockable caller ignores a refusal: the kernel WARNs and goes on)
                }
            }
            if (change != null) {
                change.run();
            }
            return true;
        } finally {
            invalidating.set(before);
            synchronized (this) {
                if (--activeInvalidates == 0) {
                    if ((invalidateSeq & 1) != 0) {
                        invalidateSeq++;
                    }
                    subs.addAll(deferred);
                    deferred.clear();
                }
                notifyAll();
            }
        }
    }

}
