package org.peerdma.xen.hv.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.ShmemRegion;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;
import org.peerdma.xen.hv.XsWatch;

/**
 * The machine. One lock (this object) guards frames, domains, grant tables, event channels and
 * xenstore; callbacks (event upcalls, watch firings) run on each domain's own event thread, never
 * under the lock.
 */
public final class MachineImpl implements Hypervisor {
    /** Old Xen's MAX_MAPTRACK_TO_GRANTS_RATIO: a domain may hold 8 mappings per grant entry it could have. */
    static final int MAPTRACK_RATIO = 8;

    private final FramePool frames;
    private final Xenstore xenstore = new Xenstore();
    private final TreeMap<Integer, Dom> domains = new TreeMap<>();
    private final List<WatchImpl> watches = new CopyOnWriteArrayList<>();
    private int nextDomid = 1;
    private final Map<String, Shmem> shmem = new TreeMap<>();

    /** A shared-memory device: its memory, who may attach, who is attached. */
    final class Shmem {
        final String name;
        final java.nio.ByteBuffer mem;
        final java.util.Set<Integer> allowed = new java.util.TreeSet<>();
        final Map<Integer, Attach> peers = new TreeMap<>();

        Shmem(String name, java.nio.ByteBuffer mem) {
            this.name = name;
            this.mem = mem;
        }
    }

    final class Attach implements ShmemRegion {
        final Shmem s;
        final Dom d;
        volatile IntConsumer ring;
        volatile IntConsumer gone;

        Attach(Shmem s, Dom d) {
            this.s = s;
            this.d = d;
        }

        @Override
        public String name() {
            return s.name;
        }

        @Override
        public java.nio.ByteBuffer memory() {
            return s.mem.duplicate().clear();
        }

        @Override
        public long size() {
            return s.mem.capacity();
        }

        @Override
        public int peerId() {
            return d.id;
        }

        @Override
        public int doorbell(int peer) {
            Attach t;
            synchronized (MachineImpl.this) {
                d.enter();
                t = s.peers.get(peer);
            }
            if (t == null) {
                return -Xen.ESRCH;
            }
            int from = d.id;
            t.d.post(() -> {
                IntConsumer r = t.ring;
                if (r != null) {
                    r.accept(from);
                }
            });
            return 0;
        }

        @Override
        public void handler(IntConsumer onRing) {
            ring = onRing;
        }

        @Override
        public void onPeerGone(IntConsumer g) {
            gone = g;
        }

        @Override
        public java.util.List<Integer> peers() {
            synchronized (MachineImpl.this) {
                return List.copyOf(s.peers.keySet());
            }
        }

        @Override
        public void detach() {
            List<Attach> others;
            synchronized (MachineImpl.this) {
                if (s.peers.get(d.id) != this) {
                    return;
                }
                s.peers.remove(d.id);
                others = List.copyOf(s.peers.values());
            }
            for (Attach o : others) {
                o.d.post(() -> {
                    IntConsumer g = o.gone;
                    if (g != null) {
                        g.accept(d.id);
                    }
                });
            }
        }
    }

    @Override
    public void shmemCreate(String name, long bytes, List<Integer> domids) {
        if (name == null || !name.matches("[A-Za-z0-9_.\\-]{1,64}")) {
            throw new XenError(Xen.EINVAL, "shared-memory device name '" + name + "'");
        }
        if (bytes <= 0 || bytes % Xen.PAGE_SIZE != 0 || bytes > (1L << 30)) {
            throw new XenError(Xen.EINVAL, "shared-memory device " + name + " of " + bytes
                    + " bytes: a page multiple up to 1 GiB");
        }
        synchronized (this) {
            Shmem s = shmem.get(name);
            if (s != null && s.mem.capacity() != bytes) {
                throw new XenError(Xen.EEXIST, "shared-memory device " + name + " exists with " + s.mem.capacity()
                        + " bytes");
            }
            if (s == null) {
                java.nio.ByteBuffer mem;
                try {
                    mem = java.nio.ByteBuffer.allocateDirect((int) bytes);
                } catch (OutOfMemoryError e) {
                    throw new XenError(Xen.ENOMEM, "no memory for shared-memory device " + name);
                }
                s = new Shmem(name, mem);
                shmem.put(name, s);
            }
            s.allowed.addAll(domids);
        }
    }

