package org.peerdma.hyperdmabuf.xen;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.hyperdmabuf.spi.HyperDmabufBackend;
import org.peerdma.hyperdmabuf.spi.Message;
import org.peerdma.hyperdmabuf.spi.MessageRing;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;
import org.peerdma.xen.mm.DomainPages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * hyper_dmabuf_xen_*: a tx channel per remote domain is a ring page granted to it plus an event
 * channel, published under /local/domain/ME/data/hyper_dmabuf/REMOTE (readable by the remote);
 * the remote's rx setup maps the ring and binds the channel, parses each request and writes its
 * answer back in the slot. Pages are shared behind a 2-level directory: data pages, 1024 refs per
 * level-2 page, one top page; all read-only; the top ref is the one integer sent.
 */
@Component(service = HyperDmabufBackend.class, property = {HyperDmabufBackend.NAME + "=xen", "service.ranking:Integer=10"})
public class XenBackend implements HyperDmabufBackend {
    private static final Logger LOG = LoggerFactory.getLogger("hyper_dmabuf:xen");
    static final int REFS_PER_PAGE = Xen.PAGE_SIZE / 4;
    static final long SEND_TIMEOUT_MS = 3000;

    @Reference
    Hypercalls hv;
    @Reference
    GrantTable gnttab;
    @Reference
    DomainPages pages;

    private volatile Receiver receiver;
    private volatile int lastError;
    private final Map<Integer, Tx> tx = new ConcurrentHashMap<>();
    private final Map<Integer, Rx> rx = new ConcurrentHashMap<>();
    private final AtomicInteger reqIds = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();

    /** @return messages this domain put on its tx rings since load. */
    public long messagesSent() {
        return sent.get();
    }

    public XenBackend() {
    }

    /** For tests outside OSGi. */
    public XenBackend(Hypercalls hv, GrantTable gnttab, DomainPages pages) {
        this.hv = hv;
        this.gnttab = gnttab;
        this.pages = pages;
    }

    /** This domain's sending side to one remote: its ring page, grant and port. */
    private final class Tx {
        final int remote;
        final long gfn;
        final int ref;
        final int port;
        final MessageRing ring;

        Tx(int remote, long gfn, int ref, int port) {
            this.remote = remote;
            this.gfn = gfn;
            this.ref = ref;
            this.port = port;
            this.ring = new MessageRing(pages.page(gfn));
        }
    }

    /** The receiving side from one source: its ring mapped here, and the bound port. */
    private final class Rx {
        final int source;
        final GrantMap map;
        final MessageRing ring;
        final int port;
        int cons;

        Rx(int source, GrantMap map, int port) {
            this.source = source;
            this.map = map;
            this.ring = new MessageRing(map.memory());
            this.port = port;
        }
    }

    private static String dir(int me, int remote) {
        return "/local/domain/" + me + "/data/hyper_dmabuf/" + remote;
    }

    @Override
    public int domid() {
        return hv.domid();
    }

    private volatile org.peerdma.xen.hv.XsWatch releaseWatch;

    @Override
    public void bind(Receiver r) {
        receiver = r;
        releaseWatch = hv.xsWatch("@releaseDomain", "hyper_dmabuf", (p, t) -> reapPeers());
    }

    private boolean alive(int d) {
        try {
            hv.xsRead("/local/domain/" + d + "/domid");
            return true;
        } catch (XenError e) {
            return e.errno() != Xen.ENOENT;
        }
    }

    /** A domain died: tear down the channels to it, then tell the front end. */
    private void reapPeers() {
        java.util.Set<Integer> peers = new java.util.TreeSet<>(tx.keySet());
        peers.addAll(rx.keySet());
        for (int d : peers) {
            if (alive(d)) {
                continue;
            }
            Tx t = tx.remove(d);
            if (t != null) {
                hv.evtchnClose(t.port);
                gnttab.endForeignAccess(t.ref, () -> pages.free(new long[] {t.gfn}));
                try {
                    hv.xsRm(dir(hv.domid(), d));
                } catch (XenError e) {
                    LOG.debug("{}", e.getMessage());
                }
            }
            Rx x = rx.remove(d);
            if (x != null) {
                hv.evtchnClose(x.port);
                hv.unmapGrantRef(x.map.handle());
            }
            Receiver r = receiver;
            if (r != null) {
                r.peerGone(d);
            }
        }
    }

