package org.peerdma.mm.dmirror.internal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;


import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.PagemapOps;
import org.peerdma.mm.Range;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.dmirror.Dmirror;
import org.peerdma.mm.vm.Hmm;
import org.peerdma.mm.vm.Migrate;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.MmuInterval;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.Vma;

/** lib/test_hmm.c's dmirror: a mirror page table per process, device memory, the ioctls. */
final class DmirrorImpl implements Dmirror, org.peerdma.mm.vm.DevmemP2p {
    static final long P = Vm.PAGE_SIZE;
    static final int EFAULT = -14;
    static final int EINVAL = -22;
    static final int ENOENT = -2;
    static final int EBUSY = -16;

    final String name;
    final ZoneDevice zone;
    final Hmm hmm;
    final DevPagemap pgmap = new DevPagemap();
    private final Deque<Page> free = new ArrayDeque<>();
    private final int total;
    private final Map<Mm, Mirror> mirrors = new ConcurrentHashMap<>();

    /** A mirror of one address space: vpn -&gt; pfn | WRITE bit, kept in sync by the notifier. */
    final class Mirror {
        final Mm mm;
        final TreeMap<Long, Long> pt = new TreeMap<>();
        /** Pages this device holds exclusively (DPT_XA_TAG_ATOMIC). */
        final java.util.Set<Long> atomic = new java.util.TreeSet<>();
        final MmuInterval notifier;
        /** dmirror->mutex: guards the mirror page table. */
        final java.util.concurrent.locks.ReentrantLock mutex = new java.util.concurrent.locks.ReentrantLock();

        Mirror(Mm mm) {
            this.mm = mm;
            // the whole user address space, as dmirror_interval_invalidate covers every vma
            this.notifier = mm.insertNotifier(0, 0x8000_0000_0000L, (sub, start, end, ev, blockable, cur) -> {
                // our own migrations keep the mirror themselves (finalize_and_map, alloc_and_copy)
                if ("migrate".equals(ev) && mm.invalidationOwner() == DmirrorImpl.this) {
                    return true;
                }
                // dmirror_interval_invalidate: a non-blocking invalidation (the OOM reaper) must not wait
                if (blockable) {
                    mutex.lock();
                } else if (!mutex.tryLock()) {
                    return false;
                }
                try {
                    sub.setSeq(cur);
                    // our own make_device_exclusive does not take the page away from us
                    if ("exclusive".equals(ev) && mm.invalidationOwner() == DmirrorImpl.this
                            && !atomic.contains(start >>> Vm.PAGE_SHIFT)) {
                        return true;
                    }
                    pt.subMap(start >>> Vm.PAGE_SHIFT, true, (end - 1) >>> Vm.PAGE_SHIFT, true).clear();
                    atomic.removeIf(v -> v >= start >>> Vm.PAGE_SHIFT && v <= (end - 1) >>> Vm.PAGE_SHIFT);
                } finally {
                    mutex.unlock();
                }
                return true;
            });
        }
    }

    private final org.peerdma.mm.vm.MmProcesses procs;

    DmirrorImpl(String name, ZoneDevice zone, Hmm hmm, org.peerdma.mm.vm.MmProcesses procs, long base, int pages) {
        this.name = name;
        this.zone = zone;
        this.hmm = hmm;
        this.procs = procs;
        this.total = pages;
        pgmap.type = MemoryType.DEVICE_PRIVATE;
        pgmap.name = name + " device memory";
        pgmap.ranges.add(Range.ofSize(base, pages * P));
        pgmap.owner = this;
        pgmap.ops = new PagemapOps() {
            @Override
            public void pageFree(Page page) {
                synchronized (free) {
                    free.push(page);
                }
            }

            @Override
            public boolean hasMigrateToRam() {
                return true;
            }

            @Override
            public int migrateToRam(Page page, Object vmf) {
                Mm.Fault f = (Mm.Fault) vmf;
                Migrate m = args(f.vma(), f.address(), f.address() + P, Migrate.SELECT_DEVICE_PRIVATE);
                m.faultPage = page;
                return toSystem(f.mm(), m) < 0 ? 2 /* VM_FAULT_SIGBUS */ : 0;
            }
        };
        zone.memremapPages(pgmap, 0);
        long pfn = base >>> Vm.PAGE_SHIFT;
        for (int i = 0; i < pages; i++) {
            free.add(zone.pfnToPage(pfn + i));
        }
    }