    @Override
    public synchronized void shmemAllow(String name, int domid) {
        Shmem s = shmem.get(name);
        if (s == null) {
            throw new XenError(Xen.ENOENT, "no shared-memory device " + name);
        }
        s.allowed.add(domid);
    }

    public MachineImpl(long totalFrames, long dom0Frames) {
        frames = new FramePool(totalFrames);
        if (dom0Frames < 1 || dom0Frames > totalFrames) {
            throw new XenError(Xen.EINVAL, "dom0 of " + dom0Frames + " frames on a machine of " + totalFrames);
        }
        synchronized (this) {
            xenstore.forceWrite("/local", "", List.of("r0"));
            xenstore.forceWrite("/local/domain", "", List.of("r0"));
            newDomain(0, "Domain-0", dom0Frames, 64);
        }
    }

    // ================================================================ toolstack

    @Override
    public synchronized Hypercalls hypercalls(int domid) {
        Dom d = domains.get(domid);
        if (d == null || d.dying()) {
            throw new XenError(Xen.ESRCH, "no domain " + domid);
        }
        return d;
    }

    @Override
    public DomainInfo create(String name, long pages, int maxGrantFrames) {
        if (name == null || !name.matches("[A-Za-z0-9_.\\-]{1,64}")) {
            throw new XenError(Xen.EINVAL, "domain name '" + name + "': 1-64 of A-Z a-z 0-9 _ . -");
        }
        if (pages < 1 || maxGrantFrames < 1) {
            throw new XenError(Xen.EINVAL, "domain " + name + ": " + pages + " pages, " + maxGrantFrames
                    + " grant frames (both must be at least 1)");
        }
        Dom d;
        synchronized (this) {
            for (Dom o : domains.values()) {
                if (o.name.equals(name) && !o.dying()) {
                    throw new XenError(Xen.EEXIST, "domain " + name + " exists (id " + o.id + ")");
                }
            }
            int id = nextDomid;
            while (domains.containsKey(id)) {
                id = id + 1 >= Xen.DOMID_FIRST_RESERVED ? 1 : id + 1;
            }
            d = newDomain(id, name, pages, maxGrantFrames);
            nextDomid = id + 1 >= Xen.DOMID_FIRST_RESERVED ? 1 : id + 1;
        }
        fireSpecial("@introduceDomain");
        return d.info();
    }

    /** Caller holds the lock. */
    private Dom newDomain(int id, String name, long pages, int maxGrantFrames) {
        long[] p2m = frames.alloc(id, pages);
        if (p2m == null) {
            throw new XenError(Xen.ENOMEM, "domain " + name + ": " + pages + " pages asked, " + frames.free()
                    + " frames free");
        }
        Dom d = new Dom(id, name, p2m, maxGrantFrames);
        domains.put(id, d);
        String dir = "/local/domain/" + id;
        xenstore.forceWrite(dir, "", List.of("n" + id));
        xenstore.forceWrite(dir + "/name", name, List.of("n" + id));
        xenstore.forceWrite(dir + "/domid", Integer.toString(id), List.of("n" + id));
        return d;
    }

    @Override
    public void destroy(int domid) {
        kill(domid, DomainState.DYING);
    }

    @Override
    public void crash(int domid) {
        kill(domid, DomainState.CRASHED);
    }

    private void kill(int domid, DomainState how) {
        List<Runnable> after = new ArrayList<>();
        Dom d;
        synchronized (this) {
            d = live(domid);
            if (domid == 0) {
                throw new XenError(Xen.EPERM, "dom0 cannot be destroyed");
            }
            d.state = how;
            notifyAll(); // paused callers wake up and see it dying
            // its own mappings of others' frames go (gnttab_release_mappings)
            for (Maptrack m : List.copyOf(d.maptrack.values())) {
                d.unmapLocked(m.handle);
            }
            // its event channels close; peers' ports fall back to unbound
            for (int p = 1; p < d.ports.length; p++) {
                if (d.ports[p] != null) {
                    d.closeLocked(p);
                }
            }
            xenstore.forceRm("/local/domain/" + domid);
            for (Shmem s : shmem.values()) {
                Attach at = s.peers.get(domid);
                if (at != null) {
                    after.add(at::detach); // the peers hear of it as a disconnect
                }
            }
            for (WatchImpl w : watches) {
                if (w.owner == d) {
                    watches.remove(w);
                }
            }
            // its frames: the owner's reference goes; frames others map stay until they unmap
            for (long mfn : d.p2m) {
                frames.put(mfn);
            }
            reapIfDone(d);
            after.add(() -> d.events.shutdown());
        }
        after.forEach(Runnable::run);
        fireSpecial("@releaseDomain");
        fireMatching("/local/domain/" + domid);
    }

