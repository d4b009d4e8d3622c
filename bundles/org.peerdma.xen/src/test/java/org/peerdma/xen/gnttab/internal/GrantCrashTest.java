package org.peerdma.xen.gnttab.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/**
 * Fault (issue 13), the grant driver's view: a guest crashes while its threads are in gnttab calls (granting
 * to dom0, ending grants dom0 still maps, mapping dom0's grants), and while dom0 has deferred ends queued
 * for grants the guest maps. The guest's calls that need the hypervisor fail with ESRCH and take nothing
 * (no ref leaks out of a failed grant); dom0's deferred ends complete once the crash has released the
 * guest's mappings; dom0's mappings of the guest's pages keep them until unmapped; at the end dom0's table,
 * the machine's frames and the domain list are as before.
 */
class GrantCrashTest {
    private Hypervisor xen;
    private Hypercalls d0;
    private GrantTableImpl d0Gt;
    private DomainPagesImpl d0Pages;
    private final List<GrantTableImpl> tables = new ArrayList<>();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private volatile boolean abort;

    @BeforeEach
    void boot() {
        xen = Machines.create(64 << 20, 16 << 20);
        d0 = xen.hypercalls(0);
        d0Gt = table(d0);
        d0Pages = new DomainPagesImpl(d0);
    }

    @AfterEach
    void stop() {
        tables.forEach(GrantTableImpl::deactivate);
    }

    private GrantTableImpl table(Hypercalls hv) {
        GrantTableImpl t = new GrantTableImpl(hv, 2);
        tables.add(t);
        return t;
    }

    /** A grant one side offers the other; the grantee sets mapped, then unmapped. */
    static final class Offer {
        final int ref;
        final long gfn;
        final long tag;
        final boolean ro;
        volatile boolean mapped;
        volatile boolean unmapped;
        volatile boolean ended;

        Offer(int ref, long gfn, long tag, boolean ro) {
            this.ref = ref;
            this.gfn = gfn;
            this.tag = tag;
            this.ro = ro;
        }
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

