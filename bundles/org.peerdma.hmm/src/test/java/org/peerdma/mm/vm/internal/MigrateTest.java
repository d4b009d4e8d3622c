package org.peerdma.mm.vm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peerdma.mm.vm.Migrate.*;
import static org.peerdma.mm.vm.Vm.*;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.PagemapOps;
import org.peerdma.mm.Range;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.mm.vm.Hmm;
import org.peerdma.mm.vm.Migrate;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.Vma;

/** A device with DEVICE_PRIVATE memory moving a process's pages in and out, as lib/test_hmm does. */
class MigrateTest {
    static final long P = PAGE_SIZE;
    static final int DEV_PAGES = 16;

    private PhysMemory ram;
    private ZoneDevice zone;
    private Mm mm;
    private ProcessesImpl procs;
    private final Hmm hmm = new HmmImpl();
    private final Object owner = "dmirror0";
    private DevPagemap pgmap;
    private final Deque<Page> free = new ArrayDeque<>();
    private final AtomicInteger migrateToRamCalls = new AtomicInteger();
    private long idleRefs;

    @BeforeEach
    void boot() {
        ram = TestDma.ram();
        zone = TestZone.zone();
        procs = new ProcessesImpl(ram, zone);
        mm = procs.create("hmm-test");
        pgmap = new DevPagemap();
        pgmap.type = MemoryType.DEVICE_PRIVATE;
        pgmap.name = "dmirror0 device memory";
        pgmap.ranges.add(Range.ofSize(0x100_0000_0000L, DEV_PAGES * P));
        pgmap.owner = owner;
        pgmap.ops = new PagemapOps() {
            @Override
            public void pageFree(Page page) {
                free.push(page); // back to the driver's free list
            }

            @Override
            public boolean hasMigrateToRam() {
                return true;
            }

            @Override
            public int migrateToRam(Page page, Object vmf) {
                migrateToRamCalls.incrementAndGet();
                Mm.Fault f = (Mm.Fault) vmf;
                Migrate m = args(f.vma(), f.address(), f.address() + P, SELECT_DEVICE_PRIVATE);
                m.faultPage = page;
                m.pgmapOwner = owner; // device-private pages are selected only for their owner
                if (f.mm().migrateSetup(m) != 0) {
                    return 2; // VM_FAULT_SIGBUS
                }
                if ((m.src[0] & MIGRATE_PFN_MIGRATE) != 0) {
                    long dpfn = f.mm().allocPage();
                    f.mm().frame(dpfn).put(zone.pfnToPage(pfn(m.src[0])).data());
                    m.dst[0] = migratePfn(dpfn);
                }
                f.mm().migratePages(m);
                f.mm().migrateFinalize(m);
                return 0;
            }

            @Override
            public int migrateToRam(Page page) {
                throw new IllegalStateException("the context form is used");
            }
        };
        zone.memremapPages(pgmap, 0);
        idleRefs = zone.refCount(pgmap);
        for (long pfn = 0x100_0000_0000L >>> PAGE_SHIFT; pfn < (0x100_0000_0000L >>> PAGE_SHIFT) + DEV_PAGES; pfn++) {
            free.add(zone.pfnToPage(pfn));
        }
    }

    @AfterEach
    void invariants() {
        mm.mmput();
        procs.deactivate();
        assertThat(ram.used()).as("RAM map empty").isZero();
        assertThat(free).as("every device page back with its driver").hasSize(DEV_PAGES);
        assertThat(zone.refCount(pgmap)).as("no page references left").isEqualTo(idleRefs);
        zone.memunmapPages(pgmap);
    }

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

    /** The driver's migrate to device (dmirror_migrate_to_device). Return: pages moved. */
    private int toDevice(long start, long end) {
        Migrate m = args(mm.findVma(start), start, end, SELECT_SYSTEM);
        m.pgmapOwner = owner;
        assertThat(mm.migrateSetup(m)).isZero();
        for (int i = 0; i < m.src.length; i++) {
            if ((m.src[i] & MIGRATE_PFN_MIGRATE) == 0 || free.isEmpty()) {
                continue;
            }
            Page pg = free.pop();
            pg.init("mm");
            if ((m.src[i] & MIGRATE_PFN_VALID) != 0) {
                pg.data().put(mm.frame(pfn(m.src[i])));
            }
            m.dst[i] = migratePfn(pg.pfn());
        }
        mm.migratePages(m);
        mm.migrateFinalize(m);
        int moved = 0;
        for (long s : m.src) {
            moved += (s & MIGRATE_PFN_MIGRATE) != 0 ? 1 : 0;
        }
        return moved;
    }