    /** A dying domain is dead once none of its frames is held any more. Caller holds the lock. */
    private void reapIfDone(Dom d) {
        if (d.dying() && framesHeld(d) == 0) {
            d.state = DomainState.DEAD;
            domains.remove(d.id);
        }
    }

    private long framesHeld(Dom d) {
        long n = 0;
        for (long mfn : d.p2m) {
            if (frames.owner(mfn) == d.id) {
                n++;
            }
        }
        return n;
    }

    @Override
    public synchronized void pause(int domid) {
        Dom d = live(domid);
        if (domid == 0) {
            throw new XenError(Xen.EPERM, "dom0 cannot be paused");
        }
        d.state = DomainState.PAUSED;
    }

    @Override
    public void unpause(int domid) {
        Dom d;
        synchronized (this) {
            d = live(domid);
            if (d.state != DomainState.PAUSED) {
                return;
            }
            d.state = DomainState.RUNNING;
            notifyAll();
        }
        d.deliverPending();
    }

    @Override
    public synchronized List<DomainInfo> list() {
        return domains.values().stream().map(Dom::info).toList();
    }

    @Override
    public synchronized Optional<DomainInfo> info(int domid) {
        return Optional.ofNullable(domains.get(domid)).map(Dom::info);
    }

    @Override
    public synchronized long totalFrames() {
        return frames.total();
    }

    @Override
    public synchronized long freeFrames() {
        return frames.free();
    }

    private Dom live(int domid) {
        Dom d = domains.get(domid);
        if (d == null || d.dying()) {
            throw new XenError(Xen.ESRCH, "no domain " + domid);
        }
        return d;
    }

    // ================================================================ watches

    final class WatchImpl implements XsWatch {
        final Dom owner;
        final String path;
        final String token;
        final XsWatch.Callback cb;
        volatile boolean live = true;

        WatchImpl(Dom owner, String path, String token, XsWatch.Callback cb) {
            this.owner = owner;
            this.path = path;
            this.token = token;
            this.cb = cb;
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public String token() {
            return token;
        }

        @Override
        public void close() {
            live = false;
            watches.remove(this);
        }

        void fire(String changed) {
            owner.post(() -> {
                if (live) {
                    cb.fire(changed, token);
                }
            });
        }
    }

    /** Watches at or above the changed node (and below it: a removed subtree), like xenstored's. */
    private void fireMatching(String changed) {
        for (WatchImpl w : watches) {
            if (w.path.startsWith("@")) {
                continue;
            }
            if (changed.equals(w.path) || changed.startsWith(w.path.equals("/") ? "/" : w.path + "/")
                    || w.path.startsWith(changed + "/")) {
                w.fire(changed);
            }
        }
    }

    private void fireSpecial(String name) {
        for (WatchImpl w : watches) {
            if (w.path.equals(name)) {
                w.fire(name);
            }
        }
    }

    // ================================================================ a domain

    record Maptrack(int handle, Dom granter, int ref, long mfn, boolean readonly) {
    }

    static final class Port {
        static final int UNBOUND = 1;
        static final int INTERDOMAIN = 2;
        int state;
        int remoteDom;
        int remotePort;
        IntConsumer handler;
        boolean pending;

        Port(int state, int remoteDom) {
            this.state = state;
            this.remoteDom = remoteDom;
        }
    }

    final class Dom implements Hypercalls {
        final int id;
        final String name;
        final long[] p2m;
        final int maxGrantFrames;
        volatile DomainState state = DomainState.RUNNING;
        int grantFrames = 1;
        int[] gFlags = new int[Xen.GRANT_ENTRIES_PER_FRAME];
        int[] gDomid = new int[Xen.GRANT_ENTRIES_PER_FRAME];
        long[] gFrame = new long[Xen.GRANT_ENTRIES_PER_FRAME];
        int[] gPins = new int[Xen.GRANT_ENTRIES_PER_FRAME];
        int[] gWritePins = new int[Xen.GRANT_ENTRIES_PER_FRAME];
        final Map<Integer, Maptrack> maptrack = new TreeMap<>();
        int nextHandle;
        final Port[] ports = new Port[Xen.EVTCHN_NR_CHANNELS];
        final ExecutorService events;

