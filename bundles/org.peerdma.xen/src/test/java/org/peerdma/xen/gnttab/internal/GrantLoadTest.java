package org.peerdma.xen.gnttab.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/**
 * Load (issue 13): dom0 and four guests, one thread each, grant pages to each other and map, check, unmap
 * and end them for thousands of operations, with every way of ending (try-end, end_foreign_access_ref then
 * free, deferred end while still mapped), read-only and read-write grants, one table that runs out
 * (-ENOSPC at exactly its capacity) and one that grows. Each granted page carries a tag that every mapping
 * reads back (at map time and again just before unmapping), each grant counts its live mappings so a ref
 * freed while mapped is seen, a ref handed out again must show no pin, and afterwards every count is back
 * where it started.
 */
class GrantLoadTest {
    /** Grants a continuous node makes. */
    static final int QUOTA = 1200;
    /** Grants in flight at once for a continuous node. */
    static final int IN_FLIGHT = 48;
    static final long STAMP = 0x5a5a_0000_0000_5a5aL;
    static final int TAIL = Xen.PAGE_SIZE - 8;

    enum End {
        /** gnttab_try_end_foreign_access until it succeeds. */
        TRY,
        /** gnttab_end_foreign_access_ref until 1, then gnttab_free_grant_reference. */
        REF,
        /** gnttab_end_foreign_access: at once or deferred to the timer. */
        DEFERRED
    }

    /** One grant made by a node to another. */
    static final class Offer {
        final Node granter;
        final Node grantee;
        final int ref;
        final long gfn;
        final long tag;
        final boolean ro;
        final End mode;
        /** The grantee keeps it mapped until the granter made its first end attempt (which must then fail or defer). */
        final boolean hold;
        volatile boolean mapped;
        volatile boolean unmapped;
        volatile boolean endStarted;
        volatile boolean released;
        volatile boolean stamped;
        /**
         * Live mappings of this grant. Counted per grant, not per ref: a deferred end's release runs after the
         * ref is free again, when the granter may already have granted it anew and a grantee mapped that.
         */
        final AtomicInteger live = new AtomicInteger();
        // grantee side
        int handle;
        ByteBuffer mem;

        Offer(Node granter, Node grantee, int ref, long gfn, long tag, boolean ro, End mode, boolean hold) {
            this.granter = granter;
            this.grantee = grantee;
            this.ref = ref;
            this.gfn = gfn;
            this.tag = tag;
            this.ro = ro;
            this.mode = mode;
            this.hold = hold;
        }

        @Override
        public String toString() {
            return "d" + granter.id + " ref " + ref + " -> d" + grantee.id + (ro ? " ro " : " rw ") + mode
                    + (hold ? " held" : "") + " tag " + Long.toHexString(tag);
        }
    }

    final class Node implements Runnable {
        final int id;
        final Hypercalls hv;
        final GrantTableImpl gt;
        final DomainPagesImpl pages;
        final long[] pool;
        final ConcurrentLinkedDeque<Long> freeGfns = new ConcurrentLinkedDeque<>();
        final Queue<Offer> inbox = new ConcurrentLinkedQueue<>();
        final List<Offer> held = new ArrayList<>();
        final List<Offer> mine = new ArrayList<>();
        final AtomicInteger outstanding = new AtomicInteger();
        /** 0: continuous; otherwise a burst of that many grants whenever nothing is outstanding. */
        final int burst;
        final int bursts;
        final SplittableRandom rnd;
        int granted;
        int burstsDone;
        int enospc;
        int triedWhileMapped;
        int endRefZero;
        int roRefusedWritable;
        int maps;

        Node(Hypercalls hv, int burst, int bursts, int poolPages, long seed) {
            this.id = hv.domid();
            this.hv = hv;
            this.gt = new GrantTableImpl(hv, 2);
            this.pages = new DomainPagesImpl(hv);
            this.pool = pages.alloc(poolPages, "load test");
            for (long g : pool) {
                freeGfns.add(g);
            }
            this.burst = burst;
            this.bursts = bursts;
            this.rnd = new SplittableRandom(seed);
        }

        boolean grantingDone() {
            return burst == 0 ? granted >= QUOTA : burstsDone >= bursts;
        }

