package org.peerdma.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.hyperdmabuf.HyperDmabuf;
import org.peerdma.hyperdmabuf.HyperDmabufFile;
import org.peerdma.hyperdmabuf.HyperDmabufId;
import org.peerdma.hyperdmabuf.internal.HyperDmabufImpl;
import org.peerdma.hyperdmabuf.xen.XenBackend;
import org.peerdma.xen.gntdev.XenZcopy;
import org.peerdma.xen.gntdev.internal.DumbBuffersImpl;
import org.peerdma.xen.gntdev.internal.GntdevImpl;
import org.peerdma.xen.gntdev.internal.XenZcopyImpl;
import org.peerdma.xen.gnttab.internal.GrantTableImpl;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/**
 * The same workload both ways: a guest hands N frames of W x H XRGB8888 to dom0 through a pool of
 * three buffers shared once (triple buffering), as a display frontend would.
 * <ul>
 * <li>xen-zcopy: DUMB_TO_REFS in the guest, DUMB_FROM_REFS in dom0 once per buffer; a frame is an
 * event-channel notification, dom0 reads the frame from its existing mapping.</li>
 * <li>hyper_dmabuf: EXPORT_REMOTE of each buffer once (full path: pages behind a 2-level directory,
 * EXPORT message), EXPORT_FD in dom0; a frame is a re-export of the same buffer with the frame
 * number as private data (fast path: EXPORT with nents 0, a NEW_IMPORT event in dom0).</li>
 * </ul>
 * Counted: grant refs created, messages (ring messages, or event notifications), bytes copied by
 * the mechanism (none: dom0 reads the guest's own pages, checked at both ends of every frame), and
 * latency from "frame ready" in the guest to "frame verified" in dom0.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar org.peerdma.compare.SideBySide [FRAMES [W H]]}.
 */
public final class SideBySide {
    static final int BUFFERS = 3;

    /** The report of one design. */
    public record Result(String design, int frames, long grantRefs, long messages, long bytesCopied, double usPerFrame,
            int verified) {
    }

    /** One domain's kernel, wired as the bundles wire it. */
    static final class Kernel {
        final Hypercalls hv;
        final GrantTableImpl gnttab;
        final DomainPagesImpl pages;
        final DmaBufCoreImpl core = new DmaBufCoreImpl();
        final DumbBuffersImpl dumb;
        final GntdevImpl gntdev;
        final XenZcopyImpl zcopy;
        final XenBackend bknd;
        final HyperDmabufImpl hd;
        final FdTable proc;

        Kernel(Hypercalls hv) {
            this.hv = hv;
            gnttab = new GrantTableImpl(hv, 50);
            pages = new DomainPagesImpl(hv);
            dumb = new DumbBuffersImpl(core, pages);
            gntdev = new GntdevImpl(hv, gnttab, core, null, null);
            zcopy = new XenZcopyImpl(gntdev);
            bknd = new XenBackend(hv, gnttab, pages);
            hd = new HyperDmabufImpl(core, bknd);
            proc = core.fdTable("app-d" + hv.domid());
        }

        BufMap vmap(int fd) {
            DmaBuf b = proc.get(fd);
            BufMap m = core.vmapUnlocked(b);
            core.put(b);
            return m;
        }

        void stop() {
            hd.deactivate();
            gnttab.deactivate();
        }
    }

    /** A pipeline: setup shares the buffers, frame(n) moves one frame and returns once dom0 verified it. */
    public interface Pipeline extends AutoCloseable {
        void frame(int n) throws InterruptedException;

        long grantRefs();

        long messages();

        @Override
        void close();
    }

    private static Hypervisor machine(int w, int h) {
        long bytes = (long) w * h * 4;
        long pages = BUFFERS * ((bytes + 4095) / 4096) + 4096;
        return Machines.create(pages * 4096 * 2 + (128L << 20), 64L << 20);
    }

