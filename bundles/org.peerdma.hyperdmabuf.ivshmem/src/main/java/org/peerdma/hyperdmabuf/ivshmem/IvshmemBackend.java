package org.peerdma.hyperdmabuf.ivshmem;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.hyperdmabuf.spi.HyperDmabufBackend;
import org.peerdma.hyperdmabuf.spi.Message;
import org.peerdma.hyperdmabuf.spi.MessageRing;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.ShmemRegion;
import org.peerdma.xen.hv.XenError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * hyper_dmabuf over one shared-memory region and doorbells, for a hypervisor that does not let a
 * guest grant its own pages (KVM with ivshmem). Layout of the region: page 0 holds a mailbox table
 * (32 entries {src+1, dst, page}) and the allocation bitmap of the region's pages; pages 1..32 are
 * mailboxes (a {@link MessageRing} per ordered pair of peers); the rest holds shared buffers.
 * Peers coordinate with atomic operations on the shared memory, as guests would.
 *
 * <p>The difference that matters: a buffer's pages are the exporter's own RAM, which the importer
 * cannot reach, so {@link #share} <b>copies</b> them into the region and the importer maps the copy.
 * Later writes by the exporter are not seen by the importer (re-export to refresh); the bytes copied
 * are counted.
 */
@Component(service = HyperDmabufBackend.class, configurationPid = "org.peerdma.hyperdmabuf.ivshmem",
        property = {HyperDmabufBackend.NAME + "=ivshmem", "service.ranking:Integer=0"})
@Designate(ocd = IvshmemConfig.class)
public class IvshmemBackend implements HyperDmabufBackend {
    private static final Logger LOG = LoggerFactory.getLogger("hyper_dmabuf:ivshmem");
    static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final int PAGE = 4096;
    static final int MAGIC = 0x484d4442; // "HDMB"
    static final int TABLE = 64;
    static final int ENTRIES = 32;
    static final int BITMAP = 1024;
    static final int FIRST_DATA = 1 + ENTRIES;
    static final long SEND_TIMEOUT_MS = 3000;

    @Reference
    Hypercalls hv;

    private ShmemRegion region;
    private ByteBuffer mem;
    private int pages;
    private volatile Receiver receiver;
    private volatile int lastError;
    private final Map<Integer, MessageRing> tx = new ConcurrentHashMap<>();
    private final Map<Integer, int[]> rx = new ConcurrentHashMap<>(); // source -> {entry, cons}
    private final Object wake = new Object();
    private final AtomicInteger reqIds = new AtomicInteger();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong copied = new AtomicLong();

    public IvshmemBackend() {
    }

    /** For tests outside OSGi. */
    public IvshmemBackend(Hypercalls hv, String regionName) {
        this.hv = hv;
        attach(regionName);
    }

    private String regionName;
    private String attachError;

    @Activate
    void activate(IvshmemConfig c) {
        regionName = c.region();
        try {
            attach(regionName);
        } catch (XenError e) {
            // no such device for this domain (xl create ... ivshmem=NAME gives one): usable once it exists
            attachError = e.getMessage();
            LOG.info("hyper_dmabuf ivshmem backend idle: {}", attachError);
        }
    }

    /** The region, attached on first use when it was not there at load. Return: null when unavailable. */
    private synchronized boolean ready() {
        if (region != null) {
            return true;
        }
        try {
            attach(regionName);
            return true;
        } catch (XenError e) {
            attachError = e.getMessage();
            return false;
        }
    }

    private synchronized void attach(String name) {
        regionName = name;
        region = hv.shmemAttach(name); // ENOENT/EACCES: this domain has no such device
        mem = region.memory().order(ByteOrder.LITTLE_ENDIAN);
        pages = (int) Math.min(region.size() / PAGE, (PAGE - BITMAP) * 8L);
        if (pages <= FIRST_DATA) {
            throw new IllegalStateException("shared-memory device " + name + " is too small (" + region.size() + " bytes)");
        }
        INT.compareAndSet(mem, 0, 0, MAGIC);
        region.handler(this::rung);
        region.onPeerGone(this::peerGone);
    }

    @Deactivate
    void deactivate() {
        unbind();
        if (region != null) {
            region.detach();
        }
    }

    // ---------------------------------------------------------------- region bookkeeping

    private int entryAt(int i) {
        return TABLE + i * 12;
    }

    /** The mailbox entry for src -> dst, or -1. */
    private int findMailbox(int src, int dst) {
        for (int i = 0; i < ENTRIES; i++) {
            int at = entryAt(i);
            if ((int) INT.getVolatile(mem, at) == src + 1 && mem.getInt(at + 4) == dst) {
                return i;
            }
        }
        return -1;
    }

    private MessageRing ring(int entry) {
        return new MessageRing(mem.duplicate().clear().position((1 + entry) * PAGE).limit((2 + entry) * PAGE).slice());
    }

    private int allocPage() {
        for (int p = FIRST_DATA; p < pages; p++) {
            int word = BITMAP + (p / 32) * 4;
            int bit = 1 << (p % 32);
            int v = (int) INT.getVolatile(mem, word);
            while ((v & bit) == 0) {
                if (INT.compareAndSet(mem, word, v, v | bit)) {
                    return p;
                }
                v = (int) INT.getVolatile(mem, word);
            }
        }
        return -1;
    }

    private void freePage(int p) {
        int word = BITMAP + (p / 32) * 4;
        int bit = 1 << (p % 32);
        int v;
        do {
            v = (int) INT.getVolatile(mem, word);
        } while (!INT.compareAndSet(mem, word, v, v & ~bit));
    }

    private ByteBuffer page(int p) {
        return mem.duplicate().clear().position(p * PAGE).limit((p + 1) * PAGE).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    // ---------------------------------------------------------------- channels and messages

    @Override
    public int domid() {
        return hv.domid();
    }

    @Override
    public void bind(Receiver r) {
        receiver = r;
    }

    @Override
    public void unbind() {
        receiver = null;
        if (region == null) {
            return;
        }
        for (int remote : List.copyOf(tx.keySet())) {
            int e = findMailbox(hv.domid(), remote);
            tx.remove(remote);
            if (e >= 0) {
                INT.setVolatile(mem, entryAt(e), 0); // the mailbox is free again
            }
        }
        rx.clear();
    }

    @Override
    public synchronized int initTx(int remote) {
        if (!ready()) {
            return -19; // -ENODEV: no shared-memory device
        }
        if (tx.containsKey(remote)) {
            return 0;
        }
        int me = hv.domid();
        if (findMailbox(me, remote) >= 0) {
            tx.put(remote, ring(findMailbox(me, remote)));
            return 0;
        }
        for (int i = 0; i < ENTRIES; i++) {
            int at = entryAt(i);
            if (INT.compareAndSet(mem, at, 0, -1)) { // claimed, being filled
                mem.putInt(at + 4, remote);
                ByteBuffer box = page(1 + i);
                for (int off = 0; off < PAGE; off += 4) {
                    box.putInt(off, 0);
                }
                INT.setVolatile(mem, at, me + 1);
                tx.put(remote, ring(i));
                return 0;
            }
        }
        return -28; // -ENOSPC: every mailbox is in use
    }

    @Override
    public synchronized int initRx(int source) {
        if (!ready()) {
            return -19;
        }
        int e = findMailbox(source, hv.domid());
        if (e < 0) {
            return -2; // -ENOENT: the source has not set up its tx mailbox to us
        }
        rx.put(source, new int[] {e, ring(e).produced()});
        return 0;
    }

    @Override
    public boolean txReady(int remote) {
        return tx.containsKey(remote);
    }

    /** Our doorbell rang: requests in mailboxes to us, or answers in ours. */
    private void rung(int from) {
        int[] r = rx.get(from);
        if (r != null) {
            int before = r[1];
            synchronized (r) {
                r[1] = ring(r[0]).consume(r[1], m -> {
                    Receiver rc = receiver;
                    if (rc != null) {
                        rc.parse(from, m);
                    } else {
                        m.stat = Message.REQ_ERROR;
                    }
                });
            }
            if (r[1] != before) {
                region.doorbell(from);
            }
        }
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void peerGone(int d) {
        int e = findMailbox(hv.domid(), d);
        tx.remove(d);
        rx.remove(d);
        if (e >= 0) {
            INT.setVolatile(mem, entryAt(e), 0);
        }
        int theirs = findMailbox(d, hv.domid());
        if (theirs >= 0) {
            INT.setVolatile(mem, entryAt(theirs), 0); // the dead peer's mailbox to us
        }
        Receiver r = receiver;
        if (r != null) {
            r.peerGone(d);
        }
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    @Override
    public int send(int remote, Message req, boolean wait) {
        if (!Message.validCmd(req.cmd)) {
            return -22;
        }
        MessageRing t = tx.get(remote);
        if (t == null) {
            return -22;
        }
        synchronized (t) {
            if (!region.peers().contains(remote)) {
                return -107; // -ENOTCONN: the remote is not attached to the region
            }
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SEND_TIMEOUT_MS);
            req.reqId = reqIds.incrementAndGet();
            req.stat = Message.REQ_NOT_RESPONDED;
            int idx;
            while ((idx = t.post(req)) < 0) {
                if (!waitFor(until)) {
                    return -110;
                }
            }
            sent.incrementAndGet();
            if (region.doorbell(remote) < 0) {
                return -3; // -ESRCH
            }
            if (!wait) {
                return 0;
            }
            while (!t.answered(idx)) {
                if (!region.peers().contains(remote)) {
                    return -107;
                }
                if (!waitFor(until)) {
                    return -110;
                }
            }
            req.stat = t.stat(idx);
            return 0;
        }
    }

    private boolean waitFor(long until) {
        long left = until - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        synchronized (wake) {
            try {
                TimeUnit.NANOSECONDS.timedWait(wake, Math.min(left, TimeUnit.MILLISECONDS.toNanos(20)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- sharing: a copy into the region

    @Override
    public Shared share(int remote, long[] pfns) {
        if (!ready()) {
            lastError = -19;
            return null;
        }
        int n = pfns.length;
        int perDesc = PAGE / 4 - 2;
        int descs = (n + perDesc - 1) / perDesc;
        List<Integer> taken = new ArrayList<>();
        int[] data = new int[n];
        int[] desc = new int[descs];
        for (int i = 0; i < descs; i++) {
            int p = allocPage();
            if (p < 0) {
                taken.forEach(this::freePage);
                lastError = -28;
                return null;
            }
            taken.add(p);
            desc[i] = p;
        }
        for (int i = 0; i < n; i++) {
            int p = allocPage();
            if (p < 0) {
                taken.forEach(this::freePage);
                lastError = -28; // -ENOSPC: the region is full
                return null;
            }
            taken.add(p);
            data[i] = p;
            page(p).put(hv.page(pfns[i])); // the copy this design cannot avoid
            copied.addAndGet(PAGE);
        }
        for (int d = 0; d < descs; d++) {
            ByteBuffer b = page(desc[d]);
            b.putInt(0, d + 1 < descs ? desc[d + 1] : 0);
            int from = d * perDesc;
            int count = Math.min(perDesc, n - from);
            b.putInt(4, count);
            for (int k = 0; k < count; k++) {
                b.putInt(8 + 4 * k, data[from + k]);
            }
        }
        return new Shared() {
            private boolean done;

            @Override
            public int topRef() {
                return desc[0];
            }

            @Override
            public synchronized void unshare() {
                if (!done) {
                    done = true;
                    taken.forEach(IvshmemBackend.this::freePage);
                }
            }
        };
    }

    @Override
    public Mapped map(int source, int topRef, int nents) {
        if (!ready()) {
            lastError = -19;
            return null;
        }
        List<ByteBuffer> out = new ArrayList<>(nents);
        int d = topRef;
        int guard = 0;
        while (d != 0 && out.size() < nents && guard++ < pages) {
            if (d < FIRST_DATA || d >= pages) {
                lastError = -22;
                return null;
            }
            ByteBuffer b = page(d);
            int count = b.getInt(4);
            for (int k = 0; k < count && out.size() < nents; k++) {
                int p = b.getInt(8 + 4 * k);
                if (p < FIRST_DATA || p >= pages) {
                    lastError = -22;
                    return null;
                }
                out.add(page(p));
            }
            d = b.getInt(0);
        }
        if (out.size() != nents) {
            lastError = -22;
            return null;
        }
        return new Mapped() {
            @Override
            public List<ByteBuffer> pages() {
                return out;
            }

            @Override
            public void unmap() {
                // the region stays mapped whole: nothing to undo per buffer
            }
        };
    }

    @Override
    public int lastError() {
        return lastError;
    }

    /** @return bytes copied into the region by share, since load. */
    public long bytesCopied() {
        return copied.get();
    }

    public long messagesSent() {
        return sent.get();
    }

    @Override
    public String status() {
        if (region == null) {
            return "ivshmem: no shared-memory device '" + regionName + "' (" + attachError + ")";
        }
        int used = 0;
        for (int p = FIRST_DATA; p < pages; p++) {
            if ((mem.getInt(BITMAP + (p / 32) * 4) & (1 << (p % 32))) != 0) {
                used++;
            }
        }
        return "ivshmem: region " + region.name() + " (" + region.size() + " bytes, peers " + region.peers() + "), tx to "
                + tx.keySet() + ", rx from " + rx.keySet() + ", " + used + " buffer pages used, " + copied.get()
                + " bytes copied";
    }
}