    @Override
    public Object owner() {
        return this;
    }

    private final java.util.Set<Object> peers = ConcurrentHashMap.newKeySet();
    private final java.util.Map<String, Integer> peerMaps = new ConcurrentHashMap<>();

    @Override
    public void allowPeer(Object importer, boolean allow) {
        if (allow) {
            peers.add(importer);
        } else {
            peers.remove(importer);
        }
    }

    /** The device's policy: only peers it was told it can reach (as a p2pdma distance check would). */
    @Override
    public long p2pMap(long pfn, Object importer) {
        if (!peers.contains(importer)) {
            return -1;
        }
        peerMaps.merge(importer + "@" + pfn, 1, Integer::sum);
        return pfn << Vm.PAGE_SHIFT; // the page's device address, reachable by the allowed peer
    }

    @Override
    public void p2pUnmap(long pfn, Object importer) {
        peerMaps.computeIfPresent(importer + "@" + pfn, (k, v) -> v > 1 ? v - 1 : null);
    }

    @Override
    public int peerMappings() {
        return peerMaps.values().stream().mapToInt(Integer::intValue).sum();
    }

    private Mirror mirror(Mm mm) {
        return mirrors.computeIfAbsent(mm, Mirror::new);
    }

    @Override
    public void release(Mm mm) {
        Mirror m = mirrors.remove(mm);
        if (m != null) {
            m.notifier.remove();
        }
    }

    /** Address spaces this device put pages into (migrate_to_dev), for eviction. */
    private final java.util.Set<Mm> users = ConcurrentHashMap.newKeySet();

    /**
     * dmirror_device_evict_chunk: before the device memory goes, every page of it still in a process
     * is migrated back to system memory, so the process keeps its data and the CPU faults work.
     */
    void destroy() {
        dying = true; // nothing new goes to this device while it is emptied
        // migrate_device_range over the device's pfns: every process that may map them (forked
        // children hold the pages too), not only the ones this device migrated for
        java.util.Set<Mm> all = new java.util.LinkedHashSet<>(users);
        all.addAll(procs.processes());
        for (Mm mm : all) {
            if (mm.users() <= 0) {
                continue;
            }
            mm.mmapLock().readLock().lock();
            try {
                for (Vma v : mm.vmas()) {
                    if ((v.flags() & (Vm.VM_IO | Vm.VM_PFNMAP)) == 0) {
                        toSystem(mm, args(v, v.start(), v.end(), Migrate.SELECT_DEVICE_PRIVATE));
                    }
                }
            } finally {
                mm.mmapLock().readLock().unlock();
            }
        }
        users.clear();
        mirrors.keySet().forEach(this::release);
        zone.memunmapPages(pgmap);
    }

    // ---------------------------------------------------------------- READ / WRITE