    @Override
    public void unbind() {
        receiver = null;
        if (releaseWatch != null) {
            releaseWatch.close();
        }
        for (int r : List.copyOf(tx.keySet())) {
            Tx t = tx.remove(r);
            try {
                hv.evtchnClose(t.port);
                hv.xsRm(dir(hv.domid(), r));
            } catch (XenError e) {
                LOG.debug("tx to d{}: {}", r, e.getMessage());
            }
            gnttab.endForeignAccess(t.ref, () -> pages.free(new long[] {t.gfn}));
        }
        for (int s : List.copyOf(rx.keySet())) {
            Rx x = rx.remove(s);
            try {
                hv.evtchnClose(x.port);
                hv.unmapGrantRef(x.map.handle());
            } catch (XenError e) {
                LOG.debug("rx from d{}: {}", s, e.getMessage());
            }
        }
    }

    @Override
    public synchronized int initTx(int remote) {
        if (tx.containsKey(remote)) {
            return 0;
        }
        long[] g = pages.alloc(1, "hyper_dmabuf tx ring");
        if (g == null) {
            return -Xen.ENOMEM;
        }
        int ref = gnttab.grantForeignAccess(remote, g[0], false);
        if (ref < 0) {
            pages.free(g);
            return ref;
        }
        int port = hv.evtchnAllocUnbound(remote);
        if (port < 0) {
            gnttab.tryEndForeignAccess(ref);
            pages.free(g);
            return port;
        }
        Tx t = new Tx(remote, g[0], ref, port);
        hv.evtchnHandler(port, p -> {
            synchronized (t) {
                t.notifyAll(); // responses arrived
            }
        });
        String d = dir(hv.domid(), remote);
        try {
            hv.xsWrite(d + "/tx_ring_ref", Integer.toString(ref));
            hv.xsWrite(d + "/tx_port", Integer.toString(port));
            hv.xsSetPerms(d + "/tx_ring_ref", List.of("n" + hv.domid(), "r" + remote));
            hv.xsSetPerms(d + "/tx_port", List.of("n" + hv.domid(), "r" + remote));
        } catch (XenError e) {
            return -e.errno();
        }
        tx.put(remote, t);
        return 0;
    }

    @Override
    public synchronized int initRx(int source) {
        if (rx.containsKey(source)) {
            return 0;
        }
        int ref;
        int port;
        try {
            String d = dir(source, hv.domid());
            ref = Integer.parseInt(hv.xsRead(d + "/tx_ring_ref"));
            port = Integer.parseInt(hv.xsRead(d + "/tx_port"));
        } catch (XenError e) {
            return -e.errno(); // ENOENT: the source has not set up its tx channel to us
        } catch (NumberFormatException e) {
            return -Xen.EINVAL;
        }
        GrantMap m = hv.mapGrantRef(source, ref, Xen.GNTMAP_host_map);
        if (!m.ok()) {
            LOG.warn("rx ring of d{}: GNTST {}", source, m.status());
            return -Xen.EINVAL;
        }
        int local = hv.evtchnBindInterdomain(source, port);
        if (local < 0) {
            hv.unmapGrantRef(m.handle());
            return local;
        }
        Rx x = new Rx(source, m, local);
        x.cons = x.ring.produced();
        rx.put(source, x);
        hv.evtchnHandler(local, p -> consume(x));
        return 0;
    }

