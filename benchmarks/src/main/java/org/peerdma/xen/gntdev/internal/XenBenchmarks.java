package org.peerdma.xen.gntdev.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.xen.gntdev.Displif;
import org.peerdma.xen.gntdev.GntdevFile;
import org.peerdma.xen.gntdev.PageDirectory;
import org.peerdma.xen.gnttab.internal.GrantTableImpl;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/**
 * Guest to dom0: sharing a buffer (grant every page behind a page directory, the backend walks the
 * directory and maps every page as a gntdev dma-buf, then lets go) against copying the same bytes
 * out of the guest's frames into dom0's memory.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class XenBenchmarks {
    /** 1920x1080 XRGB8888 (2025 pages) and 256 MiB (65536 pages, gntdev's default limit). */
    @Param({"8294400", "268435456"})
    public long bytes;

    Hypervisor xen;
    Hypercalls guest;
    GrantTableImpl gGnttab;
    GrantTableImpl d0Gnttab;
    PageDirectoryImpl gDir;
    PageDirectoryImpl d0Dir;
    GntdevFile file;
    DmaBufCoreImpl d0Core;
    FdTable d0Proc;
    long[] gfns;
    ByteBuffer dom0Copy;

    @Setup(Level.Trial)
    public void setUp() {
        int pages = (int) Displif.dataPages(bytes);
        xen = Machines.create((long) pages * 4096 + (640L << 20), 64L << 20);
        Hypercalls d0 = xen.hypercalls(0);
        guest = xen.hypercalls(xen.create("bench", pages + 2048, (pages + 4096) / 512 + 1).domid());
        gGnttab = new GrantTableImpl(guest, 1000);
        d0Gnttab = new GrantTableImpl(d0, 1000);
        DomainPagesImpl gPages = new DomainPagesImpl(guest);
        gDir = new PageDirectoryImpl(guest, gGnttab, gPages);
        d0Dir = new PageDirectoryImpl(d0, d0Gnttab, new DomainPagesImpl(d0));
        d0Core = new DmaBufCoreImpl();
        d0Proc = d0Core.fdTable("bench-be");
        file = new GntdevImpl(d0, d0Gnttab, d0Core, null, null).open(d0Proc);
        gfns = gPages.alloc(pages, "bench");
        for (int i = 0; i < pages; i++) {
            guest.page(gfns[i]).putInt(0, i);
        }
        dom0Copy = ByteBuffer.allocateDirect((int) Math.min(Integer.MAX_VALUE, (long) pages * 4096));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        gGnttab.deactivate();
        d0Gnttab.deactivate();
    }

    /** Share: grant (directory + data), walk, map all as a dma-buf, touch one int per page, release. */
    @Benchmark
    public void shareGrantDirectoryMap(Blackhole bh) {
        PageDirectory.Shared s = gDir.share(0, gfns, false);
        int[] refs = d0Dir.read(guest.domid(), s.firstRef(), gfns.length);
        int fd = file.expFromRefs(0, guest.domid(), refs);
        if (fd < 0) {
            throw new IllegalStateException("EXP_FROM_REFS: " + fd);
        }
        DmaBuf b = d0Proc.get(fd);
        b.resv().lock();
        BufMap v = d0Core.vmap(b);
        b.resv().unlock();
        bh.consume(v.getInt((long) (gfns.length - 1) * 4096));
        b.resv().lock();
        d0Core.vunmap(b, v);
        b.resv().unlock();
        d0Core.put(b);
        d0Proc.close(fd);
        s.close();
    }

    /** Copy: every byte of the guest's pages into dom0's own buffer (what a copying backend pays). */
    @Benchmark
    public void copyTheSameBytes(Blackhole bh) {
        dom0Copy.clear();
        for (long g : gfns) {
            dom0Copy.put(guest.page(g));
        }
        bh.consume(dom0Copy.getInt((gfns.length - 1) * Xen.PAGE_SIZE));
    }
}