        @Override
        public void run() {
            try {
                boolean counted = false;
                while (true) {
                    if (!grantingDone()) {
                        grant();
                    } else if (!counted) {
                        counted = true;
                        doneGranting.incrementAndGet();
                    }
                    boolean draining = doneGranting.get() == nodes.size();
                    receive();
                    unmapSome(draining);
                    endSome();
                    if (draining && inbox.isEmpty() && held.isEmpty() && mine.isEmpty()) {
                        return;
                    }
                    if (abort) {
                        return; // another thread failed: its failure is the report
                    }
                    if (Thread.currentThread().isInterrupted()) {
                        throw new IllegalStateException("interrupted");
                    }
                    Thread.yield();
                }
            } catch (Throwable t) {
                failures.add(new AssertionError("d" + id + " thread failed", t));
                abort = true;
            }
        }

        private Node peer() {
            while (true) {
                Node n = nodes.get(rnd.nextInt(nodes.size()));
                if (n != this) {
                    return n;
                }
            }
        }

        private void grant() {
            if (burst > 0) {
                if (outstanding.get() != 0) {
                    return;
                }
                int cap = hv.maxGrantFrames() * Xen.GRANT_ENTRIES_PER_FRAME - GrantTable.NR_RESERVED_ENTRIES;
                int made = 0;
                for (int i = 0; i < burst; i++) {
                    if (!grantOne()) {
                        // nothing is freed during a burst (only this thread ends its grants): -ENOSPC exactly at capacity
                        assertThat(made).as("d%d: -ENOSPC after %d grants, capacity %d", id, made, cap).isEqualTo(cap);
                        assertThat(hv.grantEntries()).as("d%d grew to its maximum first", id)
                                .isEqualTo(hv.maxGrantFrames() * Xen.GRANT_ENTRIES_PER_FRAME);
                        assertThat(gt.freeCount()).isZero();
                        assertThat(gt.allocReferences(1)).as("alloc refused too").isNull();
                        assertThat(gt.inUse()).isEqualTo(cap);
                        enospc++;
                        break;
                    }
                    made++;
                }
                if (made < cap) {
                    assertThat(made).as("d%d: the whole burst fits", id).isEqualTo(burst);
                    int need = (made + GrantTable.NR_RESERVED_ENTRIES + Xen.GRANT_ENTRIES_PER_FRAME - 1)
                            / Xen.GRANT_ENTRIES_PER_FRAME;
                    assertThat(hv.grantEntries()).as("d%d grew a frame at a time to what %d grants need", id, made)
                            .isEqualTo(Math.max(1, need) * Xen.GRANT_ENTRIES_PER_FRAME);
                }
                burstsDone++;
                return;
            }
            if (outstanding.get() < IN_FLIGHT) {
                int n = 1 + rnd.nextInt(4);
                for (int i = 0; i < n && granted < QUOTA; i++) {
                    assertThat(grantOne()).as("d%d: a table with room refused a grant", id).isTrue();
                }
            }
        }

        /** @return false for -ENOSPC (the page goes back). */
        private boolean grantOne() {
            Long gfn = freeGfns.poll();
            assertThat(gfn).as("d%d page pool", id).isNotNull();
            Node to = peer();
            long tag = ((long) id << 48) ^ seq.incrementAndGet() << 8 ^ 0x11;
            ByteBuffer page = pages.page(gfn);
            page.putLong(0, tag);
            page.putLong(8, 0);
            page.putLong(TAIL, tag);
            boolean ro = rnd.nextInt(3) == 0;
            End mode = End.values()[rnd.nextInt(3)];
            boolean hold = rnd.nextInt(3) == 0;
            int ref = gt.grantForeignAccess(to.id, gfn, ro);
            if (ref == -Xen.ENOSPC) {
                freeGfns.push(gfn);
                return false;
            }
            assertThat(ref).as("d%d grant", id).isGreaterThanOrEqualTo(GrantTable.NR_RESERVED_ENTRIES);
            // no GTF_reading/GTF_writing left: a ref handed out again while still mapped would show them
            assertThat(hv.entryFlags(ref)).isEqualTo(Xen.GTF_permit_access | (ro ? Xen.GTF_readonly : 0));
            assertThat(hv.entryDomid(ref)).isEqualTo(to.id);
            Offer o = new Offer(this, to, ref, gfn, tag, ro, mode, hold);
            outstanding.incrementAndGet();
            totalOutstanding.incrementAndGet();
            granted++;
            grants.incrementAndGet();
            mine.add(o);
            to.inbox.add(o);
            return true;
        }