    @Test
    void pagesMoveToDeviceMemoryAndComeBackWhenTheCpuTouchesThem() {
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, "page0".getBytes());
        mm.write(a + 2 * P, "page2".getBytes());
        long ramBefore = ram.used();
        assertThat(toDevice(a, a + 4 * P)).as("two present pages and two empty ones").isEqualTo(4);
        assertThat(mm.pte(a).devicePrivate()).isTrue();
        assertThat(ram.used()).as("the system pages were freed").isLessThan(ramBefore);
        assertThat(free).hasSize(DEV_PAGES - 4);
        // the device sees its own pages through hmm_range_fault
        mm.mmapLock().readLock().lock();
        try {
            Hmm.Range r = new Hmm.Range();
            r.start = a;
            r.end = a + 4 * P;
            r.hmmPfns = new long[4];
            r.defaultFlags = HMM_PFN_REQ_FAULT;
            r.devPrivateOwner = owner;
            assertThat(hmm.rangeFault(mm, r)).isZero();
            assertThat(hmmPfnToPfn(r.hmmPfns[0])).as("reported as it is").isEqualTo(mm.pte(a).pfn());
            assertThat(migrateToRamCalls.get()).isZero();
            // another device asking for page 1: migrated back to RAM first
            Hmm.Range other = new Hmm.Range();
            other.start = a + P;
            other.end = a + 2 * P;
            other.hmmPfns = new long[1];
            other.defaultFlags = HMM_PFN_REQ_FAULT;
            other.devPrivateOwner = "another-device";
            assertThat(hmm.rangeFault(mm, other)).isZero();
            assertThat(mm.pte(a + P).devicePrivate()).isFalse();
            assertThat(migrateToRamCalls.get()).isEqualTo(1);
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        // the CPU reads page 2: migrate_to_ram brings its bytes back
        byte[] b = new byte[5];
        assertThat(mm.read(a + 2 * P, b)).isEqualTo(5);
        assertThat(new String(b)).isEqualTo("page2");
        assertThat(migrateToRamCalls.get()).isEqualTo(2);
        mm.munmap(a, 4 * P); // device pages still mapped go back to the driver
    }

    @Test
    void setupErrorsAndRefusals() {
        long a = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        Migrate m = args(null, a, a + P, SELECT_SYSTEM);
        assertThat(mm.migrateSetup(m)).as("no vma").isEqualTo(-22);
        m = args(mm.findVma(a), a, a + 4 * P, SELECT_SYSTEM);
        assertThat(mm.migrateSetup(m)).as("outside the vma").isEqualTo(-22);
        m = args(mm.findVma(a), a, a, SELECT_SYSTEM);
        assertThat(mm.migrateSetup(m)).as("no pages").isEqualTo(-22);
        m = args(mm.findVma(a), a, a + P, SELECT_SYSTEM);
        m.faultPage = "not a page";
        assertThat(mm.migrateSetup(m)).isEqualTo(-22);
        long s = mm.mmapSpecial(0, P, PROT_READ, (mm2, v, addr, w) -> -14);
        assertThat(mm.migrateSetup(args(mm.findVma(s), s, s + P, SELECT_SYSTEM))).as("special vma").isEqualTo(-22);
        // a file page is collected but not moved to device memory
        var f = procs.file("shm", P);
        long fa = mm.mmap(0, P, PROT_READ, MAP_SHARED, f, 0);
        mm.read(fa, new byte[1]);
        assertThat(toDevice(fa, fa + P)).isZero();
        assertThat(mm.pte(fa).pfn()).isEqualTo(f.pfn(0));
        // a dst the driver did not fill: nothing moves
        Migrate none = args(mm.findVma(a), a, a + 2 * P, SELECT_SYSTEM);
        assertThat(mm.migrateSetup(none)).isZero();
        assertThat(none.cpages).isEqualTo(2);
        mm.migratePages(none);
        mm.migrateFinalize(none);
        assertThat(none.src[0] & MIGRATE_PFN_MIGRATE).isZero();
        mm.munmap(fa, P);
        f.release();
    }

