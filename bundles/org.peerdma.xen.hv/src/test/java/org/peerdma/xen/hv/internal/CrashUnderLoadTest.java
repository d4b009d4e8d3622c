package org.peerdma.xen.hv.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.xen.hv.Xen.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.XenError;

/**
 * Fault (issue 13): a guest crashes (or is destroyed) while its own threads are still granting, mapping,
 * signalling and writing xenstore, and while dom0 and another guest hold its pages mapped. What Xen does on
 * domain destruction is checked: every call of the dying domain that starts after the crash fails with
 * ESRCH (and none fails before it); its own mappings of others' grants, its event channels and its xenstore
 * directory go at once; frames others still map stay with the zombie (never back in the free pool, never
 * handed to a new domain, their contents intact) until the last unmap, which reaps the domain; afterwards
 * every frame, port and grant entry is back where it started.
 */
class CrashUnderLoadTest {
    static final int VICTIM_PAGES = 512;
    static final int GRANTER_THREADS = 2;

    private MachineImpl xen;
    private Hypercalls dom0;
    private Hypercalls peer;
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private volatile boolean abort;

    @BeforeEach
    void boot() {
        xen = new MachineImpl(16384, 2048); // 64 MiB, dom0 8 MiB
        dom0 = xen.hypercalls(0);
        peer = xen.hypercalls(xen.create("peer", 256, 2).domid());
    }

    /**
     * A grant the victim made, as a grantee sees it; its slot (a ref and a page of one victim thread) goes
     * back to that thread only when the grantee is done with it, so a grant is never rewritten while offered.
     */
    record Offer(int ref, long gfn, long tag, boolean ro, int grantee, int slot, Queue<Integer> slots) {
        void done() {
            slots.add(slot);
        }
    }

    /** A mapping a grantee holds. */
    record Held(Offer offer, int handle, ByteBuffer mem, long mfn) {
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