        /** As grantee: map what was offered, check it is that grant's page and the entry shows the pin. */
        private void receive() {
            for (int i = 0; i < 8; i++) {
                Offer o = inbox.poll();
                if (o == null) {
                    return;
                }
                int flags = Xen.GNTMAP_host_map | (o.ro ? Xen.GNTMAP_readonly : 0);
                if (o.ro && rnd.nextBoolean()) {
                    GrantMap w = hv.mapGrantRef(o.granter.id, o.ref, Xen.GNTMAP_host_map);
                    assertThat(w.status()).as("%s: writable map of a read-only grant", o)
                            .isEqualTo(Xen.GNTST_general_error);
                    roRefusedWritable++;
                }
                GrantMap m = hv.mapGrantRef(o.granter.id, o.ref, flags);
                assertThat(m.ok()).as("%s: map: %s", o, m.message()).isTrue();
                o.live.incrementAndGet();
                maps++;
                ByteBuffer mem = m.memory();
                assertThat(mem.getLong(0)).as("%s: the mapping shows another grant's page", o).isEqualTo(o.tag);
                assertThat(mem.getLong(TAIL)).as("%s: tail", o).isEqualTo(o.tag);
                int ef = o.granter.hv.entryFlags(o.ref);
                assertThat(ef & Xen.GTF_reading).as("%s: GTF_reading while mapped", o).isNotZero();
                if (o.ro) {
                    assertThat(mem.isReadOnly()).as("%s: a read-only mapping", o).isTrue();
                    assertThat(ef & Xen.GTF_writing).isZero();
                } else {
                    assertThat(ef & Xen.GTF_writing).as("%s: GTF_writing while mapped writable", o).isNotZero();
                    mem.putLong(8, o.tag ^ STAMP);
                    o.stamped = true;
                }
                o.handle = m.handle();
                o.mem = mem;
                held.add(o);
                o.mapped = true;
            }
        }

        private void unmapSome(boolean draining) {
            for (Iterator<Offer> it = held.iterator(); it.hasNext();) {
                Offer o = it.next();
                if (o.hold && !o.endStarted) {
                    continue;
                }
                if (!draining && rnd.nextInt(4) != 0) {
                    continue;
                }
                assertThat(o.mem.getLong(0)).as("%s: page changed under the mapping (freed and reused?)", o)
                        .isEqualTo(o.tag);
                assertThat(o.mem.getLong(TAIL)).isEqualTo(o.tag);
                o.live.decrementAndGet(); // before the unmap: the end can only succeed after it
                assertThat(hv.unmapGrantRef(o.handle)).as("%s: unmap", o).isEqualTo(Xen.GNTST_okay);
                if (rnd.nextInt(8) == 0) {
                    assertThat(hv.unmapGrantRef(o.handle)).as("%s: second unmap", o).isEqualTo(Xen.GNTST_bad_handle);
                }
                o.mem = null;
                o.unmapped = true;
                it.remove();
            }
        }

