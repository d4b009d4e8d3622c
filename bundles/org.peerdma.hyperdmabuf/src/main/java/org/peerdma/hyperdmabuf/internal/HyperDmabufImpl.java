package org.peerdma.hyperdmabuf.internal;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.hyperdmabuf.HyperDmabuf;
import org.peerdma.hyperdmabuf.HyperDmabufFile;
import org.peerdma.hyperdmabuf.HyperDmabufId;
import org.peerdma.hyperdmabuf.spi.HyperDmabufBackend;
import org.peerdma.hyperdmabuf.spi.Message;
import org.peerdma.module.ModuleUsage;
import org.peerdma.p2pdma.DeviceNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front end of one domain: its id allocator, EXPORT and IMPORT lists, event queue and the
 * message handler. All of it is this object's state; nothing is static (one per domain kernel).
 * One lock (this) guards the lists; messages are sent without holding it.
 */
@Component(service = {HyperDmabuf.class, ModuleUsage.class})
public class HyperDmabufImpl implements HyperDmabuf, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("hyper_dmabuf");
    static final int PAGE = 4096;
    static final int EINVAL = -22;
    static final int ENOENT = -2;
    static final int ENOMEM = -12;
    static final int EBUSY = -16;
    static final int EFAULT = -14;

    @Reference
    DmaBufCore core;
    /** The backend in use. */
    volatile HyperDmabufBackend bknd;
    private final Map<String, HyperDmabufBackend> backends = new java.util.concurrent.ConcurrentHashMap<>();
    private final HyperDmabufBackend.Receiver receiver = new HyperDmabufBackend.Receiver() {
        @Override
        public void parse(int source, Message req) {
            HyperDmabufImpl.this.parse(source, req);
        }

        @Override
        public void peerGone(int domid) {
            HyperDmabufImpl.this.peerGone(domid);
        }
    };

    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.AT_LEAST_ONE,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC)
    void addBackend(HyperDmabufBackend b, Map<String, Object> props) {
        backends.put(String.valueOf(props.getOrDefault(HyperDmabufBackend.NAME, b.getClass().getSimpleName())), b);
    }

    /**
     * A backend leaves: if it is the one in use, everything shared through it is revoked first.
     * An EXPORT_REMOTE under way through it is revoked too, not waited for: the backend is marked
     * retiring (under the lock) before the revoke, and an export lists itself only if its backend is
     * still the one in use and not retiring, else it undoes what it shared and fails with ENODEV. So
     * every export is either listed before the revoke (and revoked by it) or never listed. A removal
     * cannot be refused (the backend bundle is going away), and waiting would block the unloading
     * thread on a share or send that may itself be waiting on the backend being removed.
     */
    void removeBackend(HyperDmabufBackend b) {
        backends.values().removeIf(x -> x == b);
        synchronized (this) {
            if (bknd != b) {
                return;
            }
            retiring = b;
        }
        revokeAll("backend " + b.status().split(":")[0] + " unloaded");
        b.unbind();
        HyperDmabufBackend next;
        synchronized (this) {
            bknd = next = backends.isEmpty() ? null : backends.values().iterator().next();
            retiring = null; // exports still under way through b see that bknd is not b
        }
        if (next != null) {
            next.bind(receiver);
            boolean shutdown = system != null && system.getState() == org.osgi.framework.Bundle.STOPPING;
            if (shutdown) { // the kernel is going down: no news for the user
                LOG.debug("hyper_dmabuf now uses backend {} (shutting down)", next.status().split(":")[0]);
            } else {
                LOG.warn("hyper_dmabuf now uses backend {}", next.status().split(":")[0]);
            }
        }
    }

    private final SecureRandom random = new SecureRandom();
    private final Deque<Integer> reusableIds = new ArrayDeque<>();
    private int count;
    private final Map<Integer, Exported> exported = new HashMap<>();
    /**
     * The IMPORT list by the whole hid (id and key): an exporter reuses an id (with a new key) once
     * its last user here released it, and the two imports are different buffers until the old one's
     * users let go. A departure from the driver, which fixes a bug of it: hyper_dmabuf_find_imported and
     * _remove_imported stop at the first entry with a matching id (hash_add puts the newest first), so
     * once an id is reused the old hid cannot be found, its remove returns -ENOENT and the driver then
     * kfrees an entry that is still listed. Here both stay findable by id and key.
     */
    private final Map<HyperDmabufId, Imported> imported = new HashMap<>();
    /** EXPORT_REMOTEs past the fast path and not finished: a backend switch waits for them (EBUSY). */
    private int exportsInFlight;
    /** The backend being removed (set under the lock before its revoke): exports through it are not listed. */
    private HyperDmabufBackend retiring;
    private final Deque<Event> events = new ArrayDeque<>();
    /** The module's workqueue (package-private for tests: what it still has queued). */
    ScheduledExecutorService work;

    /** Where delayed work is queued (schedule_delayed_work); tests put a clock of their own here. */
    interface DelayedWork {
        Future<?> schedule(Runnable work, long delayMs);
    }

    /** The delayed UNEXPORTs: on the workqueue by default. */
    volatile DelayedWork delayed = (r, ms) -> work.schedule(r, ms, TimeUnit.MILLISECONDS);

    /**
     * The timer wheel's limit at HZ=1000 in ms (kernel/time/timer.c, LVL_DEPTH 9):
     * WHEEL_TIMEOUT_CUTOFF = LVL_START(9) = 63 << 24 jiffies; a delta at or past it is enqueued at
     * WHEEL_TIMEOUT_MAX = CUTOFF - LVL_GRAN(8) = 1,040,187,392 jiffies, about 12.04 days.
     */
    static final long WHEEL_TIMEOUT_CUTOFF_MS = 63L << 24;
    static final long WHEEL_TIMEOUT_MAX_MS = WHEEL_TIMEOUT_CUTOFF_MS - (1L << 24);

    /**
     * The delay schedule_delayed_work(msecs_to_jiffies(delay_ms)) really waits, at HZ=1000: a negative
     * delay is MAX_JIFFY_OFFSET (msecs_to_jiffies), and calc_wheel_index caps any delta of
     * WHEEL_TIMEOUT_CUTOFF or more to WHEEL_TIMEOUT_MAX, so the work runs after about 12 days (the
     * bucket's rounding up, up to one level-8 granule of about 4.7 hours, is not modelled).
     */
    static long unexportDelayMs(int delayMs) {
        return delayMs < 0 || delayMs >= WHEEL_TIMEOUT_CUTOFF_MS ? WHEEL_TIMEOUT_MAX_MS : delayMs;
    }
    private final DeviceNode dev = DeviceNode.platform("hyper_dmabuf", null);

    public HyperDmabufImpl() {
    }

    /** For tests outside OSGi: the backends by name, the first one in use. */
    public HyperDmabufImpl(DmaBufCore core, Map<String, HyperDmabufBackend> backends) {
        this.core = core;
        this.backends.putAll(backends);
        this.bknd = backends.values().iterator().next();
        work = executor();
        bknd.bind(receiver);
    }

    /** For tests outside OSGi, with one backend. */
    public HyperDmabufImpl(DmaBufCore core, HyperDmabufBackend bknd) {
        this(core, Map.of(bknd.status().split(":")[0], bknd));
    }

    private ScheduledExecutorService executor() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "hyper_dmabuf");
            t.setDaemon(true);
            return t;
        });
        // a cancelled delayed UNEXPORT leaves the queue at once (cancel_delayed_work), not after its
        // 12 days: otherwise it would hold its export until then
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    /** The framework's system bundle, to tell a module unload from the whole kernel going down. */
    private volatile org.osgi.framework.Bundle system;

    @Activate
    void activate(org.osgi.framework.BundleContext ctx) {
        system = ctx.getBundle(0);
        work = executor();
        // the Xen backend when there is one (the driver's default), else the best one available
        bknd = backends.getOrDefault("xen", backends.values().iterator().next());
        bknd.bind(receiver);
    }

    /**
     * useBackend - switch to another backend. Return: 0; -ENOENT when no backend has that name;
     * -EBUSY while any buffer is exported or imported (nothing moves between backends: unexport and
     * release first).
     */
    @Override
    public synchronized int useBackend(String name) {
        HyperDmabufBackend b = backends.get(name);
        if (b == null) {
            return ENOENT;
        }
        if (b == bknd) {
            return 0;
        }
        if (!exported.isEmpty() || !imported.isEmpty() || exportsInFlight > 0) {
            return EBUSY; // an EXPORT_REMOTE under way shares through the backend in use and sends through it
        }
        bknd.unbind();
        bknd = b;
        b.bind(receiver);
        LOG.info("hyper_dmabuf now uses backend {}", name);
        return 0;
    }

    /** @return the backends available, by name. */
    @Override
    public java.util.Set<String> backendNames() {
        return new java.util.TreeSet<>(backends.keySet());
    }

    /** Everything exported is cleaned up and every import invalidated (its pages dropped with the last user). */
    private void revokeAll(String why) {
        java.util.Set<Integer> peers = new java.util.TreeSet<>();
        synchronized (this) {
            exported.values().forEach(e -> peers.add(e.remote));
            imported.values().forEach(i -> peers.add(i.hid.exporterDomid()));
        }
        if (!peers.isEmpty()) {
            LOG.warn("hyper_dmabuf: {}: revoking what was shared with {}", why, peers);
        }
        peers.forEach(this::peerGone);
    }

    @Deactivate
    public void deactivate() {
        List<Exported> all;
        synchronized (this) {
            all = List.copyOf(exported.values());
        }
        for (Exported e : all) {
            unexportNow(e); // the module leaves: importers are told, pages unshared when they let go
        }
        revokeAll("module unloaded");
        bknd.unbind();
        work.shutdownNow();
    }

    @Override
    public int domid() {
        return bknd.domid();
    }

    @Override
    public String backend() {
        return bknd.status().split(":")[0];
    }

    @Override
    public synchronized String status() {
        StringBuilder sb = new StringBuilder(bknd.status());
        sb.append("; exported");
        exported.values().forEach(e -> sb.append(' ').append(e.hid).append("->d").append(e.remote)
                .append(e.valid ? "" : " (unexported)").append(" active=").append(e.active));
        sb.append("; imported");
        imported.values().forEach(x -> sb.append(' ').append(x.hid).append(x.valid ? "" : " (unexported)")
                .append(" importers=").append(x.importers));
        return sb.toString();
    }

    // ================================================================ ids (hyper_dmabuf_id.c)

    private synchronized HyperDmabufId newId(HyperDmabufBackend bknd) {
        int id;
        if (!reusableIds.isEmpty()) {
            id = reusableIds.pop(); // the most recently freed first
        } else if (count < HYPER_DMABUF_ID_MAX) {
            id = ((bknd.domid() & 0xFF) << 24) | (count++ & 0xFFFFFF);
        } else {
            return HyperDmabufId.INVALID;
        }
        return new HyperDmabufId(id, new int[] {random.nextInt(), random.nextInt(), random.nextInt()});
    }

    private synchronized void storeReusable(HyperDmabufId hid) {
        reusableIds.push(hid.id());
    }

    // ================================================================ state

    /** An exported buffer and its shadow state (the remote importer's operations replayed here). */
    final class Exported {
        final HyperDmabufId hid;
        final int remote;
        final DmaBuf buf;
        final DmaBufAttachment attach;
        final SgTable sgt;
        final long[] pfns;
        final HyperDmabufBackend.Shared shared;
        final FileImpl file;
        byte[] priv;
        boolean valid = true;
        boolean unexportSched;
        /** Cleanup has started (claimed once); the entry leaves the list when it is done. */
        boolean cleaning;
        Future<?> unexportWork;
        int active;
        final Deque<DmaBufAttachment> shadowAttach = new ArrayDeque<>();
        /** Shadow mappings with the attachment each was made on (unmapped through that one). */
        final Deque<ShadowMap> shadowSgt = new ArrayDeque<>();
        final Deque<BufMap> shadowVmap = new ArrayDeque<>();

        Exported(HyperDmabufId hid, int remote, DmaBuf buf, DmaBufAttachment attach, SgTable sgt, long[] pfns,
                HyperDmabufBackend.Shared shared, FileImpl file, byte[] priv) {
            this.hid = hid;
            this.remote = remote;
            this.buf = buf;
            this.attach = attach;
            this.sgt = sgt;
            this.pfns = pfns;
            this.shared = shared;
            this.file = file;
            this.priv = priv;
        }
    }

    /** A shadow mapping: the attachment that mapped it, which must be the one that unmaps it. */
    record ShadowMap(DmaBufAttachment attach, SgTable sgt) {
    }

    /** An imported buffer: what the exporter announced, and the local dma-buf once exported here. */
    final class Imported {
        final HyperDmabufId hid;
        final int nents;
        final int firstOffset;
        final int lastLen;
        final int topRef;
        byte[] priv;
        boolean valid = true;
        int importers;
        HyperDmabufBackend.Mapped mapped;
        /** The exporter domain died (or the backend this came through was unloaded): nothing new works. */
        boolean exporterGone;

        Imported(HyperDmabufId hid, int nents, int firstOffset, int lastLen, int topRef, byte[] priv) {
            this.hid = hid;
            this.nents = nents;
            this.firstOffset = firstOffset;
            this.lastLen = lastLen;
            this.topRef = topRef;
            this.priv = priv;
        }
    }

    private Exported findExported(HyperDmabufId hid) {
        Exported e = exported.get(hid.id());
        return e != null && e.hid.equals(hid) ? e : null;
    }

    private Imported findImported(HyperDmabufId hid) {
        return imported.get(hid);
    }

    // ================================================================ the device file

    @Override
    public HyperDmabufFile open(FdTable proc) {
        return new FileImpl(proc);
    }

    final class FileImpl implements HyperDmabufFile {
        final FdTable proc;

        FileImpl(FdTable proc) {
            this.proc = proc;
        }

        @Override
        public int txChSetup(int remote) {
            return remote == bknd.domid() ? EINVAL : bknd.initTx(remote);
        }

        @Override
        public int rxChSetup(int source) {
            return source == bknd.domid() ? EINVAL : bknd.initRx(source);
        }

        @Override
        public Export exportRemote(int fd, int remote, byte[] privIn) {
            HyperDmabufBackend bknd = HyperDmabufImpl.this.bknd;
            if (remote == bknd.domid()) {
                return new Export(EINVAL, HyperDmabufId.INVALID);
            }
            byte[] priv = privIn == null ? new byte[0]
                    : Arrays.copyOf(privIn, Math.min(privIn.length, MAX_SIZE_PRIV_DATA));
            DmaBuf buf;
            try {
                buf = proc.get(fd);
            } catch (KernelException e) {
                return new Export(e.returnValue(), HyperDmabufId.INVALID);
            }
            // fast path: the same buffer to the same domain, still valid: same id, new private data
            Exported same = null;
            synchronized (HyperDmabufImpl.this) {
                for (Exported e : exported.values()) {
                    if (e.buf == buf && e.remote == remote && e.valid) {
                        same = e;
                    }
                }
                if (same != null && same.unexportSched && same.unexportWork != null) {
                    if (!same.unexportWork.cancel(false)) {
                        same = null; // too late to cancel: a full re-export
                    } else {
                        same.unexportSched = false;
                    }
                }
                if (same != null) {
                    same.priv = priv;
                }
            }
            if (same != null) {
                core.put(buf);
                Message m = exportMsg(same.hid, 0, 0, 0, 0, priv);
                return new Export(bknd.send(remote, m, false) < 0 ? EBUSY : 0, same.hid);
            }
            HyperDmabufBackend through;
            synchronized (HyperDmabufImpl.this) {
                through = HyperDmabufImpl.this.bknd; // no switch until this export is listed or undone
                exportsInFlight++;
            }
            try {
                return fullExport(through, buf, remote, priv);
            } finally {
                synchronized (HyperDmabufImpl.this) {
                    exportsInFlight--;
                }
            }
        }

        /** The full path of EXPORT_REMOTE (the buffer's reference is the caller's: kept on success, put on failure). */
        private Export fullExport(HyperDmabufBackend bknd, DmaBuf buf, int remote, byte[] priv) {
            if (!bknd.txReady(remote)) {
                core.put(buf);
                return new Export(EINVAL, HyperDmabufId.INVALID);
            }
            HyperDmabufId hid = newId(bknd);
            if (hid.id() == -1) {
                core.put(buf);
                return new Export(ENOMEM, HyperDmabufId.INVALID);
            }
            DmaBufAttachment a = null;
            SgTable sgt = null;
            try {
                a = core.attach(buf, dev, null, this);
                sgt = core.mapAttachmentUnlocked(a, DmaDirection.BIDIRECTIONAL);
                long[] pfns = pages(sgt, buf.size());
                HyperDmabufBackend.Shared sh = bknd.share(remote, pfns);
                if (sh == null) {
                    throw new KernelException(Errno.of(-bknd.lastError()).orElse(Errno.ENOSPC), "share_pages");
                }
                Exported e = new Exported(hid, remote, buf, a, sgt, pfns, sh, this, priv);
                synchronized (HyperDmabufImpl.this) {
                    if (bknd != HyperDmabufImpl.this.bknd || bknd == retiring) {
                        // its backend was unloaded while this export shared through it: not listed
                        // against a dead backend, undone as a send failure is
                        sh.unshare();
                        throw KernelException.enodev("hyper_dmabuf: backend %s was unloaded during the export",
                                bknd.status().split(":")[0]);
                    }
                    exported.put(hid.id(), e);
                }
                long lastLen = buf.size() - (long) (pfns.length - 1) * PAGE;
                int r = bknd.send(remote, exportMsg(hid, pfns.length, 0, (int) lastLen, sh.topRef(), priv), false);
                if (r < 0) { // fail_send_request: undo everything, the id goes back
                    LOG.warn("EXPORT of {} to d{} not sent: {}", hid, remote, r);
                    cleanupExport(e);
                    return new Export(r, HyperDmabufId.INVALID);
                }
                return new Export(0, hid);
            } catch (KernelException ex) {
                if (sgt != null) {
                    core.unmapAttachmentUnlocked(a, sgt, DmaDirection.BIDIRECTIONAL);
                }
                if (a != null) {
                    core.detach(a);
                }
                core.put(buf);
                storeReusable(hid);
                return new Export(ex.returnValue(), HyperDmabufId.INVALID);
            }
        }

        @Override
        public int exportFd(HyperDmabufId hid, int flags) {
            Imported imp;
            synchronized (HyperDmabufImpl.this) {
                imp = findImported(hid);
                if (imp == null) {
                    return ENOENT;
                }
                imp.importers++;
            }
            int exporter = hid.exporterDomid();
            Message req = new Message(Message.EXPORT_FD);
            putHid(req, hid);
            int r = bknd.send(exporter, req, true);
            if (r < 0 || req.stat == Message.REQ_ERROR) {
                if (r < 0) {
                    Message failed = new Message(Message.EXPORT_FD_FAILED);
                    putHid(failed, hid);
                    bknd.send(exporter, failed, false);
                }
                dropImporter(imp);
                return r < 0 ? r : EINVAL;
            }
            synchronized (HyperDmabufImpl.this) {
                if (imp.mapped == null) {
                    imp.mapped = bknd.map(exporter, imp.topRef, imp.nents);
                }
                if (imp.mapped == null) {
                    Message failed = new Message(Message.EXPORT_FD_FAILED);
                    putHid(failed, hid);
                    imp.importers--;
                    work.execute(() -> bknd.send(exporter, failed, false));
                    return EINVAL;
                }
            }
            ImportOps ops = new ImportOps(imp);
            DmaBuf local;
            try {
                local = core.export(new ExportInfo("hyper_dmabuf", ops, (long) imp.nents * PAGE, ops, null));
            } catch (KernelException e) {
                dropImporter(imp);
                return e.returnValue();
            }
            int fd = proc.fd(local, flags);
            if (fd < 0) {
                core.put(local);
            }
            return fd;
        }

        @Override
        public int unexport(HyperDmabufId hid, int delayMs) {
            synchronized (HyperDmabufImpl.this) {
                Exported e = findExported(hid);
                if (e == null) {
                    return ENOENT;
                }
                if (e.unexportSched || e.cleaning) {
                    return 0;
                }
                e.unexportSched = true;
                // a negative delay (MAX_JIFFY_OFFSET) or one past the wheel's cutoff runs after about 12
                // days, unless a re-export of the same buffer cancels it or cleanup does
                e.unexportWork = delayed.schedule(() -> unexportNow(e), unexportDelayMs(delayMs));
                return 0;
            }
        }

        @Override
        public long query(HyperDmabufId hid, int item, byte[] privOut) {
            synchronized (HyperDmabufImpl.this) {
                Exported e = findExported(hid);
                if (e != null && hid.exporterDomid() == bknd.domid()) {
                    return switch (item) {
                        case QUERY_TYPE -> EXPORTED;
                        case QUERY_EXPORTER -> hid.exporterDomid();
                        case QUERY_IMPORTER -> e.remote;
                        case QUERY_SIZE -> e.buf.size();
                        case QUERY_BUSY -> e.active > 0 ? 1 : 0;
                        case QUERY_UNEXPORTED -> e.valid ? 0 : 1;
                        // the driver's quirk: it answers !unexport_sched, the opposite of its documentation
                        case QUERY_DELAYED_UNEXPORTED -> e.unexportSched ? 0 : 1;
                        case QUERY_PRIV_INFO_SIZE -> e.priv.length;
                        case QUERY_PRIV_INFO -> copyPriv(e.priv, privOut);
                        default -> EINVAL;
                    };
                }
                Imported i = findImported(hid);
                if (i == null) {
                    return ENOENT;
                }
                return switch (item) {
                    case QUERY_TYPE -> IMPORTED;
                    case QUERY_EXPORTER -> hid.exporterDomid();
                    case QUERY_IMPORTER -> bknd.domid();
                    case QUERY_SIZE -> (long) i.nents * PAGE - i.firstOffset - PAGE + i.lastLen;
                    case QUERY_BUSY -> i.importers > 0 ? 1 : 0;
                    case QUERY_UNEXPORTED -> i.valid ? 0 : 1;
                    case QUERY_PRIV_INFO_SIZE -> i.priv.length;
                    case QUERY_PRIV_INFO -> copyPriv(i.priv, privOut);
                    default -> EINVAL; // no DELAYED_UNEXPORTED on the importer side
                };
            }
        }

        @Override
        public void close() {
            List<Exported> mine = new ArrayList<>();
            synchronized (HyperDmabufImpl.this) {
                for (Exported e : exported.values()) {
                    if (e.file == this) {
                        mine.add(e);
                    }
                }
            }
            for (Exported e : mine) {
                unexport(e.hid, 0); // hyper_dmabuf_release: force unexport, no delay
            }
        }
    }

    private static long copyPriv(byte[] priv, byte[] out) {
        if (out == null || out.length < priv.length) {
            return EINVAL;
        }
        System.arraycopy(priv, 0, out, 0, priv.length);
        return 0;
    }

    /** The page frame numbers of a mapped buffer: DMA addresses of a direct-mapped domain are pseudo-physical. */
    private static long[] pages(SgTable sgt, long size) {
        long n = (size + PAGE - 1) / PAGE;
        long[] pfns = new long[(int) n];
        int i = 0;
        for (SgEntry e : sgt.entries()) {
            for (long off = 0; off < e.dmaLength() && i < n; off += PAGE) {
                pfns[i++] = (e.dmaAddress() + off) / PAGE;
            }
        }
        if (i != n || sgt.entries().isEmpty() || sgt.entries().get(0).dmaAddress() % PAGE != 0) {
            throw KernelException.einval("hyper_dmabuf: the buffer's pages cannot be extracted");
        }
        return pfns;
    }

    static void putHid(Message m, HyperDmabufId hid) {
        m.op[0] = hid.id();
        int[] k = hid.rngKey();
        m.op[1] = k[0];
        m.op[2] = k[1];
        m.op[3] = k[2];
    }

    static HyperDmabufId hidOf(Message m) {
        return new HyperDmabufId(m.op[0], new int[] {m.op[1], m.op[2], m.op[3]});
    }

    /** op[0..3] hid, op4 nents, op5 first offset, op6 last length, op7 top ref, op8 sz_priv, op9.. priv. */
    private static Message exportMsg(HyperDmabufId hid, int nents, int firstOffset, int lastLen, int topRef, byte[] priv) {
        Message m = new Message(Message.EXPORT);
        putHid(m, hid);
        m.op[4] = nents;
        m.op[5] = firstOffset;
        m.op[6] = lastLen;
        m.op[7] = topRef;
        m.op[8] = priv.length;
        ByteBuffer b = ByteBuffer.allocate((Message.MAX_NUMBER_OF_OPERANDS - 9) * 4);
        b.put(priv);
        b.flip();
        for (int i = 9; b.remaining() > 0; i++) {
            int v = 0;
            for (int k = 0; k < 4; k++) {
                v |= (b.hasRemaining() ? b.get() & 0xff : 0) << (8 * k);
            }
            m.op[i] = v;
        }
        return m;
    }

    private static byte[] privOf(Message m) {
        int n = Math.max(0, Math.min(m.op[8], MAX_SIZE_PRIV_DATA));
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) (m.op[9 + i / 4] >>> (8 * (i % 4)));
        }
        return out;
    }

    // ================================================================ unexport and cleanup

    /** The delayed work: invalidate, notify, clean up now when nobody remote uses it. */
    private void unexportNow(Exported e) {
        boolean cleanup;
        synchronized (this) {
            if (e.cleaning || !exported.containsKey(e.hid.id()) || !e.valid && !e.unexportSched) {
                return;
            }
            e.valid = false;
            cleanup = e.active == 0;
        }
        Message m = new Message(Message.NOTIFY_UNEXPORT);
        putHid(m, e.hid);
        int r = bknd.send(e.remote, m, true);
        if (r < 0) {
            LOG.warn("NOTIFY_UNEXPORT of {} to d{}: {}", e.hid, e.remote, r);
        }
        synchronized (this) {
            e.unexportSched = false;
            cleanup = e.active == 0;
        }
        if (cleanup) {
            cleanupExport(e);
        }
    }

    private void cleanupExport(Exported e) {
        synchronized (this) {
            if (e.cleaning || exported.get(e.hid.id()) != e) {
                return;
            }
            e.cleaning = true;
            if (e.unexportWork != null) {
                e.unexportWork.cancel(false); // nothing stays queued holding this export
            }
        }
        e.shared.unshare();
        while (!e.shadowVmap.isEmpty()) {
            core.vunmapUnlocked(e.buf, e.shadowVmap.pop());
        }
        while (!e.shadowSgt.isEmpty()) {
            ShadowMap m = e.shadowSgt.pop();
            core.unmapAttachmentUnlocked(m.attach(), m.sgt(), DmaDirection.BIDIRECTIONAL);
        }
        while (!e.shadowAttach.isEmpty()) {
            core.detach(e.shadowAttach.pop());
        }
        core.unmapAttachmentUnlocked(e.attach, e.sgt, DmaDirection.BIDIRECTIONAL);
        core.detach(e.attach);
        core.put(e.buf);
        synchronized (this) {
            exported.remove(e.hid.id()); // listed until everything above is undone
            storeReusable(e.hid); // in the same step: once the id is no longer listed, newId() can reuse it
        }
        LOG.debug("{} cleaned up", e.hid);
    }

    private void dropImporter(Imported imp) {
        synchronized (this) {
            imp.importers--;
        }
    }

    // ================================================================ the importer's local dma-buf

    /** Importer-side ops: attach/detach/map/unmap/CPU access are forwarded to the exporter (remote sync). */
    final class ImportOps implements DmaBufOps {
        final Imported imp;

        ImportOps(Imported imp) {
            this.imp = imp;
        }

        private void toSource(int op) {
            Message m = new Message(Message.OPS_TO_SOURCE);
            putHid(m, imp.hid);
            m.op[4] = op;
            int r = bknd.send(imp.hid.exporterDomid(), m, true);
            if (r < 0 || m.stat == Message.REQ_ERROR) {
                LOG.debug("remote sync {} of {}: {} / stat {}", Integer.toHexString(op), imp.hid, r,
                        Integer.toHexString(m.stat));
            }
        }

        /**
         * A new attach, mapping or vmap: refused only when the pages are gone (unmapped) or the
         * exporter domain is. As the driver: hyper_dmabuf_ops_attach/_map/_vmap never look at
         * imported->valid, and NOTIFY_UNEXPORT with importers only stops new EXPORT_FDs (the
         * exporter answers them REQ_ERROR); the pages stay shared until the last RELEASE.
         */
        private HyperDmabufBackend.Mapped live() {
            synchronized (HyperDmabufImpl.this) {
                if (imp.exporterGone) {
                    throw KernelException.enodev("hyper_dmabuf %s: its exporter d%d is gone (unexported)", imp.hid,
                            imp.hid.exporterDomid());
                }
                if (imp.mapped == null) {
                    throw KernelException.enodev("hyper_dmabuf %s: its pages are unmapped", imp.hid);
                }
                return imp.mapped;
            }
        }

        @Override
        public int attach(DmaBuf buf, DmaBufAttachment attach) {
            try {
                live();
            } catch (KernelException e) {
                return e.returnValue();
            }
            toSource(Message.OPS_ATTACH);
            return 0;
        }

        @Override
        public void detach(DmaBuf buf, DmaBufAttachment attach) {
            toSource(Message.OPS_DETACH);
        }

        @Override
        public SgTable mapDmaBuf(DmaBufAttachment attach, DmaDirection dir) {
            live();
            toSource(Message.OPS_MAP);
            List<SgEntry> sg = new ArrayList<>();
            for (int i = 0; i < imp.nents; i++) {
                sg.add(SgEntry.of((long) i * PAGE, PAGE)); // pages of a foreign mapping: no local frame numbers
            }
            return new SgTable(sg);
        }

        @Override
        public void unmapDmaBuf(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
            toSource(Message.OPS_UNMAP);
        }

        @Override
        public int beginCpuAccess(DmaBuf buf, DmaDirection dir) {
            toSource(Message.OPS_BEGIN_CPU_ACCESS);
            return 0;
        }

        @Override
        public int endCpuAccess(DmaBuf buf, DmaDirection dir) {
            toSource(Message.OPS_END_CPU_ACCESS);
            return 0;
        }

        @Override
        public boolean hasVmap() {
            return true;
        }

        @Override
        public BufMap vmap(DmaBuf buf) {
            HyperDmabufBackend.Mapped m = live();
            toSource(Message.OPS_VMAP);
            return BufMap.of(m.pages());
        }

        @Override
        public void vunmap(DmaBuf buf, BufMap map) {
            toSource(Message.OPS_VUNMAP);
        }

        /** release: RELEASE to the exporter; importers--, unmap at 0, free the import once invalid. */
        @Override
        public void release(DmaBuf buf) {
            toSource(Message.OPS_RELEASE);
            synchronized (HyperDmabufImpl.this) {
                imp.importers--;
                if (imp.importers == 0 && imp.mapped != null) {
                    imp.mapped.unmap();
                    imp.mapped = null;
                }
                if (imp.importers == 0 && !imp.valid) {
                    imported.remove(imp.hid, imp); // not a newer import that reuses the id with another key
                }
            }
        }
    }

    // ================================================================ receiving (hyper_dmabuf_msg_parse)

    void parse(int source, Message req) {
        if (!Message.validCmd(req.cmd)) {
            req.stat = Message.REQ_ERROR;
            return;
        }
        HyperDmabufId hid = hidOf(req);
        switch (req.cmd) {
            case Message.EXPORT -> {
                req.stat = Message.REQ_PROCESSED;
                Message copy = req.copy();
                work.execute(() -> onExport(copy)); // a workqueue, as the driver does
            }
            case Message.NOTIFY_UNEXPORT -> {
                synchronized (this) {
                    Imported i = findImported(hid);
                    if (i == null) {
                        req.stat = Message.REQ_ERROR;
                        return;
                    }
                    if (i.importers > 0) {
                        i.valid = false;
                    } else {
                        imported.remove(hid);
                    }
                }
                req.stat = Message.REQ_PROCESSED;
            }
            case Message.EXPORT_FD -> {
                synchronized (this) {
                    Exported e = findExported(hid);
                    if (e == null || !e.valid) {
                        req.stat = Message.REQ_ERROR;
                        return;
                    }
                    e.active++;
                }
                req.stat = Message.REQ_PROCESSED;
            }
            case Message.EXPORT_FD_FAILED -> {
                Exported clean = null;
                synchronized (this) {
                    Exported e = findExported(hid);
                    if (e == null || e.active <= 0) {
                        // a departure: msg.c decrements blindly, and a FAILED without an EXPORT_FD before it
                        // would take active below 0, so the buffer could never be cleaned up; refused here
                        req.stat = Message.REQ_ERROR;
                        return;
                    }
                    e.active--;
                    if (e.active == 0 && !e.valid && !e.unexportSched) {
                        // unexported while this import was under way: nobody will RELEASE it now. A departure:
                        // the driver does not clean up here, and leaks the export
                        clean = e;
                    }
                }
                req.stat = Message.REQ_PROCESSED;
                if (clean != null) {
                    Exported c = clean;
                    work.execute(() -> cleanupExport(c));
                }
            }
            case Message.OPS_TO_SOURCE -> req.stat = remoteSync(hid, req.op[4]) == 0 ? Message.REQ_PROCESSED : Message.REQ_ERROR;
            // OPS_TO_REMOTE: queued and ignored by the driver's workqueue ("probably not needed")
            default -> req.stat = Message.REQ_PROCESSED;
        }
    }

    private void onExport(Message m) {
        HyperDmabufId hid = hidOf(m);
        byte[] priv = privOf(m);
        synchronized (this) {
            if (m.op[4] == 0) {
                Imported i = findImported(hid);
                if (i == null) {
                    return;
                }
                if (m.op[8] < 0) {
                    i.valid = false; // the driver's kcalloc of a negative size fails: "set it invalid"
                    return;
                }
                i.priv = priv; // private data update
            } else {
                if (m.op[8] < 0) {
                    LOG.warn("EXPORT of {} with private data of {} bytes: not imported", hid, m.op[8]);
                    return; // kcalloc fails, the import is dropped
                }
                imported.put(hid, new Imported(hid, m.op[4], m.op[5], m.op[6], m.op[7], priv));
            }
            events.addLast(new Event(HYPER_DMABUF_NEW_IMPORT, hid, priv));
            while (events.size() > MAX_DEPTH_EVENT_QUEUE) {
                events.removeFirst(); // the oldest is dropped
            }
            notifyAll();
        }
    }

    /** hyper_dmabuf_remote_sync: the importer's operation replayed on the original buffer. */
    private int remoteSync(HyperDmabufId hid, int op) {
        Exported e;
        synchronized (this) {
            e = findExported(hid);
        }
        if (e == null) {
            return ENOENT;
        }
        try {
            switch (op) {
                case Message.OPS_ATTACH -> {
                    DmaBufAttachment a = core.attach(e.buf, dev, null, this);
                    synchronized (this) {
                        e.shadowAttach.push(a);
                    }
                }
                case Message.OPS_DETACH -> {
                    DmaBufAttachment a;
                    synchronized (this) {
                        if (e.shadowAttach.isEmpty()) {
                            return EFAULT;
                        }
                        a = e.shadowAttach.pop();
                        // the model core's dma_buf_detach unmaps every mapping still held on it (with a
                        // warning), so they leave the shadow stack with it. A departure: the kernel's
                        // dma_buf_detach unmaps only the cached attach->sgt, and remote_sync.c leaves
                        // its sgt list as it was
                        e.shadowSgt.removeIf(m -> m.attach() == a);
                    }
                    core.detach(a);
                }
                case Message.OPS_MAP -> {
                    DmaBufAttachment a;
                    synchronized (this) {
                        a = e.shadowAttach.peek();
                    }
                    if (a == null) {
                        return EFAULT;
                    }
                    SgTable t = core.mapAttachmentUnlocked(a, DmaDirection.BIDIRECTIONAL);
                    synchronized (this) {
                        e.shadowSgt.push(new ShadowMap(a, t));
                    }
                }
                case Message.OPS_UNMAP -> {
                    ShadowMap t;
                    synchronized (this) {
                        if (e.shadowSgt.isEmpty() || e.shadowAttach.isEmpty()) {
                            return EFAULT;
                        }
                        // the latest mapping, through the attachment that made it. A departure: remote_sync.c
                        // unmaps the first sgt of the list through the first attachment of its list,
                        // which may not be the one that mapped it
                        t = e.shadowSgt.pop();
                    }
                    core.unmapAttachmentUnlocked(t.attach(), t.sgt(), DmaDirection.BIDIRECTIONAL);
                }
                case Message.OPS_RELEASE -> {
                    boolean clean;
                    synchronized (this) {
                        if (e.active <= 0) {
                            // no EXPORT_FD to release: REQ_ERROR and active stays at 0. A departure:
                            // remote_sync.c decrements blindly and would go below 0
                            return EFAULT;
                        }
                        e.active--;
                        clean = e.active == 0 && !e.valid && !e.unexportSched;
                    }
                    if (clean) {
                        work.execute(() -> cleanupExport(e));
                    }
                }
                case Message.OPS_BEGIN_CPU_ACCESS -> core.beginCpuAccess(e.buf, DmaDirection.BIDIRECTIONAL);
                case Message.OPS_END_CPU_ACCESS -> core.endCpuAccess(e.buf, DmaDirection.BIDIRECTIONAL);
                case Message.OPS_VMAP, Message.OPS_KMAP, Message.OPS_KMAP_ATOMIC -> {
                    BufMap v = core.vmapUnlocked(e.buf);
                    synchronized (this) {
                        e.shadowVmap.push(v);
                    }
                }
                case Message.OPS_VUNMAP, Message.OPS_KUNMAP, Message.OPS_KUNMAP_ATOMIC -> {
                    BufMap v;
                    synchronized (this) {
                        if (e.shadowVmap.isEmpty()) {
                            return EFAULT;
                        }
                        v = e.shadowVmap.pop();
                    }
                    core.vunmapUnlocked(e.buf, v);
                }
                case Message.OPS_MMAP -> LOG.warn("remote sync: synchronized mmap is not supported"); // answered 0
                default -> LOG.debug("remote sync: unknown operation {}", Integer.toHexString(op)); // the driver's 0
            }
        } catch (KernelException ex) {
            return ex.returnValue();
        }
        return 0;
    }

    // ================================================================ a peer died

    /**
     * The importer of some exports died: drop its shadow state and clean up at once (its mappings
     * went with it). The exporter of some imports died: they become invalid; their pages stay
     * mapped only while a local user still holds the buffer, and every new access fails.
     */
    void peerGone(int domid) {
        List<Exported> lost = new ArrayList<>();
        List<HyperDmabufBackend.Mapped> unmap = new ArrayList<>();
        synchronized (this) {
            for (Exported e : exported.values()) {
                if (e.remote == domid) {
                    e.valid = false;
                    e.active = 0;
                    if (e.unexportWork != null) {
                        e.unexportWork.cancel(false);
                    }
                    lost.add(e);
                }
            }
            for (Imported i : List.copyOf(imported.values())) {
                if (i.hid.exporterDomid() == (domid & 0xFF)) {
                    i.valid = false;
                    i.exporterGone = true;
                    if (i.importers == 0) {
                        imported.remove(i.hid, i);
                        if (i.mapped != null) {
                            unmap.add(i.mapped);
                            i.mapped = null;
                        }
                    }
                }
            }
        }
        unmap.forEach(HyperDmabufBackend.Mapped::unmap);
        for (Exported e : lost) {
            LOG.warn("{}: importer d{} is gone; its shadow state is dropped", e.hid, domid);
            cleanupExport(e);
        }
    }

    // ================================================================ events

    @Override
    public synchronized boolean poll() {
        return !events.isEmpty();
    }

    @Override
    public List<Event> readEvents(int bufferBytes, long waitMs, boolean privileged) {
        if (!privileged) {
            throw new KernelException(Errno.EPERM, "reading hyper_dmabuf events needs CAP_DAC_OVERRIDE");
        }
        synchronized (this) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
            while (events.isEmpty() && waitMs > 0) {
                long left = until - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            List<Event> out = new ArrayList<>();
            int room = bufferBytes;
            while (!events.isEmpty() && events.peekFirst().bytes() <= room) {
                Event e = events.removeFirst();
                room -= e.bytes();
                out.add(e);
            }
            return out;
        }
    }

    @Override
    public List<String> holders() {
        synchronized (this) {
            List<String> out = new ArrayList<>();
            if (!exported.isEmpty()) {
                out.add(exported.size() + " exported buffer(s)");
            }
            if (!imported.isEmpty()) {
                out.add(imported.size() + " imported buffer(s)");
            }
            return out;
        }
    }

    /** For diagnostics and tests: ids exported / imported now. */
    public synchronized List<HyperDmabufId> exportedIds() {
        return exported.values().stream().map(x -> x.hid).toList();
    }

    public synchronized List<HyperDmabufId> importedIds() {
        return imported.values().stream().map(x -> x.hid).toList();
    }
}