    /** dmirror_fault: hmm_range_fault for [start, end) and the mirror updated, retrying on -EBUSY. */
    private int fault(Mirror mir, long start, long end, boolean write) {
        Hmm.Range r = new Hmm.Range();
        r.notifier = mir.notifier;
        r.start = start;
        r.end = end;
        r.hmmPfns = new long[(int) ((end - start) / P)];
        r.defaultFlags = Vm.HMM_PFN_REQ_FAULT | (write ? Vm.HMM_PFN_REQ_WRITE : 0);
        r.devPrivateOwner = this;
        long deadline = System.nanoTime() + Vm.HMM_RANGE_DEFAULT_TIMEOUT * 1_000_000L;
        while (true) {
            if (System.nanoTime() > deadline) {
                return EBUSY;
            }
            r.notifierSeq = mir.notifier.readBegin();
            int ret;
            mir.mm.mmapLock().readLock().lock();
            try {
                ret = hmm.rangeFault(mir.mm, r);
            } finally {
                mir.mm.mmapLock().readLock().unlock();
            }
            if (ret == EBUSY) {
                continue;
            }
            if (ret != 0) {
                return ret;
            }
            mir.mutex.lock();
            try {
                if (mir.notifier.readRetry(r.notifierSeq)) {
                    continue;
                }
                for (int i = 0; i < r.hmmPfns.length; i++) {
                    long v = r.hmmPfns[i];
                    if ((v & Vm.HMM_PFN_VALID) != 0) {
                        mir.pt.put((start >>> Vm.PAGE_SHIFT) + i,
                                Vm.hmmPfnToPfn(v) | ((v & Vm.HMM_PFN_WRITE) != 0 ? Vm.HMM_PFN_WRITE : 0));
                    }
                }
            } finally {
                mir.mutex.unlock();
            }
            return 0;
        }
    }

    private int copy(Mm mm, Cmd cmd, boolean write) {
        if (cmd.npages <= 0 || (cmd.addr & (P - 1)) != 0 || cmd.ptr == null || cmd.ptr.length < cmd.npages * P) {
            return EINVAL;
        }
        Mirror mir = mirror(mm);
        long start = cmd.addr;
        long end = start + cmd.npages * P;
        cmd.cpages = 0;
        while (true) {
            int missing = -1;
            mir.mutex.lock();
            try {
                for (long a = start; a < end; a += P) {
                    Long e = mir.pt.get(a >>> Vm.PAGE_SHIFT);
                    if (e == null || write && (e & Vm.HMM_PFN_WRITE) == 0) {
                        missing = (int) ((a - start) / P);
                        break;
                    }
                }
                if (missing < 0) {
                    for (long a = start; a < end; a += P) {
                        long pfn = mir.pt.get(a >>> Vm.PAGE_SHIFT) & ~Vm.HMM_PFN_WRITE;
                        ByteBuffer frame = mm.frame(pfn);
                        int off = (int) (a - start);
                        if (write) {
                            frame.put(cmd.ptr, off, (int) P);
                        } else {
                            frame.get(cmd.ptr, off, (int) P);
                        }
                    }
                    cmd.cpages = cmd.npages;
                    return 0;
                }
            } finally {
                mir.mutex.unlock();
            }
            int r = fault(mir, start, end, write);
            cmd.faults++;
            if (r != 0) {
                return r;
            }
        }
    }

    @Override
    public int read(Mm mm, Cmd cmd) {
        return copy(mm, cmd, false);
    }

    @Override
    public int write(Mm mm, Cmd cmd) {
        return copy(mm, cmd, true);
    }

    // ---------------------------------------------------------------- migration

    private static Migrate args(Vma vma, long start, long end, int flags) {
        Migrate m = new Migrate();
        m.vma = vma;
        m.start = start;
        m.end = end;
        int n = (int) ((end - start) / P);
        m.src = new long[n];
        m.dst = new long[n];
        m.flags = flags;
        return m;
    }

    /** Set when the device is being removed: no new device pages are handed out. */
    private volatile boolean dying;

    private Page allocDevicePage() {
        synchronized (free) {
            if (dying) {
                return null;
            }
            Page p = free.poll();
            if (p != null) {
                try {
                    p.init("mm");
                } catch (RuntimeException e) {
                    free.push(p); // not handed out after all
                    return null;
                }
            }
            return p;
        }
    }