        /** As granter: end what the grantee has mapped, in the offer's way. */
        private void endSome() {
            for (Iterator<Offer> it = mine.iterator(); it.hasNext();) {
                Offer o = it.next();
                if (!o.mapped) {
                    continue;
                }
                boolean firstWhileHeld = o.hold && !o.endStarted;
                switch (o.mode) {
                    case TRY -> {
                        boolean wasUnmapped = o.unmapped; // read first: set only after the unmap returned
                        boolean ok = gt.tryEndForeignAccess(o.ref);
                        if (firstWhileHeld) {
                            assertThat(ok).as("%s: try-end while the grantee maps it", o).isFalse();
                            triedWhileMapped++;
                            o.endStarted = true;
                            continue;
                        }
                        if (!ok) {
                            assertThat(wasUnmapped).as("%s: try-end refused after the unmap", o).isFalse();
                            continue;
                        }
                        release(o, false);
                    }
                    case REF -> {
                        boolean wasUnmapped = o.unmapped;
                        int r = gt.endForeignAccessRef(o.ref);
                        if (firstWhileHeld) {
                            assertThat(r).as("%s: end_foreign_access_ref while mapped", o).isZero();
                            endRefZero++;
                            o.endStarted = true;
                            continue;
                        }
                        if (r == 0) {
                            assertThat(wasUnmapped).as("%s: end_foreign_access_ref refused after the unmap", o).isFalse();
                            continue;
                        }
                        assertThat(r).isEqualTo(1);
                        assertThat(hv.entryFlags(o.ref)).as("%s: cleared", o).isZero();
                        gt.freeReference(o.ref);
                        release(o, false);
                    }
                    case DEFERRED -> {
                        Thread me = Thread.currentThread();
                        gt.endForeignAccess(o.ref, () -> release(o, Thread.currentThread() != me));
                        if (firstWhileHeld) {
                            assertThat(o.released).as("%s: ended at once while mapped", o).isFalse();
                        }
                        o.endStarted = true;
                    }
                }
                it.remove();
            }
        }

        /** The ref is free again (or about to be): nothing may map it, the page is as granted. */
        void release(Offer o, boolean async) {
            try {
                assertThat(o.live.get()).as("%s: freed while still mapped", o).isZero();
                assertThat(o.released).as("%s: released twice", o).isFalse();
                ByteBuffer page = pages.page(o.gfn);
                assertThat(page.getLong(0)).as("%s: page after the end", o).isEqualTo(o.tag);
                if (o.stamped) {
                    assertThat(page.getLong(8)).as("%s: the grantee's write landed in the granted page", o)
                            .isEqualTo(o.tag ^ STAMP);
                }
                o.released = true;
                if (async) {
                    asyncTotal.incrementAndGet();
                }
            } catch (Throwable t) {
                failures.add(t);
                abort = true;
            } finally {
                freeGfns.add(o.gfn);
                outstanding.decrementAndGet();
                synchronized (totalOutstanding) {
                    if (totalOutstanding.decrementAndGet() == 0) {
                        totalOutstanding.notifyAll();
                    }
                }
            }
        }
    }

    private Hypervisor xen;
    private final List<Node> nodes = new ArrayList<>();
    private final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger doneGranting = new AtomicInteger();
    private volatile boolean abort;
    private final AtomicInteger totalOutstanding = new AtomicInteger();
    private final AtomicLong seq = new AtomicLong();
    private final AtomicInteger grants = new AtomicInteger();
    private final AtomicInteger asyncTotal = new AtomicInteger();

    @BeforeEach
    void boot() {
        xen = Machines.create(128 << 20, 16 << 20);
    }

    @AfterEach
    void stop() {
        nodes.forEach(n -> n.gt.deactivate());
    }