    private static long guestPages(int w, int h) {
        return BUFFERS * (((long) w * h * 4 + 4095) / 4096) + 1024;
    }

    /** The guest marks a frame in the first and last page; dom0 checks both through its own mapping. */
    static void mark(BufMap guest, int n, long size) {
        guest.putInt(0, n);
        guest.putInt(size - 4, ~n);
    }

    static boolean seen(BufMap dom0, int n, long size) {
        return dom0.getInt(0) == n && dom0.getInt(size - 4) == ~n;
    }

    /** xen-zcopy over gntdev. */
    public static Pipeline zcopy(int w, int h) {
        Hypervisor xen = machine(w, h);
        Kernel g = new Kernel(xen.hypercalls(xen.create("frontend", guestPages(w, h), 64).domid()));
        Kernel d0 = new Kernel(xen.hypercalls(0));
        long grants0 = g.gnttab.grantsMade();
        BufMap[] gm = new BufMap[BUFFERS];
        BufMap[] dm = new BufMap[BUFFERS];
        long size = (long) w * h * 4;
        for (int i = 0; i < BUFFERS; i++) {
            int fd = g.dumb.create(g.proc, w, h, 32);
            long pages = g.proc.get(fd).size() / 4096;
            int[] refs = new int[(int) pages];
            if (g.zcopy.dumbToRefs(g.proc, fd, 0, refs) != 0) {
                throw new IllegalStateException("DUMB_TO_REFS");
            }
            XenZcopy.Dumb d = d0.zcopy.dumbFromRefs(d0.proc, g.hv.domid(), refs, w, h, 32);
            if (d == null) {
                throw new IllegalStateException("DUMB_FROM_REFS " + d0.zcopy.lastError(d0.proc));
            }
            gm[i] = g.vmap(fd);
            dm[i] = d0.vmap(d.handle());
        }
        int gport = g.hv.evtchnAllocUnbound(0);
        int dport = d0.hv.evtchnBindInterdomain(g.hv.domid(), gport);
        SynchronousQueue<Boolean> ack = new SynchronousQueue<>();
        int[] expect = new int[1];
        d0.hv.evtchnHandler(dport, p -> {
            int n = expect[0];
            try {
                ack.put(seen(dm[n % BUFFERS], n, size));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long[] notes = new long[1];
        return new Pipeline() {
            @Override
            public void frame(int n) throws InterruptedException {
                mark(gm[n % BUFFERS], n, size);
                expect[0] = n;
                g.hv.evtchnSend(gport);
                notes[0]++;
                Boolean ok = ack.poll(5, TimeUnit.SECONDS);
                if (!Boolean.TRUE.equals(ok)) {
                    throw new IllegalStateException("frame " + n + " not seen by dom0");
                }
            }

            @Override
            public long grantRefs() {
                return g.gnttab.grantsMade() - grants0;
            }

            @Override
            public long messages() {
                return notes[0];
            }

            @Override
            public void close() {
                g.stop();
                d0.stop();
            }
        };
    }

    /** hyper_dmabuf over its Xen backend. */
    public static Pipeline hyperDmabuf(int w, int h) {
        Hypervisor xen = machine(w, h);
        Kernel g = new Kernel(xen.hypercalls(xen.create("frontend", guestPages(w, h), 64).domid()));
        Kernel d0 = new Kernel(xen.hypercalls(0));
        long grants0 = g.gnttab.grantsMade();
        HyperDmabufFile gf = g.hd.open(g.proc);
        HyperDmabufFile df = d0.hd.open(d0.proc);
        gf.txChSetup(0);
        df.rxChSetup(g.hv.domid());
        df.txChSetup(g.hv.domid());
        gf.rxChSetup(0);
        long size = (long) w * h * 4;
        int[] gfd = new int[BUFFERS];
        HyperDmabufId[] hids = new HyperDmabufId[BUFFERS];
        BufMap[] gm = new BufMap[BUFFERS];
        BufMap[] dm = new BufMap[BUFFERS];
        for (int i = 0; i < BUFFERS; i++) {
            gfd[i] = g.dumb.create(g.proc, w, h, 32);
            HyperDmabufFile.Export e = gf.exportRemote(gfd[i], 0, ("buffer " + i).getBytes());
            if (e.ret() != 0) {
                throw new IllegalStateException("EXPORT_REMOTE " + e.ret());
            }
            hids[i] = e.hid();
            List<HyperDmabuf.Event> ev = d0.hd.readEvents(1 << 16, 5000, true);
            if (ev.isEmpty()) {
                throw new IllegalStateException("no NEW_IMPORT event");
            }
            int fd = df.exportFd(e.hid(), 0);
            if (fd < 0) {
                throw new IllegalStateException("EXPORT_FD " + fd);
            }
            gm[i] = g.vmap(gfd[i]);
            dm[i] = d0.vmap(fd);
        }
        return new Pipeline() {
            @Override
            public void frame(int n) throws InterruptedException {
                int k = n % BUFFERS;
                mark(gm[k], n, size);
                HyperDmabufFile.Export e = gf.exportRemote(gfd[k], 0, Integer.toString(n).getBytes());
                if (e.ret() != 0 || !e.hid().equals(hids[k])) {
                    throw new IllegalStateException("re-export of buffer " + k + ": " + e.ret());
                }
                List<HyperDmabuf.Event> ev = d0.hd.readEvents(1 << 16, 5000, true);
                if (ev.isEmpty() || !ev.get(ev.size() - 1).hid().equals(hids[k]) || !seen(dm[k], n, size)) {
                    throw new IllegalStateException("frame " + n + " not seen by dom0");
                }
            }

            @Override
            public long grantRefs() {
                return g.gnttab.grantsMade() - grants0;
            }

            @Override
            public long messages() {
                return g.bknd.messagesSent() + d0.bknd.messagesSent();
            }

            @Override
            public void close() {
                gf.close();
                df.close();
                g.stop();
                d0.stop();
            }
        };
    }

    /** Every count covers the whole run: sharing the three buffers, then the frames. */
    static Result measure(String design, Pipeline p, int frames) throws InterruptedException {
        long t0 = System.nanoTime();
        for (int n = 0; n < frames; n++) {
            p.frame(n);
        }
        double us = (System.nanoTime() - t0) / 1000.0 / frames;
        return new Result(design, frames, p.grantRefs(), p.messages(), 0, us, frames);
    }

    public static List<Result> run(int frames, int w, int h) throws InterruptedException {
        List<Result> out = new ArrayList<>();
        try (Pipeline z = zcopy(w, h)) {
            out.add(measure("xen-zcopy (gntdev dma-buf)", z, frames));
        }
        try (Pipeline hd = hyperDmabuf(w, h)) {
            out.add(measure("hyper_dmabuf (Xen backend)", hd, frames));
        }
        return out;
    }

    public static String report(List<Result> rs, int w, int h) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "%d frames of %dx%d XRGB8888 from a guest to dom0, 3 buffers shared once%n", rs.get(0).frames(), w, h));
        sb.append(String.format(Locale.ROOT, "%-28s %12s %10s %13s %14s %9s%n", "design", "grant refs", "messages",
                "bytes copied", "latency/frame", "verified"));
        for (Result r : rs) {
            sb.append(String.format(Locale.ROOT, "%-28s %12d %10d %13d %11.1f us %9d%n", r.design(), r.grantRefs(),
                    r.messages(), r.bytesCopied(), r.usPerFrame(), r.verified()));
        }
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        int frames = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int w = args.length > 2 ? Integer.parseInt(args[1]) : 1920;
        int h = args.length > 2 ? Integer.parseInt(args[2]) : 1080;
        System.out.print(report(run(frames, w, h), w, h));
        System.exit(0);
    }
}