    /** The receiving domain's event upcall: parse every new request, answer in place. */
    private void consume(Rx x) {
        int before = x.cons;
        synchronized (x) {
            x.cons = x.ring.consume(x.cons, m -> {
                Receiver r = receiver;
                if (r != null) {
                    r.parse(x.source, m);
                } else {
                    m.stat = Message.REQ_ERROR;
                }
            });
        }
        if (x.cons != before) {
            try {
                hv.evtchnSend(x.port);
            } catch (XenError e) {
                LOG.debug("answer to d{}: {}", x.source, e.getMessage());
            }
        }
    }

    @Override
    public boolean txReady(int remote) {
        return tx.containsKey(remote);
    }

    @Override
    public int send(int remote, Message req, boolean wait) {
        if (!Message.validCmd(req.cmd)) {
            return -Xen.EINVAL;
        }
        Tx t = tx.get(remote);
        if (t == null) {
            return -Xen.EINVAL;
        }
        synchronized (t) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SEND_TIMEOUT_MS);
            if (!hv.evtchnStatus(t.port).startsWith("interdomain")) {
                return -107; // -ENOTCONN: the remote has not set up (or has closed) its receive channel
            }
            req.reqId = reqIds.incrementAndGet();
            req.stat = Message.REQ_NOT_RESPONDED;
            int idx;
            while ((idx = t.ring.post(req)) < 0) {
                if (!waitOn(t, until)) {
                    return -110; // -ETIMEDOUT: the remote does not consume
                }
            }
            sent.incrementAndGet();
            try {
                hv.evtchnSend(t.port);
            } catch (XenError e) {
                return -e.errno();
            }
            if (!wait) {
                return 0;
            }
            while (!t.ring.answered(idx)) {
                if (!hv.evtchnStatus(t.port).startsWith("interdomain")) {
                    return -107; // the remote went away while we waited
                }
                if (!waitOn(t, until)) {
                    return -110;
                }
            }
            req.stat = t.ring.stat(idx);
            return 0;
        }
    }

    private static boolean waitOn(Object t, long until) {
        long left = until - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        try {
            TimeUnit.NANOSECONDS.timedWait(t, Math.min(left, TimeUnit.MILLISECONDS.toNanos(20)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- sharing pages

    private final class SharedImpl implements Shared {
        final int[] dataRefs;
        final int[] lvl2Refs;
        final int topRef;
        final long[] dirPages;

        SharedImpl(int[] dataRefs, int[] lvl2Refs, int topRef, long[] dirPages) {
            this.dataRefs = dataRefs;
            this.lvl2Refs = lvl2Refs;
            this.topRef = topRef;
            this.dirPages = dirPages;
        }

        @Override
        public int topRef() {
            return topRef;
        }

        @Override
        public void unshare() {
            for (int r : dataRefs) {
                gnttab.endForeignAccess(r, null);
            }
            AtomicInteger left = new AtomicInteger(lvl2Refs.length + 1);
            Runnable freeDir = () -> {
                if (left.decrementAndGet() == 0) {
                    pages.free(dirPages);
                }
            };
            for (int r : lvl2Refs) {
                gnttab.endForeignAccess(r, freeDir);
            }
            gnttab.endForeignAccess(topRef, freeDir);
        }
    }

    @Override
    public Shared share(int remote, long[] pfns) {
        int n = pfns.length;
        if (n == 0 || n > REFS_PER_PAGE * REFS_PER_PAGE) {
            lastError = -Xen.EINVAL;
            return null;
        }
        int nLvl2 = (n + REFS_PER_PAGE - 1) / REFS_PER_PAGE;
        long[] dir = pages.alloc(nLvl2 + 1, "hyper_dmabuf page directory");
        if (dir == null) {
            lastError = -Xen.ENOMEM;
            return null;
        }
        List<Integer> granted = new ArrayList<>();
        int[] data = new int[n];
        int[] lvl2 = new int[nLvl2];
        for (int i = 0; i < n; i++) {
            int r = gnttab.grantForeignAccess(remote, pfns[i], true);
            if (r < 0) {
                return fail(granted, dir);
            }
            granted.add(r);
            data[i] = r;
        }
        for (int p = 0; p < nLvl2; p++) {
            ByteBuffer page = pages.page(dir[p]).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = p * REFS_PER_PAGE, k = 0; i < n && k < REFS_PER_PAGE; i++, k++) {
                page.putInt(k * 4, data[i]);
            }
            int r = gnttab.grantForeignAccess(remote, dir[p], true);
            if (r < 0) {
                return fail(granted, dir);
            }
            granted.add(r);
            lvl2[p] = r;
        }
        ByteBuffer top = pages.page(dir[nLvl2]).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < nLvl2; p++) {
            top.putInt(p * 4, lvl2[p]);
        }
        int topRef = gnttab.grantForeignAccess(remote, dir[nLvl2], true);
        if (topRef < 0) {
            return fail(granted, dir);
        }
        return new SharedImpl(data, lvl2, topRef, dir);
    }

    private Shared fail(List<Integer> granted, long[] dir) {
        for (int r : granted) {
            gnttab.tryEndForeignAccess(r); // nothing maps them yet
        }
        pages.free(dir);
        lastError = -Xen.ENOSPC;
        return null;
    }

    @Override
    public Mapped map(int source, int topRef, int nents) {
        if (nents <= 0 || nents > REFS_PER_PAGE * REFS_PER_PAGE) {
            lastError = -Xen.EINVAL;
            return null;
        }
        int flags = Xen.GNTMAP_host_map | Xen.GNTMAP_readonly;
        int nLvl2 = (nents + REFS_PER_PAGE - 1) / REFS_PER_PAGE;
        List<GrantMap> dataMaps = new ArrayList<>(nents);
        GrantMap top = hv.mapGrantRef(source, topRef, flags);
        if (!top.ok()) {
            lastError = -Xen.EINVAL;
            return null;
        }
        try {
            ByteBuffer t = top.memory().order(ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < nLvl2; p++) {
                GrantMap l2 = hv.mapGrantRef(source, t.getInt(p * 4), flags);
                if (!l2.ok()) {
                    throw new IllegalStateException("lvl2 " + p + ": GNTST " + l2.status());
                }
                try {
                    ByteBuffer b = l2.memory().order(ByteOrder.LITTLE_ENDIAN);
                    for (int k = 0; k < REFS_PER_PAGE && dataMaps.size() < nents; k++) {
                        GrantMap d = hv.mapGrantRef(source, b.getInt(k * 4), flags);
                        if (!d.ok()) {
                            throw new IllegalStateException("data page " + dataMaps.size() + ": GNTST " + d.status());
                        }
                        dataMaps.add(d);
                    }
                } finally {
                    hv.unmapGrantRef(l2.handle());
                }
            }
        } catch (IllegalStateException e) {
            LOG.warn("map_shared_pages from d{}: {}", source, e.getMessage());
            dataMaps.forEach(d -> hv.unmapGrantRef(d.handle()));
            lastError = -Xen.EINVAL;
            return null;
        } finally {
            hv.unmapGrantRef(top.handle());
        }
        List<ByteBuffer> mem = dataMaps.stream().map(GrantMap::memory).toList();
        return new Mapped() {
            private boolean done;

            @Override
            public List<ByteBuffer> pages() {
                return mem;
            }

            @Override
            public synchronized void unmap() {
                if (done) {
                    return;
                }
                done = true;
                for (GrantMap d : dataMaps) {
                    try {
                        hv.unmapGrantRef(d.handle());
                    } catch (XenError e) {
                        return; // this domain is dying: the hypervisor releases its mappings
                    }
                }
            }
        };
    }

    @Override
    public int lastError() {
        return lastError;
    }

    @Override
    public String status() {
        return "xen: tx to " + tx.keySet() + ", rx from " + rx.keySet() + ", grants in use " + gnttab.inUse()
                + ", mappings " + hv.grantHandles().size();
    }
}