    @Test
    void domainsGrantMapAndEndConcurrentlyAndEverythingComesBack() throws Exception {
        Hypercalls d0 = xen.hypercalls(0);
        Hypercalls small = xen.hypercalls(xen.create("small", 2048, 1).domid()); // runs out: -ENOSPC
        Hypercalls grows = xen.hypercalls(xen.create("grows", 2048, 3).domid()); // grows to 2 frames
        Hypercalls g3 = xen.hypercalls(xen.create("g3", 2048, 2).domid());
        Hypercalls g4 = xen.hypercalls(xen.create("g4", 2048, 2).domid());
        long total = xen.totalFrames();
        long dom0Frames = 16 << 20 >> Xen.PAGE_SHIFT;
        nodes.add(new Node(d0, 0, 0, 512, 1));
        nodes.add(new Node(small, 600, 3, 700, 2));
        nodes.add(new Node(grows, 800, 2, 900, 3));
        nodes.add(new Node(g3, 0, 0, 256, 4));
        nodes.add(new Node(g4, 0, 0, 256, 5));
        long free0 = xen.freeFrames();
        List<String> domains0 = domains();
        int[] free0Refs = nodes.stream().mapToInt(n -> n.gt.freeCount()).toArray();
        assertThat(free0Refs).containsOnly(512 - 8);

        List<Thread> threads = new ArrayList<>();
        for (Node n : nodes) {
            Thread t = new Thread(n, "load-d" + n.id);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        for (Thread t : threads) {
            if (t.isAlive()) {
                t.interrupt();
                failures.add(new AssertionError(t.getName() + " did not finish: " + stateOf()));
            }
        }
        // deferred ends finish on the grant tables' timers
        synchronized (totalOutstanding) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (totalOutstanding.get() > 0 && !abort && System.nanoTime() < until) {
                totalOutstanding.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            }
        }
        assertThat(failures).as("failures in the domains' threads").isEmpty();
        assertThat(threads).as("threads finished").noneMatch(Thread::isAlive);
        assertThat(totalOutstanding.get()).as("grants not yet ended: " + stateOf()).isZero();

        // the load did what it should
        assertThat(grants.get()).isGreaterThan(5000);
        Node smallN = nodes.get(1);
        Node growsN = nodes.get(2);
        assertThat(smallN.enospc).as("the small table ran out in every burst").isEqualTo(3);
        assertThat(growsN.enospc).isZero();
        assertThat(grows.grantEntries()).isEqualTo(2 * Xen.GRANT_ENTRIES_PER_FRAME);
        assertThat(small.grantEntries()).isEqualTo(Xen.GRANT_ENTRIES_PER_FRAME);
        assertThat(nodes.stream().mapToInt(n -> n.triedWhileMapped).sum()).isPositive();
        assertThat(nodes.stream().mapToInt(n -> n.endRefZero).sum()).isPositive();
        assertThat(nodes.stream().mapToInt(n -> n.roRefusedWritable).sum()).isPositive();
        assertThat(asyncTotal.get()).as("deferred ends freed by the timer").isPositive();

        // everything is back
        for (Node n : nodes) {
            assertThat(n.gt.deferredCount()).as("d%d deferred", n.id).isZero();
            assertThat(n.gt.inUse()).as("d%d refs in use", n.id).isZero();
            assertThat(n.gt.freeCount()).as("d%d free refs", n.id)
                    .isEqualTo(n.hv.grantEntries() - GrantTable.NR_RESERVED_ENTRIES);
            assertThat(n.gt.holders()).isEmpty();
            assertThat(n.hv.grantHandles()).as("d%d maps nothing", n.id).isEmpty();
            for (int r = GrantTable.NR_RESERVED_ENTRIES; r < n.hv.grantEntries(); r++) {
                assertThat(n.hv.entryFlags(r)).as("d%d entry %d", n.id, r).isZero();
            }
            assertThat(n.freeGfns).hasSize(n.pool.length);
            assertThat(n.outstanding.get()).isZero();
            n.pages.free(n.pool);
            assertThat(n.pages.usedPages()).isZero();
        }
        assertThat(xen.freeFrames()).as("hypervisor free frames").isEqualTo(free0);
        assertThat(domains()).isEqualTo(domains0);
        // and when the guests go, every frame is free (no reference was leaked on any frame)
        for (Node n : nodes.subList(1, nodes.size())) {
            xen.destroy(n.id);
        }
        assertThat(xen.list()).extracting(DomainInfo::domid).containsExactly(0);
        assertThat(xen.freeFrames()).isEqualTo(total - dom0Frames);
    }

    /** Every domain's id, name, state, pages and frames held (not the grant frames: one table grew). */
    private List<String> domains() {
        return xen.list().stream().map(d -> d.domid() + " " + d.name() + " " + d.state() + " " + d.pages() + " "
                + d.framesHeld()).toList();
    }

    private String stateOf() {
        StringBuilder sb = new StringBuilder();
        for (Node n : nodes) {
            sb.append(String.format("%nd%d: granted %d, outstanding %d, inbox %d, held %d, mine %d, deferred %d", n.id,
                    n.granted, n.outstanding.get(), n.inbox.size(), n.held.size(), n.mine.size(), n.gt.deferredCount()));
        }
        return sb.toString();
    }
}