    private static void joinAll(List<Thread> threads, long seconds) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
        }
        for (Thread t : threads) {
            if (t.isAlive()) {
                t.interrupt();
            }
        }
        assertThat(threads).as("threads finished in time").noneMatch(Thread::isAlive);
    }

    private static int errno(Throwable t) {
        return ((XenError) t).errno();
    }

    @Test
    void aGuestCrashesWhileGrantingAndWhileItsPagesAreMapped() throws Exception {
        kill(true);
    }

    @Test
    void aGuestIsDestroyedWhileGrantingAndWhileItsPagesAreMapped() throws Exception {
        kill(false);
    }

    private void kill(boolean crash) throws Exception {
        long total = xen.totalFrames();
        long freeBefore = xen.freeFrames();
        List<String> portsBefore = ports(dom0, peer);
        Hypercalls victim = xen.hypercalls(xen.create("victim", VICTIM_PAGES, 4).domid());
        int vid = victim.domid();
        String home = "/local/domain/" + vid;
        List<String> released = new CopyOnWriteArrayList<>();
        dom0.xsWatch("@releaseDomain", "rel", (p, t) -> released.add(p));

        // event channels: victim <-> dom0 and victim <-> peer, with handlers on both sides
        AtomicInteger survivorsGot = new AtomicInteger();
        AtomicInteger victimGot = new AtomicInteger();
        int vToD0 = victim.evtchnAllocUnbound(0);
        int d0Port = dom0.evtchnBindInterdomain(vid, vToD0);
        int vToPeer = victim.evtchnAllocUnbound(peer.domid());
        int peerPort = peer.evtchnBindInterdomain(vid, vToPeer);
        assertThat(List.of(vToD0, d0Port, vToPeer, peerPort)).allMatch(p -> p > 0);
        dom0.evtchnHandler(d0Port, p -> survivorsGot.incrementAndGet());
        peer.evtchnHandler(peerPort, p -> survivorsGot.incrementAndGet());
        victim.evtchnHandler(vToD0, p -> victimGot.incrementAndGet());
        victim.evtchnHandler(vToPeer, p -> victimGot.incrementAndGet());

        // the peer grants the victim some pages, which the victim maps (gnttab_release_mappings must drop them)
        int peerRefs = 40;
        for (int r = 8; r < 8 + peerRefs; r++) {
            peer.page(r).putLong(0, 0xbeefL << 32 | r);
            peer.writeEntry(r, GTF_permit_access | (r % 2 == 0 ? GTF_readonly : 0), vid, r);
        }

        // the victim's threads: grant, offer, map the peer's grants, signal, write xenstore -- until the crash
        Map<Integer, Queue<Offer>> inbox = Map.of(0, new ConcurrentLinkedQueue<>(), peer.domid(),
                new ConcurrentLinkedQueue<>());
        CountDownLatch warm = new CountDownLatch(400); // grants offered and mapped before the crash
        AtomicLong seq = new AtomicLong();
        AtomicInteger victimCallsAfter = new AtomicInteger();
        AtomicInteger victimEsrch = new AtomicInteger();
        AtomicInteger victimMapsOfPeer = new AtomicInteger();
        for (long g = 0; g < VICTIM_PAGES; g++) {
            mfns.put(g, victim.gfnToMfn(g));
        }
        AtomicInteger crashState = new AtomicInteger(); // 0 running, 1 being killed, 2 kill returned
        List<Thread> victimThreads = new ArrayList<>();
        int slotsPerThread = VICTIM_PAGES / GRANTER_THREADS;
        for (int t = 0; t < GRANTER_THREADS; t++) {
            int slice = t;
            Queue<Integer> slots = new ConcurrentLinkedQueue<>();
            for (int i = 0; i < slotsPerThread; i++) {
                slots.add(i);
            }
            victimThreads.add(thread("victim-" + t, () -> {
                SplittableRandom rnd = new SplittableRandom(slice);
                List<GrantMap> mine = new ArrayList<>();
                // refs 8 + slice*1000 + slot (the table grows to 2048 entries), pages slice*256 + slot
                int refBase = 8 + slice * 1000;
                long gfnBase = (long) slice * slotsPerThread;
                while (!abort) {
                    int before = crashState.get();
                    try {
                        int op = rnd.nextInt(10);
                        Integer slot = op < 6 ? slots.poll() : null;
                        if (slot != null) {
                            int ref = refBase + slot;
                            long gfn = gfnBase + slot;
                            boolean ro = rnd.nextBoolean();
                            int to = rnd.nextBoolean() ? 0 : peer.domid();
                            long tag = (long) vid << 48 | seq.incrementAndGet();
                            victim.page(gfn).putLong(0, tag);
                            if (ref >= victim.grantEntries()) {
                                assertThat(victim.setupTable(ref / GRANT_ENTRIES_PER_FRAME + 1)).isEqualTo(GNTST_okay);
                            }
                            victim.writeEntry(ref, GTF_permit_access | (ro ? GTF_readonly : 0), to, gfn);
                            inbox.get(to).add(new Offer(ref, gfn, tag, ro, to, slot, slots));
                        } else if (op < 8) {
                            int r = 8 + rnd.nextInt(peerRefs);
                            GrantMap m = victim.mapGrantRef(peer.domid(), r, GNTMAP_host_map | GNTMAP_readonly);
                            assertThat(m.ok()).as("victim maps peer ref %d: %s", r, m.message()).isTrue();
                            assertThat(m.memory().getLong(0)).isEqualTo(0xbeefL << 32 | r);
                            victimMapsOfPeer.incrementAndGet();
                            if (mine.size() > 20) {
                                assertThat(victim.unmapGrantRef(mine.remove(0).handle())).isEqualTo(GNTST_okay);
                            }
                            mine.add(m);
                        } else if (op < 9) {
                            assertThat(victim.evtchnSend(rnd.nextBoolean() ? vToD0 : vToPeer)).isZero();
                        } else {
                            victim.xsWrite(home + "/data/" + slice, Long.toString(seq.get()));
                        }
                        if (before == 2) {
                            victimCallsAfter.incrementAndGet(); // a call that began after the kill returned succeeded
                        }
                    } catch (XenError e) {
                        assertThat(e.errno()).as("victim call failed: %s", e.getMessage()).isEqualTo(ESRCH);
                        assertThat(crashState.get()).as("ESRCH before the kill began").isPositive();
                        victimEsrch.incrementAndGet();
                        return;
                    }
                }
            }));
        }

        // grantees: map what the victim offers, check the tag, hold some; keep going after the crash
        Map<Integer, List<Held>> holds = new ConcurrentHashMap<>();
        Map<Integer, AtomicInteger> badDomainAfter = new ConcurrentHashMap<>();
        CountDownLatch granteesStop = new CountDownLatch(1);
        List<Thread> granteeThreads = new ArrayList<>();
        for (Hypercalls g : List.of(dom0, peer)) {
            List<Held> held = new ArrayList<>();
            holds.put(g.domid(), held);
            AtomicInteger bad = new AtomicInteger();
            badDomainAfter.put(g.domid(), bad);
            granteeThreads.add(thread("grantee-d" + g.domid(), () -> {
                SplittableRandom rnd = new SplittableRandom(g.domid() + 100);
                Queue<Offer> q = inbox.get(g.domid());
                while (!abort) {
                    Offer o = q.poll();
                    if (o == null) {
                        if (granteesStop.getCount() == 0) {
                            return;
                        }
                        Thread.yield();
                        continue;
                    }
                    int before = crashState.get();
                    GrantMap m = g.mapGrantRef(vid, o.ref(), GNTMAP_host_map | (o.ro() ? GNTMAP_readonly : 0));
                    if (!m.ok()) {
                        // only a dying granter refuses: bad_domain
                        assertThat(m.status()).as("map %s: %s", o, m.message()).isEqualTo(GNTST_bad_domain);
                        assertThat(crashState.get()).as("bad_domain before the kill began").isPositive();
                        bad.incrementAndGet();
                        o.done();
                        continue;
                    }
                    if (before == 2) {
                        throw new AssertionError("mapped a grant of the killed domain: " + o);
                    }
                    assertThat(m.memory().getLong(0)).as("%s: tag", o).isEqualTo(o.tag());
                    Held h = new Held(o, m.handle(), m.memory(), mfns.get(o.gfn()));
                    held.add(h);
                    // keep 8 to 24 mapped, unmapping a random one; some stay mapped across the crash
                    if (held.size() > 8 + rnd.nextInt(17)) {
                        Held old = held.remove(rnd.nextInt(held.size()));
                        assertThat(old.mem().getLong(0)).as("%s: page changed while mapped", old.offer())
                                .isEqualTo(old.offer().tag());
                        assertThat(g.unmapGrantRef(old.handle())).isEqualTo(GNTST_okay);
                        old.offer().done();
                    }
                    warm.countDown();
                }
            }));
        }
        victimThreads.forEach(Thread::start);
        granteeThreads.forEach(Thread::start);
        assertThat(warm.await(30, TimeUnit.SECONDS)).as("warm-up: grants mapped before the crash").isTrue();
        assertThat(failures).isEmpty();

        crashState.set(1);
        if (crash) {
            xen.crash(vid);
        } else {
            xen.destroy(vid);
        }
        crashState.set(2);
        joinAll(victimThreads, 20);
        // the grantees drain what was offered (every map now bad_domain), then stop
        granteesStop.countDown();
        joinAll(granteeThreads, 20);
        assertThat(failures).as("thread failures").isEmpty();
        assertThat(victimEsrch.get()).as("every victim thread stopped on ESRCH").isEqualTo(GRANTER_THREADS);
        assertThat(victimCallsAfter.get()).as("victim calls that started after the kill and succeeded").isZero();
        assertThat(victimMapsOfPeer.get()).isPositive();

        // the zombie: only the frames others map are held
        Set<Long> heldMfns = new HashSet<>();
        int mappings = 0;
        for (List<Held> hs : holds.values()) {
            for (Held h : hs) {
                heldMfns.add(h.mfn());
                mappings++;
            }
        }
        assertThat(mappings).as("mappings across the crash").isPositive();
        assertThat(xen.info(vid)).as("a zombie while others map its frames").isPresent();
        DomainInfo zombie = xen.info(vid).orElseThrow();
        assertThat(zombie.state()).isEqualTo(crash ? DomainState.CRASHED : DomainState.DYING);
        assertThat(zombie.framesHeld()).as("frames held = frames still mapped").isEqualTo(heldMfns.size());
        assertThat(xen.freeFrames()).as("the rest is free").isEqualTo(freeBefore - heldMfns.size());
        assertThat(xen.list()).extracting(DomainInfo::domid).contains(vid);
        // the victim's calls all fail with ESRCH; so does looking it up
        assertThatThrownBy(() -> xen.hypercalls(vid)).satisfies(e -> assertThat(errno(e)).isEqualTo(ESRCH));
        assertEsrchEverywhere(victim);
        assertThatThrownBy(() -> xen.destroy(vid)).as("already dying").satisfies(e -> assertThat(errno(e)).isEqualTo(ESRCH));
        // its own mappings of the peer's grants went with it (gnttab_release_mappings)
        for (int r = 8; r < 8 + peerRefs; r++) {
            assertThat(peer.entryFlags(r) & (GTF_reading | GTF_writing)).as("peer ref %d still pinned", r).isZero();
            assertThat(peer.clearEntry(r)).isTrue();
        }
        // its event channels went: the survivors' ends are unbound, pointing at it; sends go nowhere
        assertThat(dom0.evtchnStatus(d0Port)).isEqualTo("unbound(" + vid + ")");
        assertThat(peer.evtchnStatus(peerPort)).isEqualTo("unbound(" + vid + ")");
        assertThat(dom0.evtchnSend(d0Port)).isZero();
        assertThat(dom0.evtchnBindInterdomain(vid, vToD0)).as("bind to a dying domain").isEqualTo(-ESRCH);
        assertThat(dom0.evtchnAllocUnbound(vid)).isEqualTo(-ESRCH);
        // its xenstore directory went and @releaseDomain fired
        assertThatThrownBy(() -> dom0.xsRead(home + "/name")).satisfies(e -> assertThat(errno(e)).isEqualTo(ENOENT));
        xen.drainEvents();
        assertThat(released).contains("@releaseDomain");
        int victimGotAtKill = victimGot.get();

        // no frame still mapped went back to the pool: a new domain gets every free frame and none of those
        Hypercalls filler = xen.hypercalls(xen.create("filler", xen.freeFrames(), 1).domid());
        assertThat(xen.freeFrames()).isZero();
        for (long g = 0; g < filler.nrPages(); g++) {
            assertThat(heldMfns).as("frame handed out while mapped").doesNotContain(filler.gfnToMfn(g));
            ByteBuffer p = filler.page(g);
            for (int off = 0; off < PAGE_SIZE; off += 8) {
                p.putLong(off, -1L);
            }
        }
        for (List<Held> hs : holds.values()) {
            for (Held h : hs) {
                assertThat(h.mem().getLong(0)).as("%s: the mapped page survived the crash", h.offer())
                        .isEqualTo(h.offer().tag());
            }
        }
        xen.destroy(filler.domid());
        assertThat(xen.freeFrames()).isEqualTo(freeBefore - heldMfns.size());

        // the survivors let go concurrently; the last unmap reaps the zombie
        List<Thread> unmappers = new ArrayList<>();
        for (Hypercalls g : List.of(dom0, peer)) {
            unmappers.add(thread("unmap-d" + g.domid(), () -> {
                for (Held h : holds.get(g.domid())) {
                    assertThat(g.unmapGrantRef(h.handle())).isEqualTo(GNTST_okay);
                    assertThat(g.unmapGrantRef(h.handle())).isEqualTo(GNTST_bad_handle);
                }
            }));
        }
        unmappers.forEach(Thread::start);
        joinAll(unmappers, 20);
        assertThat(failures).isEmpty();
        assertThat(xen.info(vid)).as("dead once the last mapping went").isEmpty();
        assertThat(xen.freeFrames()).as("all the victim's frames are back").isEqualTo(freeBefore);
        assertThat(dom0.grantHandles()).isEmpty();
        assertThat(peer.grantHandles()).isEmpty();
        xen.drainEvents();
        assertThat(victimGot.get()).as("no upcall ran in the dead domain after the kill").isEqualTo(victimGotAtKill);
        assertThat(survivorsGot.get()).isPositive();

        // the survivors close their ends: every port, entry and frame as at the start
        assertThat(dom0.evtchnClose(d0Port)).isZero();
        assertThat(peer.evtchnClose(peerPort)).isZero();
        assertThat(ports(dom0, peer)).isEqualTo(portsBefore);
        for (int r = 0; r < peer.grantEntries(); r++) {
            assertThat(peer.entryFlags(r)).isZero();
        }
        xen.destroy(peer.domid());
        assertThat(xen.list()).extracting(DomainInfo::domid).containsExactly(0);
        assertThat(xen.freeFrames()).isEqualTo(total - 2048);
    }

    /** The frame each victim gfn is on (recorded before the crash; afterwards the victim cannot be asked). */
    private final Map<Long, Long> mfns = new ConcurrentHashMap<>();

    private static List<String> ports(Hypercalls... ds) {
        List<String> out = new ArrayList<>();
        for (Hypercalls d : ds) {
            for (int p = 1; p < 64; p++) {
                out.add(d.domid() + ":" + p + "=" + d.evtchnStatus(p));
            }
        }
        return out;
    }

    /** Every hypercall of a dying domain fails with ESRCH. */
    private static void assertEsrchEverywhere(Hypercalls v) {
        List<Supplier<Object>> calls = List.of(() -> v.page(0), () -> v.gfnToMfn(0), () -> {
            v.writeEntry(8, GTF_permit_access, 0, 0);
            return null;
        }, () -> v.setupTable(2), () -> v.mapGrantRef(0, 8, GNTMAP_host_map), () -> v.unmapGrantRef(0),
                () -> v.evtchnAllocUnbound(0), () -> v.evtchnBindInterdomain(0, 1), () -> v.evtchnSend(1),
                () -> v.evtchnClose(1), () -> v.evtchnHandler(1, p -> { }), () -> v.xsRead("/local/domain/0"),
                () -> {
                    v.xsWrite("/local/domain/" + v.domid() + "/x", "1");
                    return null;
                }, () -> v.xsDirectory("/local"), () -> v.xsWatch("/local", "t", (p, t) -> { }),
                () -> v.shmemAttach("none"));
        for (int i = 0; i < calls.size(); i++) {
            Supplier<Object> c = calls.get(i);
            assertThatThrownBy(c::get).as("call %d of the dying domain", i).isInstanceOf(XenError.class)
                    .satisfies(e -> assertThat(errno(e)).isEqualTo(ESRCH));
        }
    }
}