    private static void joinAll(List<Thread> ts, long seconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Thread t : ts) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
        }
        ts.stream().filter(Thread::isAlive).forEach(Thread::interrupt);
        assertThat(ts).as("threads finished in time").noneMatch(Thread::isAlive);
    }

    @Test
    void aGuestCrashesInTheMiddleOfGrantingAndDom0sDeferredEndsStillComplete() throws Exception {
        long free0 = xen.freeFrames();
        int d0Free0 = d0Gt.freeCount();
        Hypercalls v = xen.hypercalls(xen.create("victim", 1024, 2).domid());
        int vid = v.domid();
        GrantTableImpl vGt = table(v);
        DomainPagesImpl vPages = new DomainPagesImpl(v);
        long[] vPool = vPages.alloc(400, "victim pool");
        long[] d0Pool = d0Pages.alloc(200, "dom0 pool");
        Queue<Long> vFree = new ConcurrentLinkedQueue<>();
        for (long g : vPool) {
            vFree.add(g);
        }
        AtomicLong seq = new AtomicLong();
        AtomicInteger crashState = new AtomicInteger(); // 0 running, 1 being crashed, 2 crash returned
        AtomicInteger victimGranted = new AtomicInteger();
        AtomicInteger victimEnded = new AtomicInteger();
        AtomicInteger victimReleased = new AtomicInteger();
        AtomicInteger victimEsrch = new AtomicInteger();
        Queue<Offer> toDom0 = new ConcurrentLinkedQueue<>(); // victim -> dom0
        Queue<Offer> toVictim = new ConcurrentLinkedQueue<>(); // dom0 -> victim
        CountDownLatch dom0Mapped = new CountDownLatch(300); // victim grants dom0 mapped
        CountDownLatch dom0EndedMapped = new CountDownLatch(10); // dom0 grants the victim maps, ended by dom0

        // the victim: two threads granting to dom0 and ending what dom0 mapped, one mapping dom0's grants
        List<Thread> victim = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int seed = t;
            victim.add(thread("victim-granter-" + t, () -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                List<Offer> mine = new ArrayList<>();
                while (!abort) {
                    int before = crashState.get();
                    try {
                        Long gfn = mine.size() < 40 ? vFree.poll() : null;
                        if (gfn != null) {
                            long tag = (long) vid << 48 | seq.incrementAndGet();
                            v.page(gfn).putLong(0, tag);
                            boolean ro = rnd.nextBoolean();
                            int ref = vGt.grantForeignAccess(0, gfn, ro);
                            assertThat(ref).as("victim grant").isGreaterThanOrEqualTo(GrantTable.NR_RESERVED_ENTRIES);
                            victimGranted.incrementAndGet();
                            Offer o = new Offer(ref, gfn, tag, ro);
                            mine.add(o);
                            toDom0.add(o);
                        } else {
                            v.xsRead("/local/domain/" + vid + "/name"); // a hypercall every round
                        }
                        assertThat(before).as("a call that started after the crash succeeded").isLessThan(2);
                        for (int i = 0; i < mine.size(); i++) {
                            Offer o = mine.get(i);
                            if (o.mapped && rnd.nextInt(3) == 0) {
                                // deferred while dom0 still maps it; the release gives the page back
                                o.ended = true;
                                victimEnded.incrementAndGet();
                                vGt.endForeignAccess(o.ref, () -> {
                                    vFree.add(o.gfn);
                                    synchronized (victimReleased) {
                                        victimReleased.incrementAndGet();
                                        victimReleased.notifyAll();
                                    }
                                });
                                mine.remove(i--);
                            }
                        }
                    } catch (XenError e) {
                        assertThat(e.errno()).as(e.getMessage()).isEqualTo(Xen.ESRCH);
                        assertThat(crashState.get()).as("ESRCH before the crash").isPositive();
                        victimEsrch.incrementAndGet();
                        return;
                    }
                    Thread.yield();
                }
            }));
        }
        victim.add(thread("victim-mapper", () -> {
            List<GrantMap> held = new ArrayList<>();
            while (!abort) {
                int before = crashState.get();
                try {
                    Offer o = toVictim.poll();
                    if (o != null) {
                        GrantMap m = v.mapGrantRef(0, o.ref, Xen.GNTMAP_host_map | (o.ro ? Xen.GNTMAP_readonly : 0));
                        assertThat(m.ok()).as("victim maps dom0 ref %d: %s", o.ref, m.message()).isTrue();
                        assertThat(m.memory().getLong(0)).isEqualTo(o.tag);
                        o.mapped = true;
                        held.add(m); // held until the crash: gnttab_release_mappings must drop them
                    } else {
                        v.xsRead("/local/domain/" + vid + "/name");
                    }
                    assertThat(before).as("a call that started after the crash succeeded").isLessThan(2);
                } catch (XenError e) {
                    assertThat(e.errno()).isEqualTo(Xen.ESRCH);
                    assertThat(crashState.get()).isPositive();
                    victimEsrch.incrementAndGet();
                    return;
                }
                Thread.yield();
            }
        }));

        // dom0: maps the victim's grants (holding many across the crash), grants its own pages to the victim
        // and ends each with gnttab_end_foreign_access once the victim mapped it (deferred: the victim holds)
        List<GrantMap> d0Held = new ArrayList<>();
        List<Offer> d0HeldOffers = new ArrayList<>();
        AtomicInteger d0Outstanding = new AtomicInteger();
        CountDownLatch d0Stop = new CountDownLatch(1);
        Thread dom0 = thread("dom0", () -> {
            SplittableRandom rnd = new SplittableRandom(7);
            Queue<Long> free = new ConcurrentLinkedQueue<>(); // pages come back when their grant is ended
            for (long g : d0Pool) {
                free.add(g);
            }
            List<Offer> mine = new ArrayList<>();
            while (!abort) {
                Offer o = toDom0.poll();
                if (o != null) {
                    GrantMap m = d0.mapGrantRef(vid, o.ref, Xen.GNTMAP_host_map | (o.ro ? Xen.GNTMAP_readonly : 0));
                    if (m.ok()) {
                        assertThat(m.memory().getLong(0)).as("the victim's page").isEqualTo(o.tag);
                        o.mapped = true;
                        d0Held.add(m);
                        d0HeldOffers.add(o);
                        dom0Mapped.countDown();
                        if (d0Held.size() > 30 && rnd.nextBoolean()) {
                            int i = rnd.nextInt(d0Held.size());
                            assertThat(d0Held.get(i).memory().getLong(0)).isEqualTo(d0HeldOffers.get(i).tag);
                            assertThat(d0.unmapGrantRef(d0Held.remove(i).handle())).isEqualTo(Xen.GNTST_okay);
                            d0HeldOffers.remove(i).unmapped = true;
                        }
                    } else {
                        assertThat(m.status()).as(m.message()).isEqualTo(Xen.GNTST_bad_domain);
                        assertThat(crashState.get()).isPositive();
                    }
                } else if (d0Stop.getCount() == 0) {
                    break;
                }
                // the victim holds what it maps until it dies, so dom0's ends wait: keep that backlog bounded
                if (crashState.get() == 0 && mine.size() < 30 && !free.isEmpty() && d0Gt.deferredCount() < 150) {
                    long gfn = free.poll();
                    long tag = 0xd0L << 48 | seq.incrementAndGet();
                    d0.page(gfn).putLong(0, tag);
                    boolean ro = rnd.nextBoolean();
                    int ref = d0Gt.grantForeignAccess(vid, gfn, ro);
                    assertThat(ref).isGreaterThanOrEqualTo(GrantTable.NR_RESERVED_ENTRIES);
                    d0Outstanding.incrementAndGet();
                    Offer g = new Offer(ref, gfn, tag, ro);
                    mine.add(g);
                    toVictim.add(g);
                }
                for (int i = 0; i < mine.size(); i++) {
                    Offer g = mine.get(i);
                    if (g.mapped) {
                        d0Gt.endForeignAccess(g.ref, () -> {
                            free.add(g.gfn);
                            synchronized (d0Outstanding) {
                                d0Outstanding.decrementAndGet();
                                d0Outstanding.notifyAll();
                            }
                        });
                        if (crashState.get() == 0) {
                            dom0EndedMapped.countDown();
                        }
                        mine.remove(i--);
                    }
                }
                Thread.yield();
            }
            // what was offered to the victim and never mapped: try-end at once
            for (Offer g : mine) {
                assertThat(d0Gt.tryEndForeignAccess(g.ref)).as("never mapped").isTrue();
                d0Outstanding.decrementAndGet();
            }
        });

        victim.forEach(Thread::start);
        dom0.start();
        assertThat(dom0Mapped.await(30, TimeUnit.SECONDS)).as("warm-up: dom0 maps the victim's grants").isTrue();
        assertThat(dom0EndedMapped.await(30, TimeUnit.SECONDS)).as("warm-up: dom0 ends grants the victim maps")
                .isTrue();
        assertThat(failures).isEmpty();
        // the victim never unmaps before it dies: every end dom0 made so far waits in the deferred queue
        assertThat(d0Gt.deferredCount()).isGreaterThanOrEqualTo(10);
        crashState.set(1);
        xen.crash(vid);
        crashState.set(2);
        joinAll(victim, 20);
        d0Stop.countDown();
        joinAll(List.of(dom0), 20);
        assertThat(failures).as("thread failures").isEmpty();
        assertThat(victimEsrch.get()).as("each victim thread stopped on ESRCH").isEqualTo(3);

        // dom0's deferred ends complete: the crash released the victim's mappings of dom0's pages
        synchronized (d0Outstanding) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (d0Outstanding.get() > 0 && System.nanoTime() < until) {
                d0Outstanding.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            }
        }
        assertThat(d0Outstanding.get()).isZero();
        assertThat(d0Gt.deferredCount()).isZero();
        assertThat(d0Gt.inUse()).isZero();

        // the victim's table: ends of grants dom0 no longer maps finish on its timer; the rest stay queued
        long stillMappedEnded = d0HeldOffers.stream().filter(o -> o.ended).count();
        synchronized (victimReleased) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (victimEnded.get() - victimReleased.get() != stillMappedEnded && System.nanoTime() < until) {
                victimReleased.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            }
        }
        assertThat(vGt.deferredCount()).isEqualTo(stillMappedEnded);
        // ... and its refs in use are exactly the ones its threads hold: a grant that failed took nothing
        assertThat(vGt.inUse()).as("refs in use = granted - released")
                .isEqualTo(victimGranted.get() - victimReleased.get());
        // the victim's kernel, still running code after the crash: a call needing the hypervisor fails, takes nothing
        int inUse = vGt.inUse();
        int free = vGt.freeCount();
        assertThatThrownBy(() -> vGt.grantForeignAccess(0, vPool[0], false)).isInstanceOf(XenError.class)
                .satisfies(e -> assertThat(((XenError) e).errno()).isEqualTo(Xen.ESRCH));
        assertThat(vGt.inUse()).as("a failed grant takes no ref").isEqualTo(inUse);
        assertThat(vGt.freeCount()).isEqualTo(free);

        // dom0 still maps some of the victim's pages: the zombie holds just those, their contents intact
        assertThat(d0Held).as("mapped across the crash").isNotEmpty();
        DomainInfo z = xen.info(vid).orElseThrow();
        assertThat(z.state()).isEqualTo(DomainState.CRASHED);
        assertThat(z.framesHeld()).isEqualTo(d0Held.size());
        for (int i = 0; i < d0Held.size(); i++) {
            assertThat(d0Held.get(i).memory().getLong(0)).isEqualTo(d0HeldOffers.get(i).tag);
        }
        // the framework goes (xl crash tears it down after the kill): the timer stops, the table goes with it
        vGt.deactivate();
        tables.remove(vGt);
        for (GrantMap m : d0Held) {
            assertThat(d0.unmapGrantRef(m.handle())).isEqualTo(Xen.GNTST_okay);
        }
        assertThat(xen.info(vid)).as("reaped at the last unmap").isEmpty();
        assertThat(d0.grantHandles()).isEmpty();
        d0Pages.free(d0Pool);
        assertThat(d0Pages.usedPages()).isZero();
        assertThat(d0Gt.freeCount()).as("every dom0 ref free (the table may have grown)")
                .isEqualTo(d0.grantEntries() - GrantTable.NR_RESERVED_ENTRIES);
        assertThat(d0.grantEntries()).isEqualTo(d0Free0 + GrantTable.NR_RESERVED_ENTRIES);
        for (int r = GrantTable.NR_RESERVED_ENTRIES; r < d0.grantEntries(); r++) {
            assertThat(d0.entryFlags(r)).as("dom0 entry %d", r).isZero();
        }
        assertThat(xen.list()).extracting(DomainInfo::domid).containsExactly(0);
        assertThat(xen.freeFrames()).isEqualTo(free0);
    }
}