    @Test
    void deviceCoherentMemoryIsTheOtherType() {
        DevPagemap coh = new DevPagemap();
        coh.type = MemoryType.DEVICE_COHERENT;
        coh.name = "coherent device memory";
        coh.ranges.add(Range.ofSize(0x120_0000_0000L, 4 * P));
        coh.owner = "coherent0";
        Deque<Page> cfree = new ArrayDeque<>();
        coh.ops = cfree::push;
        zone.memremapPages(coh, 0);
        for (int k = 0; k < 4; k++) {
            cfree.add(zone.pfnToPage((0x120_0000_0000L >>> PAGE_SHIFT) + k));
        }
        long a = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, "coherent".getBytes());
        Migrate m = args(mm.findVma(a), a, a + 2 * P, SELECT_SYSTEM);
        assertThat(mm.migrateSetup(m)).isZero();
        for (int i = 0; i < 2; i++) {
            Page pg = cfree.pop();
            pg.init("mm");
            if ((m.src[i] & MIGRATE_PFN_VALID) != 0) {
                pg.data().put(mm.frame(pfn(m.src[i])));
            }
            m.dst[i] = migratePfn(pg.pfn());
        }
        mm.migratePages(m);
        mm.migrateFinalize(m);
        assertThat(mm.pte(a).present()).as("coherent memory is mapped for the CPU").isTrue();
        assertThat(mm.pte(a).devicePrivate()).isFalse();
        byte[] b = new byte[8];
        assertThat(mm.read(a, b)).isEqualTo(8);
        assertThat(new String(b)).as("read in place, no migrate_to_ram").isEqualTo("coherent");
        assertThat(migrateToRamCalls.get()).isZero();
        // back to system memory with SELECT_DEVICE_COHERENT
        Migrate other = args(mm.findVma(a), a, a + 2 * P, SELECT_DEVICE_COHERENT);
        other.pgmapOwner = "someone else";
        assertThat(mm.migrateSetup(other)).isZero();
        assertThat(other.cpages).as("coherent pages are selected for their owner only").isZero();
        mm.migratePages(other);
        mm.migrateFinalize(other);
        Migrate back = args(mm.findVma(a), a, a + 2 * P, SELECT_DEVICE_COHERENT);
        back.pgmapOwner = "coherent0";
        assertThat(mm.migrateSetup(back)).isZero();
        assertThat(back.cpages).isEqualTo(2);
        for (int i = 0; i < 2; i++) {
            long d = mm.allocPage();
            mm.frame(d).put(zone.pfnToPage(pfn(back.src[i])).data());
            back.dst[i] = migratePfn(d);
        }
        mm.migratePages(back);
        mm.migrateFinalize(back);
        assertThat(cfree).as("the coherent pages went back to their driver").hasSize(4);
        mm.read(a, b);
        assertThat(new String(b)).isEqualTo("coherent");
        mm.munmap(a, 2 * P);
        zone.memunmapPages(coh);
    }

    /**
     * Between setup and finalize the pages are migration entries: a CPU access waits for the end of
     * the migration (migration_entry_wait), then finds the page where the migration put it; a walk
     * that does not fault reports nothing for them; a migration that gives up restores the old page.
     */
    @Test
    void cpuAccessWaitsForAMigrationInProgress() throws Exception {
        long a = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, "before the migration".getBytes());
        mm.write(a + P, "stays".getBytes());
        Migrate m = args(mm.findVma(a), a, a + 2 * P, SELECT_SYSTEM);
        m.pgmapOwner = owner;
        assertThat(mm.migrateSetup(m)).isZero();
        assertThat(mm.pte(a).migration()).isTrue();
        assertThat(mm.pte(a).present()).isFalse();
        mm.mmapLock().readLock().lock();
        try {
            Hmm.Range snap = new Hmm.Range();
            snap.start = a;
            snap.end = a + 2 * P;
            snap.hmmPfns = new long[2];
            assertThat(hmm.rangeFault(mm, snap)).isZero();
            assertThat(snap.hmmPfns).as("no fault requested: migration entries are holes").containsOnly(0L);
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        byte[] got = new byte[20];
        java.util.concurrent.atomic.AtomicInteger result = new java.util.concurrent.atomic.AtomicInteger(1);
        Thread cpu = new Thread(() -> result.set(mm.read(a, got)), "cpu");
        Hmm.Range dr = new Hmm.Range();
        dr.start = a;
        dr.end = a + P;
        dr.hmmPfns = new long[1];
        dr.defaultFlags = HMM_PFN_REQ_FAULT;
        AtomicInteger devResult = new AtomicInteger(1);
        Thread dev = new Thread(() -> {
            mm.mmapLock().readLock().lock();
            try {
                devResult.set(hmm.rangeFault(mm, dr));
            } finally {
                mm.mmapLock().readLock().unlock();
            }
        }, "device");
        cpu.start();
        dev.start();
        // wait (bounded) until both are parked on the migration entry
        for (int i = 0; i < 10_000 && (cpu.getState() != Thread.State.WAITING
                || dev.getState() != Thread.State.WAITING); i++) {
            Thread.sleep(1);
        }
        assertThat(cpu.getState()).as("the CPU access waits on the migration entry").isEqualTo(Thread.State.WAITING);
        assertThat(dev.getState()).as("so does a faulting hmm_range_fault").isEqualTo(Thread.State.WAITING);
        assertThat(result.get()).as("nothing read yet").isEqualTo(1);
        // the driver copies page 0 to its memory and gives up on page 1
        Page pg = free.pop();
        pg.init("mm");
        pg.data().put(mm.frame(pfn(m.src[0])));
        m.dst[0] = migratePfn(pg.pfn());
        mm.migratePages(m);
        assertThat(m.src[1] & MIGRATE_PFN_MIGRATE).isZero();
        mm.migrateFinalize(m);
        cpu.join(10_000);
        dev.join(10_000);
        assertThat(cpu.isAlive()).isFalse();
        assertThat(devResult.get()).isZero();
        assertThat(dr.hmmPfns[0] & HMM_PFN_VALID).isNotZero();
        assertThat(hmmPfnToPfn(dr.hmmPfns[0])).as("back in system memory").isEqualTo(mm.pte(a).pfn());
        assertThat(result.get()).isEqualTo(20);
        assertThat(new String(got)).isEqualTo("before the migration");
        assertThat(migrateToRamCalls.get()).as("a waiter found device memory and faulted it back").isEqualTo(1);
        assertThat(mm.pte(a + P).present()).as("the page the driver gave up on is restored").isTrue();
        byte[] stays = new byte[5];
        mm.read(a + P, stays);
        assertThat(new String(stays)).isEqualTo("stays");
    }

    /** A migration entry zapped by munmap before finalize: the new page goes back, nothing is installed. */
    @Test
    void aRangeUnmappedDuringAMigrationGetsNothing() {
        long a = mm.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, new byte[] {1});
        Migrate m = args(mm.findVma(a), a, a + P, SELECT_SYSTEM);
        m.pgmapOwner = owner;
        assertThat(mm.migrateSetup(m)).isZero();
        Page pg = free.pop();
        pg.init("mm");
        m.dst[0] = migratePfn(pg.pfn());
        mm.migratePages(m);
        assertThat(mm.munmap(a, P)).isZero(); // a driver that dropped mmap_lock loses the race
        mm.migrateFinalize(m);
        assertThat(mm.pte(a)).isEqualTo(Mm.Pte.NONE);
    }

    /** A Migrate is in one migration at a time; finalizing it twice frees nothing twice. */
    @Test
    void setupTwiceIsRefusedAndFinalizeTwiceIsHarmless() {
        long a = mm.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, "keep".getBytes());
        Migrate m = args(mm.findVma(a), a, a + P, SELECT_SYSTEM);
        m.pgmapOwner = owner;
        assertThat(mm.migrateSetup(m)).isZero();
        assertThat(mm.migrateSetup(m)).as("still migrating").isEqualTo(-22);
        Page pg = free.pop();
        pg.init("mm");
        pg.data().put(mm.frame(pfn(m.src[0])));
        m.dst[0] = migratePfn(pg.pfn());
        mm.migratePages(m);
        mm.migrateFinalize(m);
        mm.migrateFinalize(m); // a driver bug: must not put the device page a second time
        assertThat(mm.pte(a).devicePrivate()).isTrue();
        assertThat(pg.refcount()).as("only the page table's reference").isEqualTo(1);
        byte[] b = new byte[4];
        mm.read(a, b);
        assertThat(new String(b)).isEqualTo("keep");
    }
}
