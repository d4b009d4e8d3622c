package org.peerdma.xen.gntdev.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.errno.Errno;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.xen.gntdev.Gntdev;
import org.peerdma.xen.gntdev.GntdevFile;
import org.peerdma.xen.gnttab.internal.GrantTableImpl;
import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/**
 * gntdev under load and a fault (issue 13): in the guest, two threads share a gntdev file to grant dumb
 * buffers' pages to dom0 (IMP_TO_REFS, sometimes the same buffer twice, IMP_RELEASE while dom0 maps) and
 * a third grants single pages; in dom0 one thread turns the imports into dma-bufs (EXP_FROM_REFS with
 * WC/COHERENT flags, vmap, a device's DMA through the IOMMU, close, EXP_WAIT_RELEASED) and two threads share
 * a gntdev file to map the single grants (MAP_GRANT_REF) and unmap them. The guest crashes in the middle.
 * Checked: every page dom0 sees is the one granted (a tag per page); the guest's ioctls after the crash
 * fail with ESRCH and take nothing; dom0's calls on the dead granter fail with EINVAL, nothing left
 * mapped; the zombie holds exactly the frames dom0 still maps, intact; when dom0 lets go, every grant
 * mapping, dma-buf, RAM-map region, gntdev holder and frame is back where it started.
 */
class GntdevCrashTest {
    static final int PAGES = 4;
    /**
     * Every end here is deferred (dom0 still maps what the guest ends) and the timer frees at most 10 a pass:
     * the guest stops granting while this many wait, or it would run out of refs (-ENOSPC, as a real guest does).
     */
    static final int BACKLOG = 256;

    private Hypervisor xen;
    private Hypercalls d0;
    private Hypercalls g;
    private GrantTableImpl gGnttab;
    private GrantTableImpl d0Gnttab;
    private DomainPagesImpl gPages;
    private DmaBufCoreImpl gCore;
    private DmaBufCoreImpl d0Core;
    private DumbBuffersImpl dumb;
    private GntdevImpl gGntdev;
    private GntdevImpl d0Gntdev;
    private FdTable gProc;
    private FdTable d0Proc;
    private DeviceNode nic;
    private long freeBeforeGuest;
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private volatile boolean abort;

    @BeforeEach
    void boot() {
        xen = Machines.create(128 << 20, 16 << 20);
        d0 = xen.hypercalls(0);
        freeBeforeGuest = xen.freeFrames();
        g = xen.hypercalls(xen.create("guest", 2048, 4).domid());
        gGnttab = new GrantTableImpl(g, 2);
        d0Gnttab = new GrantTableImpl(d0, 2);
        gPages = new DomainPagesImpl(g);
        gCore = new DmaBufCoreImpl();
        d0Core = new DmaBufCoreImpl();
        dumb = new DumbBuffersImpl(gCore, gPages);
        gGntdev = new GntdevImpl(g, gGnttab, gCore, null, null);
        d0Gntdev = new GntdevImpl(d0, d0Gnttab, d0Core, TestDma.api(), TestDma.ram());
        gProc = gCore.fdTable("guest-app");
        d0Proc = d0Core.fdTable("backend");
        MachineDTO mdto = new MachineDTO();
        DeviceDTO dev = new DeviceDTO();
        dev.bdf = "0000:00:01.0";
        mdto.devices.add(dev);
        PciCoreImpl pci = new PciCoreImpl();
        pci.load(mdto);
        nic = DeviceNode.of(pci.get(Bdf.parse("00:01.0")));
    }

    @AfterEach
    void stop() {
        gGnttab.deactivate();
        d0Gnttab.deactivate();
    }

    /** One IMP_TO_REFS of a guest buffer, offered to dom0's exporter. */
    static final class Import {
        final int fd;
        final int[] refs;
        final long[] tags;
        final long[] gfns;
        volatile boolean exported;
        volatile boolean done;

        Import(int fd, int[] refs, long[] tags, long[] gfns) {
            this.fd = fd;
            this.refs = refs;
            this.tags = tags;
            this.gfns = gfns;
        }
    }