        Dom(int id, String name, long[] p2m, int maxGrantFrames) {
            this.id = id;
            this.name = name;
            this.p2m = p2m;
            this.maxGrantFrames = maxGrantFrames;
            this.events = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "xen-d" + id + "-events");
                t.setDaemon(true);
                return t;
            });
        }

        boolean dying() {
            return state == DomainState.CRASHED || state == DomainState.DYING || state == DomainState.DEAD;
        }

        DomainInfo info() {
            return new DomainInfo(id, name, state, p2m.length, framesHeld(this), grantFrames);
        }

        /** Every call enters here with the machine lock held: wait while paused, refuse once dying. */
        void enter() {
            while (state == DomainState.PAUSED) {
                try {
                    MachineImpl.this.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new XenError(Xen.EINTR, "domain " + id + ": interrupted while paused");
                }
            }
            if (dying()) {
                throw new XenError(Xen.ESRCH, "domain " + id + " (" + name + ") is " + state.name().toLowerCase());
            }
        }

        void post(Runnable r) {
            try {
                events.execute(() -> {
                    try {
                        r.run();
                    } catch (RuntimeException e) {
                        System.getLogger("xen").log(System.Logger.Level.WARNING, "d" + id + " upcall failed", e);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the domain is gone: its upcalls are dropped
            }
        }

        @Override
        public int domid() {
            return id;
        }

        @Override
        public DomainState state() {
            return state;
        }

        // ------------------------------------------------------------ memory

        @Override
        public long nrPages() {
            return p2m.length;
        }

        @Override
        public ByteBuffer page(long gfn) {
            synchronized (MachineImpl.this) {
                enter();
                if (gfn < 0 || gfn >= p2m.length) {
                    throw new XenError(Xen.EINVAL, "d" + id + ": gfn " + gfn + " is outside its " + p2m.length + " pages");
                }
                return frames.frame(p2m[(int) gfn]);
            }
        }

        @Override
        public long gfnToMfn(long gfn) {
            synchronized (MachineImpl.this) {
                enter();
                if (gfn < 0 || gfn >= p2m.length) {
                    throw new XenError(Xen.EINVAL, "d" + id + ": gfn " + gfn + " is outside its " + p2m.length + " pages");
                }
                return p2m[(int) gfn];
            }
        }

        // ------------------------------------------------------------ grant table

        @Override
        public int grantEntries() {
            synchronized (MachineImpl.this) {
                return grantFrames * Xen.GRANT_ENTRIES_PER_FRAME;
            }
        }

        @Override
        public int maxGrantFrames() {
            return maxGrantFrames;
        }

        @Override
        public int setupTable(int nframes) {
            synchronized (MachineImpl.this) {
                enter();
                if (nframes > maxGrantFrames || nframes < 1) {
                    return Xen.GNTST_general_error;
                }
                if (nframes > grantFrames) {
                    int n = nframes * Xen.GRANT_ENTRIES_PER_FRAME;
                    gFlags = java.util.Arrays.copyOf(gFlags, n);
                    gDomid = java.util.Arrays.copyOf(gDomid, n);
                    gFrame = java.util.Arrays.copyOf(gFrame, n);
                    gPins = java.util.Arrays.copyOf(gPins, n);
                    gWritePins = java.util.Arrays.copyOf(gWritePins, n);
                    grantFrames = nframes;
                }
                return Xen.GNTST_okay;
            }
        }

        private void checkRef(int ref) {
            if (ref < 0 || ref >= gFlags.length) {
                throw new XenError(Xen.EINVAL, "d" + id + ": grant ref " + ref + " is outside its table of "
                        + gFlags.length);
            }
        }

        @Override
        public void writeEntry(int ref, int flags, int domid, long gfn) {
            synchronized (MachineImpl.this) {
                enter();
                checkRef(ref);
                gDomid[ref] = domid;
                gFrame[ref] = gfn;
                // the hypervisor owns GTF_reading/GTF_writing: a guest rewriting an in-use entry keeps them
                gFlags[ref] = (flags & ~(Xen.GTF_reading | Xen.GTF_writing))
                        | (gFlags[ref] & (Xen.GTF_reading | Xen.GTF_writing));
            }
        }

        @Override
        public int entryFlags(int ref) {
            synchronized (MachineImpl.this) {
                checkRef(ref);
                return gFlags[ref];
            }
        }

        @Override
        public int entryDomid(int ref) {
            synchronized (MachineImpl.this) {
                checkRef(ref);
                return gDomid[ref];
            }
        }

        @Override
        public boolean clearEntry(int ref) {
            synchronized (MachineImpl.this) {
                checkRef(ref);
                if ((gFlags[ref] & (Xen.GTF_reading | Xen.GTF_writing)) != 0) {
                    return false;
                }
                gFlags[ref] = 0;
                return true;
            }
        }

        @Override
        public GrantMap mapGrantRef(int granter, int ref, int flags) {
            synchronized (MachineImpl.this) {
                enter();
                if ((flags & (Xen.GNTMAP_device_map | Xen.GNTMAP_host_map)) == 0) {
                    return fail(Xen.GNTST_bad_gntref, "Bad flags in grant map op: %#x", flags);
                }
                Dom rd = domains.get(granter);
                if (rd == null || rd.dying()) {
                    return fail(Xen.GNTST_bad_domain, "Could not find domain %d", granter);
                }
                if (ref < 0 || ref >= rd.gFlags.length) {
                    return fail(Xen.GNTST_bad_gntref, "Bad ref %#x for d%d", ref, granter);
                }
                if (maptrack.size() >= maxGrantFrames * Xen.GRANT_ENTRIES_PER_FRAME * MAPTRACK_RATIO) {
                    return fail(Xen.GNTST_no_device_space, "d%d: no maptrack handle left", id);
                }
                int sflags = rd.gFlags[ref];
                if ((sflags & Xen.GTF_type_mask) != Xen.GTF_permit_access || rd.gDomid[ref] != id) {
                    return fail(Xen.GNTST_general_error, "Bad flags (%x) or dom (%d); expected d%d", sflags,
                            rd.gDomid[ref], id);
                }
                boolean ro = (flags & Xen.GNTMAP_readonly) != 0;
                if (!ro && (sflags & Xen.GTF_readonly) != 0) {
                    return fail(Xen.GNTST_general_error, "Attempt to write-pin a r/o grant entry");
                }
                long gfn = rd.gFrame[ref];
                if (gfn < 0 || gfn >= rd.p2m.length) {
                    return fail(Xen.GNTST_bad_page, "d%d ref %d: gfn %#x is not a page of d%d", granter, ref, gfn, granter);
                }
                long mfn = rd.p2m[(int) gfn];
                rd.gPins[ref]++;
                rd.gFlags[ref] |= Xen.GTF_reading;
                if (!ro) {
                    rd.gWritePins[ref]++;
                    rd.gFlags[ref] |= Xen.GTF_writing;
                }
                frames.get(mfn);
                int h = nextHandle;
                while (maptrack.containsKey(h)) {
                    h = (h + 1) & 0x7fffffff;
                }
                nextHandle = (h + 1) & 0x7fffffff;
                maptrack.put(h, new Maptrack(h, rd, ref, mfn, ro));
                ByteBuffer mem = frames.frame(mfn);
                return new GrantMap(Xen.GNTST_okay, h, ro ? mem.asReadOnlyBuffer() : mem, "");
            }
        }

        private GrantMap fail(int status, String fmt, Object... args) {
            return new GrantMap(status, -1, null, String.format(fmt, args));
        }

        @Override
        public int unmapGrantRef(int handle) {
            synchronized (MachineImpl.this) {
                if (dying()) {
                    throw new XenError(Xen.ESRCH, "domain " + id + " is " + state.name().toLowerCase());
                }
                return unmapLocked(handle);
            }
        }

        int unmapLocked(int handle) {
            Maptrack m = maptrack.remove(handle);
            if (m == null) {
                return Xen.GNTST_bad_handle;
            }
            Dom rd = m.granter;
            if (--rd.gPins[m.ref] == 0) {
                rd.gFlags[m.ref] &= ~Xen.GTF_reading;
            }
            if (!m.readonly && --rd.gWritePins[m.ref] == 0) {
                rd.gFlags[m.ref] &= ~Xen.GTF_writing;
            }
            frames.put(m.mfn);
            reapIfDone(rd);
            return Xen.GNTST_okay;
        }

        @Override
        public List<Integer> grantHandles() {
            synchronized (MachineImpl.this) {
                return List.copyOf(maptrack.keySet());
            }
        }

        // ------------------------------------------------------------ event channels

        private int freePort() {
            for (int p = 1; p < ports.length; p++) {
                if (ports[p] == null) {
                    return p;
                }
            }
            return -Xen.ENOSPC;
        }

        @Override
        public int evtchnAllocUnbound(int remoteDomid) {
            synchronized (MachineImpl.this) {
                enter();
                int rdom = remoteDomid == Xen.DOMID_SELF ? id : remoteDomid;
                Dom rd = domains.get(rdom);
                if (rd == null || rd.dying()) {
                    return -Xen.ESRCH;
                }
                int p = freePort();
                if (p > 0) {
                    ports[p] = new Port(Port.UNBOUND, rdom);
                }
                return p;
            }
        }

        @Override
        public int evtchnBindInterdomain(int remoteDomid, int remotePort) {
            synchronized (MachineImpl.this) {
                enter();
                int rdom = remoteDomid == Xen.DOMID_SELF ? id : remoteDomid;
                Dom rd = domains.get(rdom);
                if (rd == null || rd.dying()) {
                    return -Xen.ESRCH;
                }
                if (remotePort <= 0 || remotePort >= rd.ports.length || rd.ports[remotePort] == null
                        || rd.ports[remotePort].state != Port.UNBOUND || rd.ports[remotePort].remoteDom != id) {
                    return -Xen.EINVAL;
                }
                int p = freePort();
                if (p < 0) {
                    return p;
                }
                Port local = new Port(Port.INTERDOMAIN, rdom);
                local.remotePort = remotePort;
                ports[p] = local;
                Port r = rd.ports[remotePort];
                r.state = Port.INTERDOMAIN;
                r.remotePort = p;
                return p;
            }
        }

        @Override
        public int evtchnSend(int port) {
            Dom target;
            int tport;
            synchronized (MachineImpl.this) {
                enter();
                Port p = port > 0 && port < ports.length ? ports[port] : null;
                if (p == null) {
                    return -Xen.EINVAL;
                }
                if (p.state != Port.INTERDOMAIN) {
                    return 0; // an unbound port: the event goes nowhere
                }
                target = domains.get(p.remoteDom);
                tport = p.remotePort;
                if (target == null || target.ports[tport] == null) {
                    return 0;
                }
                Port tp = target.ports[tport];
                if (tp.pending) {
                    return 0; // coalesced with the one already pending
                }
                tp.pending = true;
                if (target.state == DomainState.PAUSED) {
                    return 0; // delivered on unpause
                }
            }
            target.deliver(tport);
            return 0;
        }

        void deliver(int port) {
            post(() -> {
                IntConsumer h;
                synchronized (MachineImpl.this) {
                    Port p = ports[port];
                    if (p == null || !p.pending || state == DomainState.PAUSED) {
                        return;
                    }
                    p.pending = false;
                    h = p.handler;
                }
                if (h != null) {
                    h.accept(port);
                }
            });
        }

        void deliverPending() {
            List<Integer> pend = new ArrayList<>();
            synchronized (MachineImpl.this) {
                for (int p = 1; p < ports.length; p++) {
                    if (ports[p] != null && ports[p].pending) {
                        pend.add(p);
                    }
                }
            }
            pend.forEach(this::deliver);
        }

        @Override
        public int evtchnClose(int port) {
            synchronized (MachineImpl.this) {
                enter();
                if (port <= 0 || port >= ports.length || ports[port] == null) {
                    return -Xen.EINVAL;
                }
                closeLocked(port);
                return 0;
            }
        }

        void closeLocked(int port) {
            Port p = ports[port];
            ports[port] = null;
            if (p.state == Port.INTERDOMAIN) {
                Dom rd = domains.get(p.remoteDom);
                if (rd != null && rd.ports[p.remotePort] != null) {
                    Port r = rd.ports[p.remotePort];
                    r.state = Port.UNBOUND;
                    r.remoteDom = id;
                    r.remotePort = 0;
                }
            }
        }

        @Override
        public int evtchnHandler(int port, IntConsumer handler) {
            boolean pend;
            synchronized (MachineImpl.this) {
                enter();
                if (port <= 0 || port >= ports.length || ports[port] == null) {
                    return -Xen.EINVAL;
                }
                ports[port].handler = handler;
                pend = ports[port].pending;
            }
            if (pend) {
                deliver(port);
            }
            return 0;
        }

        @Override
        public String evtchnStatus(int port) {
            synchronized (MachineImpl.this) {
                Port p = port > 0 && port < ports.length ? ports[port] : null;
                if (p == null) {
                    return "free";
                }
                return p.state == Port.UNBOUND ? "unbound(" + p.remoteDom + ")"
                        : "interdomain(" + p.remoteDom + ":" + p.remotePort + ")";
            }
        }

        // ------------------------------------------------------------ shared memory

        @Override
        public ShmemRegion shmemAttach(String name) {
            synchronized (MachineImpl.this) {
                enter();
                Shmem s = shmem.get(name);
                if (s == null) {
                    throw new XenError(Xen.ENOENT, "no shared-memory device " + name);
                }
                if (id != 0 && !s.allowed.contains(id)) {
                    throw new XenError(Xen.EACCES, "shared-memory device " + name + " is not configured for d" + id);
                }
                if (s.peers.containsKey(id)) {
                    throw new XenError(Xen.EBUSY, "d" + id + " is already attached to " + name);
                }
                Attach a = new Attach(s, this);
                s.peers.put(id, a);
                return a;
            }
        }

        // ------------------------------------------------------------ xenstore

        @Override
        public String xsRead(String path) {
            synchronized (MachineImpl.this) {
                enter();
                return xenstore.read(id, path);
            }
        }

        @Override
        public void xsWrite(String path, String value) {
            synchronized (MachineImpl.this) {
                enter();
                xenstore.write(id, path, value);
            }
            fireMatching(path);
        }

        @Override
        public void xsMkdir(String path) {
            synchronized (MachineImpl.this) {
                enter();
                xenstore.mkdir(id, path);
            }
            fireMatching(path);
        }

        @Override
        public void xsRm(String path) {
            synchronized (MachineImpl.this) {
                enter();
                xenstore.rm(id, path);
            }
            fireMatching(path);
        }

        @Override
        public List<String> xsDirectory(String path) {
            synchronized (MachineImpl.this) {
                enter();
                return xenstore.directory(id, path);
            }
        }

        @Override
        public void xsSetPerms(String path, List<String> perms) {
            synchronized (MachineImpl.this) {
                enter();
                xenstore.setPerms(id, path, perms);
            }
            fireMatching(path);
        }

        @Override
        public List<String> xsGetPerms(String path) {
            synchronized (MachineImpl.this) {
                enter();
                return xenstore.getPerms(id, path);
            }
        }

        @Override
        public XsWatch xsWatch(String path, String token, XsWatch.Callback callback) {
            if (callback == null || token == null) {
                throw new XenError(Xen.EINVAL, "a watch needs a token and a callback");
            }
            WatchImpl w;
            synchronized (MachineImpl.this) {
                enter();
                if (!path.equals("@introduceDomain") && !path.equals("@releaseDomain")) {
                    Xenstore.check(path);
                }
                w = new WatchImpl(this, path, token, callback);
                watches.add(w);
            }
            w.fire(path); // xenstored fires every new watch once
            return w;
        }

        @Override
        public String toString() {
            return "d" + id + " (" + name + ")";
        }
    }

    /** For tests: wait until every domain's event thread has run what was queued before. */
    public void drainEvents() throws InterruptedException {
        List<Dom> ds;
        synchronized (this) {
            ds = List.copyOf(domains.values());
        }
        for (Dom d : ds) {
            if (d.events.isShutdown()) {
                // a dying domain's event thread takes nothing new: wait for what it had queued
                d.events.awaitTermination(5, TimeUnit.SECONDS);
                continue;
            }
            java.util.concurrent.CountDownLatch l = new java.util.concurrent.CountDownLatch(1);
            d.post(l::countDown);
            l.await(5, TimeUnit.SECONDS);
        }
    }
}
