package org.peerdma.mm.dmirror.internal;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.dmirror.Dmirror;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.mm.vm.Hmm;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.internal.HmmImpl;
import org.peerdma.mm.vm.internal.ProcessesImpl;

/**
 * HMM's hot paths on the model: walking a mirrored range (hmm_range_fault with nothing to fault), a
 * device read that faults a fresh range in, a round trip of pages to device-private memory and back,
 * and populating 2 MiB by write faults with and without a transparent huge page.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class HmmBenchmarks {
    static final long P = Vm.PAGE_SIZE;
    static final long TWOMEG = Vm.PMD_SIZE;

    private PhysMemory ram;
    private ProcessesImpl procs;
    private Mm mm;
    private DmirrorDevicesImpl devs;
    private Dmirror dev;
    private final Hmm hmm = new HmmImpl();
    private long walked;
    private long moved;
    private Hmm.Range walk;

    @Setup
    public void boot() {
        ram = TestDma.ram();
        ZoneDevice zone = TestZone.zone();
        procs = new ProcessesImpl(ram, zone);
        mm = procs.create("bench");
        devs = new DmirrorDevicesImpl(zone, hmm, procs);
        dev = devs.create("dmirror0", 0x100_0000_0000L, 1024);
        walked = mm.mmap(0, TWOMEG, Vm.PROT_READ | Vm.PROT_WRITE, Vm.MAP_PRIVATE | Vm.MAP_ANONYMOUS, null, 0);
        mm.write(walked, new byte[(int) TWOMEG]);
        walk = new Hmm.Range();
        walk.start = walked;
        walk.end = walked + TWOMEG;
        walk.hmmPfns = new long[(int) (TWOMEG / P)];
        walk.defaultFlags = Vm.HMM_PFN_REQ_FAULT | Vm.HMM_PFN_REQ_WRITE;
        moved = mm.mmap(0, 64 * P, Vm.PROT_READ | Vm.PROT_WRITE, Vm.MAP_PRIVATE | Vm.MAP_ANONYMOUS, null, 0);
        mm.write(moved, new byte[(int) (64 * P)]);
    }

    @TearDown
    public void teardown() {
        dev.release(mm);
        mm.mmput();
        devs.destroy(dev);
        procs.deactivate();
        if (ram.used() != 0) {
            throw new IllegalStateException("RAM left allocated: " + ram.used());
        }
    }

    /** hmm_range_fault over 512 present, writable pages: the walk alone. */
    @Benchmark
    public long rangeFault512PresentPages() {
        mm.mmapLock().readLock().lock();
        try {
            if (hmm.rangeFault(mm, walk) != 0) {
                throw new IllegalStateException("walk failed");
            }
            return walk.hmmPfns[511];
        } finally {
            mm.mmapLock().readLock().unlock();
        }
    }

    /** HMM_DMIRROR_READ of 16 fresh pages (read faults map the zero page), mmap and munmap included. */
    @Benchmark
    public long deviceReadFaults16FreshPages() {
        long a = mm.mmap(0, 16 * P, Vm.PROT_READ | Vm.PROT_WRITE, Vm.MAP_PRIVATE | Vm.MAP_ANONYMOUS, null, 0);
        Dmirror.Cmd c = new Dmirror.Cmd(a, 16, new byte[(int) (16 * P)]);
        if (dev.read(mm, c) != 0) {
            throw new IllegalStateException("read failed");
        }
        mm.munmap(a, 16 * P);
        return c.faults;
    }

    /** 64 pages to device-private memory and back (migrate_vma both ways, 2 x 256 KiB copied). */
    @Benchmark
    public long migrate64PagesToDeviceAndBack() {
        Dmirror.Cmd to = new Dmirror.Cmd(moved, 64, null);
        Dmirror.Cmd back = new Dmirror.Cmd(moved, 64, null);
        if (dev.migrateToDev(mm, to) != 0 || dev.migrateToSys(mm, back) != 0) {
            throw new IllegalStateException("migration failed");
        }
        return to.cpages + back.cpages;
    }

    /** Write-fault 2 MiB page by page (512 faults, 512 page allocations), then munmap. */
    @Benchmark
    public long populate2MiBWithPages() {
        return populate(false);
    }

    /** The same 2 MiB under MADV_HUGEPAGE: one fault maps a transparent huge page. */
    @Benchmark
    public long populate2MiBWithThp() {
        return populate(true);
    }

    private long populate(boolean thp) {
        long buf = mm.mmap(0, 2 * TWOMEG, Vm.PROT_READ | Vm.PROT_WRITE, Vm.MAP_PRIVATE | Vm.MAP_ANONYMOUS, null, 0);
        long a = (buf + TWOMEG - 1) & -TWOMEG;
        if (thp) {
            mm.madvise(a, TWOMEG, Vm.MADV_HUGEPAGE);
        }
        byte[] one = {1};
        for (long p = a; p < a + TWOMEG; p += P) {
            mm.write(p, one);
        }
        long order = mm.pte(a).order();
        mm.munmap(buf, 2 * TWOMEG);
        return order;
    }
}
