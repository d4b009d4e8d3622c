package org.peerdma.xen.gnttab.internal;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.module.ModuleUsage;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Xen;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The free list is the kernel's: an array of next-indices with a head, refs taken from the head
 * and returned to it (so a freed ref is the next one handed out).
 */
@Component(service = {GrantTable.class, ModuleUsage.class})
public class GrantTableImpl implements GrantTable, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("xen:grant_table");
    private static final int END = -1;

    @Reference
    Hypercalls hv;

    private int[] next = new int[0];
    private boolean[] allocated = new boolean[0];
    private int freeHead = END;
    private final java.util.concurrent.atomic.AtomicLong made = new java.util.concurrent.atomic.AtomicLong();
    private int free;
    private int inUse;

    private record Deferred(int ref, Runnable release, int[] tries) {
    }

    private final Deque<Deferred> deferred = new ArrayDeque<>();
    private ScheduledExecutorService timer;
    private ScheduledFuture<?> tick;
    long periodMs = DEFERRED_PERIOD_MS;

    public GrantTableImpl() {
    }

    /** For tests outside OSGi. */
    public GrantTableImpl(Hypercalls hv, long periodMs) {
        this.hv = hv;
        this.periodMs = periodMs;
        activate();
    }

    @Activate
    void activate() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gnttab-deferred-d" + hv.domid());
            t.setDaemon(true);
            return t;
        });
        synchronized (this) {
            grow(hv.grantEntries());
        }
    }

    /** Caller holds this lock: make entries [old, n) free, reserved ones excepted. */
    private void grow(int n) {
        int old = next.length;
        next = Arrays.copyOf(next, n);
        allocated = Arrays.copyOf(allocated, n);
        for (int r = n - 1; r >= Math.max(old, NR_RESERVED_ENTRIES); r--) {
            next[r] = freeHead;
            freeHead = r;
            free++;
        }
    }

    /** gnttab_expand: enough frames for {@code need} more free entries, if the maximum allows. */
    private boolean ensure(int need) {
        if (free >= need) {
            return true;
        }
        int missing = need - free;
        int frames = hv.grantEntries() / Xen.GRANT_ENTRIES_PER_FRAME;
        int extra = (missing + Xen.GRANT_ENTRIES_PER_FRAME - 1) / Xen.GRANT_ENTRIES_PER_FRAME;
        if (frames + extra > hv.maxGrantFrames() || hv.setupTable(frames + extra) != Xen.GNTST_okay) {
            LOG.debug("gnttab_expand: {} frames + {} over the maximum {}", frames, extra, hv.maxGrantFrames());
            return false;
        }
        grow(hv.grantEntries());
        return true;
    }

    private int take() {
        int r = freeHead;
        freeHead = next[r];
        next[r] = END;
        allocated[r] = true;
        free--;
        inUse++;
        return r;
    }

    @Override
    public Hypercalls hypercalls() {
        return hv;
    }

    @Override
    public synchronized int grantForeignAccess(int domid, long gfn, boolean readonly) {
        if (!ensure(1)) {
            return -Xen.ENOSPC;
        }
        int ref = take();
        try {
            hv.writeEntry(ref, Xen.GTF_permit_access | (readonly ? Xen.GTF_readonly : 0), domid, gfn);
        } catch (RuntimeException e) {
            freeReference(ref); // a dying domain's write fails (XenError ESRCH): the call takes nothing
            throw e;
        }
        made.incrementAndGet();
        return ref;
    }

    @Override
    public void grantForeignAccessRef(int ref, int domid, long gfn, boolean readonly) {
        synchronized (this) {
            if (ref < NR_RESERVED_ENTRIES || ref >= allocated.length || !allocated[ref]) {
                throw KernelException.einval("grant ref %d is not allocated", ref);
            }
        }
        hv.writeEntry(ref, Xen.GTF_permit_access | (readonly ? Xen.GTF_readonly : 0), domid, gfn);
        made.incrementAndGet();
    }

    @Override
    public long grantsMade() {
        return made.get();
    }

    @Override
    public synchronized int[] allocReferences(int count) {
        if (count < 0) {
            throw KernelException.einval("%d grant references", count);
        }
        if (!ensure(count)) {
            return null;
        }
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = take();
        }
        return out;
    }

    @Override
    public synchronized void freeReference(int ref) {
        if (ref < NR_RESERVED_ENTRIES) {
            return; // put_free_entry: reserved entries are never freed
        }
        if (ref >= allocated.length || !allocated[ref]) {
            throw KernelException.einval("grant ref %d is not allocated (double free?)", ref);
        }
        allocated[ref] = false;
        next[ref] = freeHead;
        freeHead = ref;
        free++;
        inUse--;
    }

    /**
     * checkRef - a ref this table handed out: not outside the table, not one of the reserved entries
     * (the toolstack's console and xenstore pages), not free. Ending a ref nobody was granted would put it on
     * the free list twice (gnttab's put_free_entry has no check; the model refuses).
     */
    private synchronized void checkRef(int ref) {
        if (ref < 0 || ref >= allocated.length) {
            throw KernelException.einval("grant ref %d is outside the grant table (%d entries)", ref, allocated.length);
        }
        if (ref < NR_RESERVED_ENTRIES) {
            throw KernelException.einval("grant ref %d is reserved (refs 0-%d belong to the console and xenstore)", ref,
                    NR_RESERVED_ENTRIES - 1);
        }
        if (!allocated[ref]) {
            throw KernelException.einval("grant ref %d is not allocated", ref);
        }
    }

    @Override
    public int endForeignAccessRef(int ref) {
        checkRef(ref);
        if (hv.clearEntry(ref)) {
            return 1;
        }
        LOG.warn("g.e. {} still in use!", String.format("%#x", ref));
        return 0;
    }

    @Override
    public boolean tryEndForeignAccess(int ref) {
        checkRef(ref);
        boolean ok = hv.clearEntry(ref);
        if (ok) {
            freeReference(ref);
        }
        return ok;
    }

    @Override
    public void endForeignAccess(int ref, Runnable release) {
        if (tryEndForeignAccess(ref)) {
            if (release != null) {
                release.run();
            }
            return;
        }
        synchronized (this) {
            deferred.add(new Deferred(ref, release, new int[1]));
            if (tick == null) {
                tick = timer.schedule(this::pass, periodMs, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * gnttab_handle_deferred: one timer pass. It looks at {@value #FREE_PER_ITERATION} entries from the head
     * of the queue whether or not it can free them (`while (nr--)`), puts the ones still mapped back at the
     * tail, and stops early when it meets the first of those again; "still pending" is counted per look
     * (warn_delay). Package-private so tests can run a pass without the timer.
     */
    void pass() {
        List<Runnable> releases = new java.util.ArrayList<>();
        synchronized (this) {
            tick = null;
            try {
                Deferred first = null;
                for (int nr = FREE_PER_ITERATION; nr > 0 && !deferred.isEmpty(); nr--) {
                    Deferred d = deferred.peek();
                    if (d == first) {
                        break;
                    }
                    boolean cleared = hv.clearEntry(d.ref);
                    deferred.poll();
                    if (cleared) {
                        freeReference(d.ref);
                        if (d.release != null) {
                            releases.add(d.release);
                        }
                        continue;
                    }
                    if (++d.tries[0] == WARN_DELAY) {
                        LOG.warn("g.e. {} still pending", String.format("%#x", d.ref));
                    }
                    if (first == null) {
                        first = d;
                    }
                    deferred.add(d);
                }
            } finally {
                if (!deferred.isEmpty() && tick == null) {
                    tick = timer.schedule(this::pass, periodMs, TimeUnit.MILLISECONDS);
                }
            }
        }
        releases.forEach(Runnable::run);
    }

    @Override
    public synchronized int freeCount() {
        return free;
    }

    @Override
    public synchronized int inUse() {
        return inUse;
    }

    @Override
    public synchronized int deferredCount() {
        return deferred.size();
    }

    /** deactivate - module unload (public for tests of other modules that wire it by hand). */
    @Deactivate
    public void deactivate() {
        int n;
        synchronized (this) {
            n = deferred.size();
        }
        org.peerdma.xen.hv.DomainState st = hv.state();
        boolean dying = st != org.peerdma.xen.hv.DomainState.RUNNING && st != org.peerdma.xen.hv.DomainState.PAUSED;
        if (n > 0 && !dying) {
            LOG.warn("{} grant entries still pending at unload: leaking them", n);
        } else if (n > 0) {
            LOG.debug("{} grant entries pending: the domain is dying, its table goes with it", n);
        }
        timer.shutdownNow();
    }

    @Override
    public List<String> holders() {
        synchronized (this) {
            return inUse == 0 ? List.of() : List.of(inUse + " grant reference(s) in use");
        }
    }
}