    /** Single grants offered to dom0's MAP_GRANT_REF threads. */
    static final class Grants {
        final int[] refs;
        final long[] gfns;
        final long[] tags;
        final boolean ro;
        volatile boolean mapped;
        volatile boolean done;

        Grants(int[] refs, long[] gfns, long[] tags, boolean ro) {
            this.refs = refs;
            this.gfns = gfns;
            this.tags = tags;
            this.ro = ro;
        }
    }

    /** A dma-buf dom0 holds: the export's fd, a reference, maybe a device attachment mapped. */
    record Held(Import imp, int efd, DmaBuf buf, DmaBufAttachment att, SgTable sgt) {
    }

    private Thread thread(String name, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failures.add(new AssertionError(name + " failed", e));
                abort = true;
            }
        }, name);
        t.setDaemon(true);
        return t;
    }

    /** Wait until the latch opens; a failing thread ends the wait (its failure is the report). */
    private void warmUp(CountDownLatch latch, String what) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!latch.await(20, TimeUnit.MILLISECONDS) && !abort && System.nanoTime() < until) {
            // waiting for the threads' progress, not for time
        }
        assertThat(failures).as("thread failures during warm-up").isEmpty();
        assertThat(latch.getCount()).as("warm-up: %s", what).isZero();
    }

    private static void joinAll(List<Thread> ts, long seconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Thread t : ts) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
        }
        ts.stream().filter(Thread::isAlive).forEach(Thread::interrupt);
        assertThat(ts).as("threads finished in time").noneMatch(Thread::isAlive);
    }

    /** A little-endian 64-bit tag through a mapping (BufMap has 32-bit accessors). */
    private static long getLong(BufMap m, long off) {
        return m.getInt(off) & 0xffff_ffffL | (long) m.getInt(off + 4) << 32;
    }

    private static void putLong(BufMap m, long off, long v) {
        m.putInt(off, (int) v);
        m.putInt(off + 4, (int) (v >>> 32));
    }

    /** dom0 reads the export through a kernel mapping: each page shows its tag. */
    private void checkVmap(Held h) {
        h.buf().resv().lock();
        BufMap v;
        try {
            v = d0Core.vmap(h.buf());
        } finally {
            h.buf().resv().unlock();
        }
        try {
            for (int p = 0; p < PAGES; p++) {
                assertThat(getLong(v, p * 4096L)).as("export fd %d page %d", h.efd(), p).isEqualTo(h.imp().tags[p]);
            }
        } finally {
            h.buf().resv().lock();
            try {
                d0Core.vunmap(h.buf(), v);
            } finally {
                h.buf().resv().unlock();
            }
        }
    }

    private void release(Held h, GntdevFile f) {
        if (h.att() != null) {
            d0Core.unmapAttachmentUnlocked(h.att(), h.sgt(), DmaDirection.TO_DEVICE);
            d0Core.detach(h.att());
        }
        d0Core.put(h.buf());
        assertThat(d0Proc.close(h.efd())).isZero();
        assertThat(f.expWaitReleased(h.efd(), 0)).as("released at the last put").isEqualTo(-Xen.ENOENT);
        h.imp().done = true;
    }

    @Test
    void theGuestCrashesWhileDom0ExportsAndMapsItsGrantsThroughGntdev() throws Exception {
        long[] gfnToMfn = new long[(int) g.nrPages()];
        for (int i = 0; i < gfnToMfn.length; i++) {
            gfnToMfn[i] = g.gfnToMfn(i);
        }
        AtomicInteger crashState = new AtomicInteger(); // 0 running, 1 being crashed, 2 crash returned
        AtomicLong seq = new AtomicLong();
        Queue<Import> toExporter = new ConcurrentLinkedQueue<>();
        Queue<Grants> toMappers = new ConcurrentLinkedQueue<>();
        CountDownLatch exported = new CountDownLatch(60);
        CountDownLatch mapped = new CountDownLatch(150);
        AtomicInteger guestEsrch = new AtomicInteger();
        AtomicInteger doubleImports = new AtomicInteger();
        GntdevFile gf = gGntdev.open(gProc);

        // guest: two importers on one gntdev file, each with its own dumb buffers; a buffer goes
        // idle -> imported (once or twice) -> released (IMP_RELEASE once dom0 exported it) -> idle (once dom0 let go)
        List<Thread> guest = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int seed = t;
            int[] fds = new int[6];
            long[][] gfns = new long[fds.length][];
            for (int i = 0; i < fds.length; i++) {
                fds[i] = dumb.create(gProc, 64, 64, 32); // 4 pages
                assertThat(fds[i]).isPositive();
                gfns[i] = dumb.gfns(gProc, fds[i]);
                guestFds.add(fds[i]);
            }
            guest.add(thread("guest-importer-" + t, () -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                List<List<Import>> imported = new ArrayList<>();
                boolean[] releasedState = new boolean[fds.length];
                for (int i = 0; i < fds.length; i++) {
                    imported.add(new ArrayList<>());
                }
                while (!abort) {
                    int before = crashState.get();
                    try {
                        boolean importedOne = false;
                        for (int i = 0; i < fds.length; i++) {
                            List<Import> xs = imported.get(i);
                            if (releasedState[i]) {
                                if (xs.stream().allMatch(x -> x.done)) {
                                    xs.clear();
                                    releasedState[i] = false;
                                }
                            } else if (!xs.isEmpty()) {
                                if (xs.stream().allMatch(x -> x.exported || x.done)) {
                                    for (int k = 0; k < xs.size(); k++) {
                                        assertThat(gf.impRelease(fds[i])).as("IMP_RELEASE %d of fd %d", k, fds[i])
                                                .isZero();
                                    }
                                    releasedState[i] = true;
                                }
                            } else if (!importedOne && gGnttab.deferredCount() < BACKLOG) {
                                importedOne = true;
                                int fd = fds[i];
                                long[] tags = new long[PAGES];
                                BufMap m = gProc.mmap(fd, 0, PAGES * 4096L);
                                for (int p = 0; p < PAGES; p++) {
                                    tags[p] = (long) g.domid() << 48 | seq.incrementAndGet();
                                    putLong(m, p * 4096L, tags[p]);
                                }
                                int times = rnd.nextInt(4) == 0 ? 2 : 1; // the same buffer imported twice
                                for (int k = 0; k < times; k++) {
                                    int[] refs = new int[PAGES];
                                    int rc = gf.impToRefs(fd, 0, refs);
                                    if (rc != 0) {
                                        assertThat(rc).as("IMP_TO_REFS of the dying guest (refs in use %d, deferred %d, "
                                                + "dom0 handles %d, imports %d)", gGnttab.inUse(), gGnttab.deferredCount(),
                                                d0.grantHandles().size(), gf.imports().size()).isEqualTo(-Xen.ESRCH);
                                        assertThat(crashState.get()).as("ESRCH before the crash").isPositive();
                                        guestEsrch.incrementAndGet();
                                        return;
                                    }
                                    assertThat(before).as("an import that started after the crash succeeded")
                                            .isLessThan(2);
                                    Import x = new Import(fd, refs, tags, gfns[i]);
                                    xs.add(x);
                                    toExporter.add(x);
                                    if (k == 1) {
                                        doubleImports.incrementAndGet();
                                    }
                                }
                            }
                        }
                        if (!importedOne) {
                            g.xsRead("/local/domain/" + g.domid() + "/name"); // a hypercall every round
                        }
                    } catch (XenError e) {
                        assertThat(e.errno()).isEqualTo(Xen.ESRCH);
                        assertThat(crashState.get()).isPositive();
                        guestEsrch.incrementAndGet();
                        return;
                    }
                    Thread.yield();
                }
            }));
        }
        // guest: single pages granted with the grant-table API for dom0's MAP_GRANT_REF
        long[] singles = gPages.alloc(96, "single grants");
        guest.add(thread("guest-granter", () -> {
            SplittableRandom rnd = new SplittableRandom(9);
            Queue<Long> idle = new java.util.ArrayDeque<>();
            for (long s : singles) {
                idle.add(s);
            }
            List<Grants> mine = new ArrayList<>();
            Queue<Long> back = new ConcurrentLinkedQueue<>();
            while (!abort) {
                int before = crashState.get();
                try {
                    for (Long b; (b = back.poll()) != null;) {
                        idle.add(b);
                    }
                    int n = 1 + rnd.nextInt(3);
                    if (idle.size() >= n && mine.size() < 24 && gGnttab.deferredCount() < BACKLOG) {
                        boolean ro = rnd.nextBoolean();
                        int[] refs = new int[n];
                        long[] gfns = new long[n];
                        long[] tags = new long[n];
                        for (int k = 0; k < n; k++) {
                            gfns[k] = idle.poll();
                            tags[k] = (long) g.domid() << 48 | seq.incrementAndGet();
                            // through the hypervisor: fails once dying
                            g.page(gfns[k]).order(ByteOrder.LITTLE_ENDIAN).putLong(0, tags[k]);
                            refs[k] = gGnttab.grantForeignAccess(0, gfns[k], ro);
                            assertThat(refs[k]).isPositive();
                        }
                        Grants x = new Grants(refs, gfns, tags, ro);
                        mine.add(x);
                        toMappers.add(x);
                    } else {
                        g.xsRead("/local/domain/" + g.domid() + "/name"); // a hypercall every round
                    }
                    assertThat(before).as("a call that started after the crash succeeded").isLessThan(2);
                    for (int i = 0; i < mine.size(); i++) {
                        Grants x = mine.get(i);
                        if (x.mapped || x.done) {
                            for (int k = 0; k < x.refs.length; k++) {
                                long gfn = x.gfns[k];
                                gGnttab.endForeignAccess(x.refs[k], () -> back.add(gfn)); // deferred while mapped
                            }
                            mine.remove(i--);
                        }
                    }
                } catch (XenError e) {
                    assertThat(e.errno()).isEqualTo(Xen.ESRCH);
                    assertThat(crashState.get()).isPositive();
                    guestEsrch.incrementAndGet();
                    return;
                }
                Thread.yield();
            }
        }));

        // dom0: one exporter thread, two mapper threads sharing one gntdev file
        GntdevFile fe = d0Gntdev.open(d0Proc);
        GntdevFile fm = d0Gntdev.open(d0Proc);
        List<Held> heldExports = new ArrayList<>();
        Map<Integer, List<Object[]>> heldMaps = new ConcurrentHashMap<>();
        CountDownLatch dom0Stop = new CountDownLatch(1);
        List<Thread> dom0 = new ArrayList<>();
        dom0.add(thread("dom0-exporter", () -> {
            SplittableRandom rnd = new SplittableRandom(3);
            int[] flagChoices = {0, Gntdev.GNTDEV_DMA_FLAG_WC, Gntdev.GNTDEV_DMA_FLAG_COHERENT};
            while (!abort) {
                Import x = toExporter.poll();
                if (x == null) {
                    if (dom0Stop.getCount() == 0) {
                        return;
                    }
                    Thread.yield();
                    continue;
                }
                int before = crashState.get();
                int efd = fe.expFromRefs(flagChoices[rnd.nextInt(3)], g.domid(), x.refs);
                if (efd < 0) {
                    assertThat(efd).as("EXP_FROM_REFS of a dead granter's refs").isEqualTo(-Xen.EINVAL);
                    assertThat(crashState.get()).as("refused before the crash").isPositive();
                    x.done = true;
                    continue;
                }
                assertThat(before).as("exported a grant of a crashed domain").isLessThan(2);
                DmaBuf buf = d0Proc.get(efd);
                DmaBufAttachment att = null;
                SgTable sgt = null;
                if (rnd.nextInt(3) == 0) {
                    att = d0Core.attach(buf, nic, null, null);
                    sgt = d0Core.mapAttachmentUnlocked(att, DmaDirection.TO_DEVICE);
                    // the device reads page 2 through the IOMMU: the guest's frame itself
                    long phys = sgt.entries().get(2).dmaAddress() - TestDma.IOVA_BASE;
                    ByteBuffer got = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                    d0Gntdev.ram.read(phys, got);
                    assertThat(got.flip().getLong()).as("DMA read of page 2").isEqualTo(x.tags[2]);
                }
                Held h = new Held(x, efd, buf, att, sgt);
                checkVmap(h);
                heldExports.add(h);
                x.exported = true;
                exported.countDown();
                if (heldExports.size() > 4 + rnd.nextInt(8)) {
                    Held old = heldExports.remove(rnd.nextInt(heldExports.size()));
                    checkVmap(old);
                    release(old, fe);
                }
            }
        }));
        for (int t = 0; t < 2; t++) {
            int seed = 20 + t;
            List<Object[]> held = new ArrayList<>();
            heldMaps.put(t, held);
            dom0.add(thread("dom0-mapper-" + t, () -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                while (!abort) {
                    Grants x = toMappers.poll();
                    if (x == null) {
                        if (dom0Stop.getCount() == 0) {
                            return;
                        }
                        Thread.yield();
                        continue;
                    }
                    int before = crashState.get();
                    GntdevFile.GrantPages p = fm.mapGrantRefs(g.domid(), x.refs, x.ro);
                    if (p == null) {
                        assertThat(fm.lastError()).isEqualTo(-Xen.EINVAL);
                        assertThat(crashState.get()).as("map refused before the crash").isPositive();
                        x.done = true;
                        continue;
                    }
                    assertThat(before).as("mapped a grant of a crashed domain").isLessThan(2);
                    assertThat(p.count()).isEqualTo(x.refs.length);
                    for (int k = 0; k < x.refs.length; k++) {
                        assertThat(getLong(p.memory(), k * 4096L)).as("mapped page %d", k).isEqualTo(x.tags[k]);
                    }
                    held.add(new Object[] {x, p});
                    x.mapped = true;
                    mapped.countDown();
                    if (held.size() > 6 + rnd.nextInt(10)) {
                        Object[] old = held.remove(rnd.nextInt(held.size()));
                        Grants ox = (Grants) old[0];
                        GntdevFile.GrantPages op = (GntdevFile.GrantPages) old[1];
                        for (int k = 0; k < ox.refs.length; k++) {
                            assertThat(getLong(op.memory(), k * 4096L)).isEqualTo(ox.tags[k]);
                        }
                        op.close();
                        ox.done = true;
                    }
                }
            }));
        }

        guest.forEach(Thread::start);
        dom0.forEach(Thread::start);
        warmUp(exported, "exports");
        warmUp(mapped, "maps");
        crashState.set(1);
        xen.crash(g.domid());
        crashState.set(2);
        joinAll(guest, 20);
        dom0Stop.countDown();
        joinAll(dom0, 20);
        assertThat(failures).as("thread failures").isEmpty();
        assertThat(guestEsrch.get()).as("every guest thread stopped on ESRCH").isEqualTo(3);

        // the zombie holds exactly the frames dom0 still maps, and they are intact
        Set<Long> heldFrames = new HashSet<>();
        for (Held h : heldExports) {
            for (long gfn : h.imp().gfns) {
                heldFrames.add(gfnToMfn[(int) gfn]);
            }
            checkVmap(h);
        }
        int mapsHeld = 0;
        for (List<Object[]> hs : heldMaps.values()) {
            for (Object[] o : hs) {
                Grants x = (Grants) o[0];
                GntdevFile.GrantPages p = (GntdevFile.GrantPages) o[1];
                for (int k = 0; k < x.refs.length; k++) {
                    heldFrames.add(gfnToMfn[(int) x.gfns[k]]);
                    assertThat(getLong(p.memory(), k * 4096L)).isEqualTo(x.tags[k]);
                }
                mapsHeld++;
            }
        }
        assertThat(heldExports).as("exports across the crash").isNotEmpty();
        assertThat(mapsHeld).as("maps across the crash").isPositive();
        DomainInfo z = xen.info(g.domid()).orElseThrow();
        assertThat(z.state()).isEqualTo(DomainState.CRASHED);
        assertThat(z.framesHeld()).as("frames held = frames dom0 maps").isEqualTo(heldFrames.size());
        assertThat(fe.expFromRefs(0, g.domid(), heldExports.get(0).imp().refs)).as("a dead granter")
                .isEqualTo(-Xen.EINVAL);
        assertThat(fm.mapGrantRefs(g.domid(), heldExports.get(0).imp().refs, true)).isNull();
        assertThat(d0Gntdev.holders()).isNotEmpty();

        // the guest kernel is still "running code": its ioctls fail with ESRCH and take nothing
        int anyFd = gProc.fd(gProc.get(guestFds.get(0)), 0); // a second fd of one of its buffers
        DmaBuf b = gProc.get(anyFd);
        int atts = b.attachments().size();
        gCore.put(b);
        int inUse = gGnttab.inUse();
        int imports = gf.imports().size();
        assertThat(gf.impToRefs(anyFd, 0, new int[PAGES])).isEqualTo(-Xen.ESRCH);
        assertThat(gf.imports()).hasSize(imports);
        // (the dying guest's deferred timer may free refs meanwhile; a failed call must not take any)
        assertThat(gGnttab.inUse()).as("no refs taken").isLessThanOrEqualTo(inUse);
        b = gProc.get(anyFd);
        assertThat(b.attachments()).as("detached again").hasSize(atts);
        gCore.put(b);
        gProc.close(anyFd);

        // dom0 lets go (exports and maps at once, from two threads): the last unmap reaps the guest
        List<Thread> letGo = List.of(thread("release-exports", () -> {
            for (Held h : heldExports) {
                release(h, fe);
            }
        }), thread("release-maps", () -> {
            for (List<Object[]> hs : heldMaps.values()) {
                for (Object[] o : hs) {
                    ((GntdevFile.GrantPages) o[1]).close();
                }
            }
        }));
        letGo.forEach(Thread::start);
        joinAll(letGo, 20);
        assertThat(failures).isEmpty();
        assertThat(xen.info(g.domid())).as("reaped once dom0 let go").isEmpty();
        assertThat(d0.grantHandles()).isEmpty();
        fe.close();
        fm.close();
        assertThat(fe.exports()).isEmpty();
        assertThat(d0Gntdev.holders()).isEmpty();
        assertThat(d0Core.buffers()).isEmpty();
        assertThat(d0Gntdev.ram.used()).as("dom0's RAM map").isZero();
        assertThat(d0Gnttab.inUse()).isZero();
        assertThat(xen.freeFrames()).isEqualTo(freeBeforeGuest);
        assertThat(xen.list()).extracting(DomainInfo::domid).containsExactly(0);

        // the guest's framework goes after the kill: its files and buffers close without errors, nothing stays
        gf.close();
        assertThat(gf.imports()).isEmpty();
        for (int fd : guestFds) {
            assertThat(gProc.close(fd)).isZero();
        }
        gGntdev.deactivate();
        assertThat(gCore.buffers()).as("every guest buffer released").isEmpty();
        assertThat(doubleImports.get()).as("the same buffer imported twice").isPositive();
    }

    /** The guest's dumb buffer fds. */
    private final List<Integer> guestFds = new ArrayList<>();

    // ---------------------------------------------------------------- deterministic regressions

    /** gntdev-dmabuf.c keeps imports on a list: one buffer imported twice is two imports, released one at a time. */
    @Test
    void importingTheSameBufferTwiceKeepsBothImports() {
        int fd = dumb.create(gProc, 64, 64, 32);
        GntdevFile f = gGntdev.open(gProc);
        int[] first = new int[PAGES];
        int[] second = new int[PAGES];
        assertThat(f.impToRefs(fd, 0, first)).isZero();
        assertThat(f.impToRefs(fd, 0, second)).isZero();
        assertThat(second).doesNotContain(first);
        assertThat(f.imports()).containsExactly(fd, fd);
        assertThat(gGnttab.inUse()).isEqualTo(2 * PAGES);
        // dom0 maps a page of the first import: ending it is deferred, the other import's are not
        var m = d0.mapGrantRef(g.domid(), first[1], Xen.GNTMAP_host_map);
        assertThat(m.ok()).isTrue();
        assertThat(f.impRelease(fd)).as("the newest import").isZero();
        assertThat(gGnttab.inUse()).isEqualTo(PAGES);
        for (int r : second) {
            assertThat(g.entryFlags(r)).as("second import's ref %d ended", r).isZero();
        }
        assertThat(f.impRelease(fd)).as("then the first").isZero();
        assertThat(gGnttab.deferredCount()).as("the page dom0 maps").isEqualTo(1);
        assertThat(f.impRelease(fd)).isEqualTo(-Xen.ENOENT);
        assertThat(f.imports()).isEmpty();
        DmaBuf b = gProc.get(fd);
        assertThat(b.attachments()).as("both imports detached").isEmpty();
        gCore.put(b);
        assertThat(d0.unmapGrantRef(m.handle())).isZero();
        f.close();
        gProc.close(fd);
        assertThat(gCore.buffers()).isEmpty();
    }

    /** After close the fd is gone: every ioctl is -EBADF and nothing new is mapped or granted. */
    @Test
    void ioctlsOnAClosedFileFailWithEbadf() {
        int fd = dumb.create(gProc, 64, 64, 32);
        int[] refs = new int[PAGES];
        for (int i = 0; i < PAGES; i++) {
            refs[i] = gGnttab.grantForeignAccess(0, dumb.gfns(gProc, fd)[i], false);
        }
        GntdevFile f = d0Gntdev.open(d0Proc);
        int efd = f.expFromRefs(0, g.domid(), refs);
        assertThat(efd).isPositive();
        f.close();
        assertThat(f.exports()).as("the export holds the file").containsExactly(efd);
        assertThat(f.mapGrantRefs(g.domid(), refs, true)).isNull();
        assertThat(f.lastError()).isEqualTo(-Errno.EBADF.number());
        assertThat(f.expFromRefs(0, g.domid(), refs)).isEqualTo(-Errno.EBADF.number());
        assertThat(f.expWaitReleased(efd, 0)).isEqualTo(-Errno.EBADF.number());
        assertThat(d0.grantHandles()).as("only the export's").hasSize(PAGES);
        GntdevFile gfile = gGntdev.open(gProc);
        gfile.close();
        assertThat(gfile.impToRefs(fd, 0, new int[PAGES])).isEqualTo(-Errno.EBADF.number());
        assertThat(gfile.impRelease(fd)).isEqualTo(-Errno.EBADF.number());
        assertThat(gGnttab.inUse()).isEqualTo(PAGES);
        assertThat(d0Proc.close(efd)).isZero();
        assertThat(d0.grantHandles()).isEmpty();
        assertThat(d0Gntdev.holders()).isEmpty();
        for (int r : refs) {
            assertThat(gGnttab.tryEndForeignAccess(r)).isTrue();
        }
        gProc.close(fd);
    }

    /** The guest is dying: its ioctls that need the hypervisor return -ESRCH and take nothing. */
    @Test
    void aDyingGuestsIoctlsFailWithEsrchAndTakeNothing() {
        int fd = dumb.create(gProc, 64, 64, 32);
        long[] gfns = dumb.gfns(gProc, fd);
        int ref = gGnttab.grantForeignAccess(g.domid(), gfns[0], true); // a grant to itself, to map below
        GntdevFile f = gGntdev.open(gProc);
        xen.crash(g.domid());
        int inUse = gGnttab.inUse();
        assertThat(f.impToRefs(fd, 0, new int[PAGES])).isEqualTo(-Xen.ESRCH);
        assertThat(gGnttab.inUse()).as("no refs taken").isEqualTo(inUse);
        assertThat(gGnttab.deferredCount()).isZero();
        assertThat(f.imports()).isEmpty();
        DmaBuf b = gProc.get(fd);
        assertThat(b.attachments()).as("detached again").isEmpty();
        gCore.put(b);
        assertThat(f.mapGrantRefs(g.domid(), new int[] {ref}, true)).isNull();
        assertThat(f.lastError()).isEqualTo(-Xen.ESRCH);
        assertThat(f.expFromRefs(0, g.domid(), new int[] {ref})).isEqualTo(-Xen.ESRCH);
        int buffers = gCore.buffers().size();
        assertThat(dumb.create(gProc, 64, 64, 32)).as("a new dumb buffer").isEqualTo(-Xen.ESRCH);
        assertThat(gCore.buffers()).hasSize(buffers);
        f.close();
        gProc.close(fd);
        assertThat(gCore.buffers()).as("the buffer released: nothing held it").isEmpty();
        assertThat(xen.info(g.domid())).as("nothing maps its frames: dead at once").isEmpty();
    }
}