    @Override
    public int migrateToDev(Mm mm, Cmd cmd) {
        if (cmd.npages <= 0 || (cmd.addr & (P - 1)) != 0 || cmd.ptr != null && cmd.ptr.length < cmd.npages * P) {
            return EINVAL;
        }
        long start = cmd.addr;
        long end = start + cmd.npages * P;
        cmd.cpages = 0;
        users.add(mm);
        Mirror mir = mirror(mm);
        mm.mmapLock().readLock().lock();
        try {
            for (long a = start; a < end;) {
                Vma v = mm.findVma(a);
                if (v == null || (v.flags() & Vm.VM_READ) == 0) {
                    return EINVAL; // a hole, or PROT_NONE
                }
                long next = Math.min(end, v.end());
                Migrate m = args(v, a, next, Migrate.SELECT_SYSTEM);
                m.pgmapOwner = this;
                int r = mm.migrateSetup(m);
                if (r != 0) {
                    return r;
                }
                long seq = mir.notifier.readBegin();
                try {
                    allocAndCopyToDevice(mm, v, m);
                } finally { // whatever happened, the migration is completed (entries never left behind)
                    try {
                        mm.migratePages(m);
                    } finally {
                        mm.migrateFinalize(m);
                    }
                }
                mapMigrated(mir, mm, m, seq);
                a = next;
            }
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        return doRead(mir, mm, start, end, cmd); // the migrated data comes back for verification
    }

    /**
     * dmirror_migrate_alloc_and_copy: a device page for each collected entry while there are any; a
     * page that cannot be copied keeps dst empty (it is not migrated). WRITE as the source had it,
     * or for an empty pte as the vma allows.
     */
    private void allocAndCopyToDevice(Mm mm, Vma v, Migrate m) {
        for (int i = 0; i < m.src.length; i++) {
            if ((m.src[i] & Migrate.MIGRATE_PFN_MIGRATE) == 0) {
                continue;
            }
            Page pg = allocDevicePage();
            if (pg == null) {
                return; // out of device memory: the rest stays
            }
            boolean hasPage = (m.src[i] & Migrate.MIGRATE_PFN_VALID) != 0;
            try {
                if (hasPage) {
                    pg.data().put(mm.frame(Migrate.pfn(m.src[i])));
                } else {
                    ByteBuffer d = pg.data();
                    for (int k = 0; k < P; k += 8) {
                        d.putLong(k, 0);
                    }
                }
            } catch (org.peerdma.errno.KernelException e) {
                pg.put("mm"); // back to the free list; this page is not migrated
                continue;
            }
            boolean w = (m.src[i] & Migrate.MIGRATE_PFN_WRITE) != 0 || !hasPage && (v.flags() & Vm.VM_WRITE) != 0;
            m.dst[i] = Migrate.migratePfn(pg.pfn()) | (w ? Migrate.MIGRATE_PFN_WRITE : 0);
        }
    }

    /**
     * dmirror_migrate_finalize_and_map: the pages that moved go into the mirror (our own MIGRATE
     * invalidation skipped them) — after the migration ended, only where the process still maps
     * exactly that page, and not at all if something else invalidated the range meanwhile (an unmap
     * or the OOM reaper: the mirror must not keep a page that went back to the driver).
     */
    private void mapMigrated(Mirror mir, Mm mm, Migrate m, long seq) {
        long start = m.start & -P;
        mir.mutex.lock();
        try {
            if (mir.notifier.readRetry(seq)) {
                return; // invalidated since: the device faults these pages again when it needs them
            }
            for (int i = 0; i < m.src.length; i++) {
                if ((m.src[i] & Migrate.MIGRATE_PFN_MIGRATE) == 0 || (m.dst[i] & Migrate.MIGRATE_PFN_VALID) == 0) {
                    continue;
                }
                long addr = start + i * P;
                Mm.Pte pte = mm.pte(addr);
                if (pte.migration() || pte.pfn() != Migrate.pfn(m.dst[i]) || pte.page() == null) {
                    continue;
                }
                mir.pt.put(addr >>> Vm.PAGE_SHIFT, pte.pfn() | (pte.writable() ? Vm.HMM_PFN_WRITE : 0));
            }
        } finally {
            mir.mutex.unlock();
        }
    }

    /** dmirror_do_read: every page of the range from the mirror (-ENOENT at the first it lacks); cpages counts them. */
    private int doRead(Mirror mir, Mm mm, long start, long end, Cmd cmd) {
        mir.mutex.lock();
        try {
            for (long a = start; a < end; a += P) {
                Long e = mir.pt.get(a >>> Vm.PAGE_SHIFT);
                if (e == null) {
                    return ENOENT;
                }
                if (cmd.ptr != null) {
                    mm.frame(e & ~Vm.HMM_PFN_WRITE).get(cmd.ptr, (int) (a - start), (int) P);
                }
                cmd.cpages++;
            }
            return 0;
        } finally {
            mir.mutex.unlock();
        }
    }

    /**
     * dmirror_devmem_fault_alloc_and_copy + the migrate calls: this device's pages back to RAM, and
     * out of the mirror. A page that cannot be allocated is left where it is. Return: the pages
     * collected (args.cpages), or -errno from setup.
     */
    private long toSystem(Mm mm, Migrate m) {
        m.pgmapOwner = this;
        int r = mm.migrateSetup(m);
        if (r != 0) {
            return r;
        }
        Mirror mir = mirrors.get(mm);
        long vpn0 = (m.start & -P) >>> Vm.PAGE_SHIFT;
        try {
            for (int i = 0; i < m.src.length; i++) {
                if ((m.src[i] & Migrate.MIGRATE_PFN_MIGRATE) == 0 || (m.src[i] & Migrate.MIGRATE_PFN_VALID) == 0) {
                    continue;
                }
                long dpfn;
                try {
                    dpfn = mm.allocPage();
                } catch (org.peerdma.errno.KernelException e) {
                    continue; // no memory: this page stays on the device
                }
                m.dst[i] = Migrate.migratePfn(dpfn); // finalize frees it if it is not used
                mm.frame(dpfn).put(zone.pfnToPage(Migrate.pfn(m.src[i])).data());
                if (mir != null) {
                    mir.mutex.lock();
                    try {
                        mir.pt.remove(vpn0 + i);
                        mir.atomic.remove(vpn0 + i);
                    } finally {
                        mir.mutex.unlock();
                    }
                }
            }
        } finally {
            try {
                mm.migratePages(m);
            } finally {
                mm.migrateFinalize(m);
            }
        }
        return m.cpages;
    }

    @Override
    public int migrateToSys(Mm mm, Cmd cmd) {
        if (cmd.npages <= 0 || (cmd.addr & (P - 1)) != 0) {
            return EINVAL;
        }
        long start = cmd.addr;
        long end = start + cmd.npages * P;
        cmd.cpages = 0;
        mm.mmapLock().readLock().lock();
        try {
            for (long a = start; a < end;) {
                Vma v = mm.findVma(a);
                if (v == null) {
                    return EINVAL;
                }
                long next = Math.min(end, v.end());
                long r = toSystem(mm, args(v, a, next, Migrate.SELECT_DEVICE_PRIVATE));
                if (r < 0) {
                    return (int) r;
                }
                cmd.cpages += r;
                a = next;
            }
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        return 0;
    }

    @Override
    public int snapshot(Mm mm, Cmd cmd) {
        if (cmd.npages <= 0 || (cmd.addr & (P - 1)) != 0 || cmd.ptr == null || cmd.ptr.length < cmd.npages) {
            return EINVAL;
        }
        Hmm.Range r = new Hmm.Range();
        r.start = cmd.addr;
        r.end = cmd.addr + cmd.npages * P;
        r.hmmPfns = new long[(int) cmd.npages];
        r.devPrivateOwner = this;
        mm.mmapLock().readLock().lock();
        try {
            int ret = hmm.rangeFault(mm, r);
            if (ret != 0) {
                return ret;
            }
            for (int i = 0; i < cmd.npages; i++) {
                cmd.ptr[i] = mkentry(mm, r.hmmPfns[i], mm.pte(r.start + i * P));
            }
            cmd.cpages = cmd.npages;
            return 0;
        } finally {
            mm.mmapLock().readLock().unlock();
        }
    }

    /** dmirror_mkentry: one snapshot byte from an hmm_pfn (and the page it names). */
    private byte mkentry(Mm mm, long v, Mm.Pte pte) {
        if ((v & Vm.HMM_PFN_ERROR) != 0) {
            return PROT_ERROR;
        }
        if ((v & Vm.HMM_PFN_VALID) == 0) {
            return PROT_NONE;
        }
        int perm;
        if (pte.page() instanceof Page pg && pg.pgmap().type == MemoryType.DEVICE_PRIVATE) {
            perm = pg.pgmap().owner == this ? PROT_DEV_PRIVATE_LOCAL : PROT_DEV_PRIVATE_REMOTE;
        } else if (pte.page() instanceof Page pg && pg.pgmap().type == MemoryType.DEVICE_COHERENT) {
            perm = pg.pgmap().owner == this ? PROT_DEV_COHERENT_LOCAL : PROT_DEV_COHERENT_REMOTE;
        } else if (Vm.hmmPfnToPfn(v) == mm.zeroPfn()) {
            perm = PROT_ZERO;
        } else {
            perm = PROT_NONE;
        }
        perm |= (v & Vm.HMM_PFN_WRITE) != 0 ? PROT_WRITE : PROT_READ;
        int order = Vm.hmmPfnToMapOrder(v);
        if (order + Vm.PAGE_SHIFT == Vm.PMD_SHIFT) {
            perm |= PROT_PMD;
        } else if (order + Vm.PAGE_SHIFT == Vm.PUD_SHIFT) {
            perm |= PROT_PUD;
        }
        return (byte) perm;
    }

    @Override
    public int exclusive(Mm mm, Cmd cmd) {
        if (cmd.npages <= 0 || (cmd.addr & (P - 1)) != 0) {
            return EINVAL;
        }
        if (cmd.ptr != null && cmd.ptr.length < cmd.npages * P) {
            return EINVAL;
        }
        Mirror mir = mirror(mm);
        mm.mmapLock().readLock().lock();
        try {
            for (long a = cmd.addr; a < cmd.addr + cmd.npages * P; a += P) {
                long addr = a;
                // dmirror_atomic_map runs while the page is locked: the CPU's restore waits for it
                int r = mm.makeDeviceExclusive(a, this, pfn -> {
                    mir.mutex.lock();
                    try {
                        mir.pt.put(addr >>> Vm.PAGE_SHIFT, pfn | Vm.HMM_PFN_WRITE);
                        mir.atomic.add(addr >>> Vm.PAGE_SHIFT);
                        if (cmd.ptr != null) { // the data comes back for checking, as dmirror_do_read gives it
                            mm.frame(pfn).get(cmd.ptr, (int) (addr - cmd.addr), (int) P);
                        }
                    } finally {
                        mir.mutex.unlock();
                    }
                });
                if (r < 0) {
                    return r;
                }
            }
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        cmd.cpages = cmd.npages;
        return 0;
    }

    /** dmirror_check_atomic: -EPERM while any page of the range is still the device's exclusively, else 0. */
    @Override
    public int checkExclusive(Mm mm, Cmd cmd) {
        Mirror mir = mirror(mm);
        mir.mutex.lock();
        try {
            for (long a = cmd.addr; a < cmd.addr + cmd.npages * P; a += P) {
                if (mir.atomic.contains(a >>> Vm.PAGE_SHIFT)) {
                    return -1; // -EPERM: still exclusive
                }
            }
        } finally {
            mir.mutex.unlock();
        }
        return 0;
    }

    @Override
    public long mmap(Mm mm, long length, int prot, int flags) {
        // no fault handler: every page is there from the start, so a fault is SIGBUS
        long a = mm.mmapDevice(0, length, prot, flags, (m, v, addr, write) -> EFAULT);
        if (a < 0) {
            return a;
        }
        Vma v = mm.findVma(a);
        for (long addr = v.start(); addr < v.end(); addr += P) {
            int r = mm.insertPage(v, addr, mm.allocPage());
            if (r != 0) {
                mm.munmap(a, length);
                return r;
            }
        }
        return a;
    }

    @Override
    public int freePages() {
        synchronized (free) {
            return free.size();
        }
    }

    @Override
    public int totalPages() {
        return total;
    }

}
