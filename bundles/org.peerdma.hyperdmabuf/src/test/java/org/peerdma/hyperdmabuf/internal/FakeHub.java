package org.peerdma.hyperdmabuf.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import org.peerdma.hyperdmabuf.spi.HyperDmabufBackend;
import org.peerdma.hyperdmabuf.spi.Message;

/**
 * A hypervisor transport for the front end's unit tests: channels between domains, delivery of
 * messages on the receiving domain's own event thread (as a Xen event channel upcall), shares of
 * pages by page frame number with a limited number of grants, and the importer's mappings of the
 * exporter's very pages (no copy). Every backend of one hub talks only to the backends of that hub,
 * so two hubs are two independent backends a front end can switch between.
 */
public final class FakeHub {
    static final int EINVAL = -22;
    static final int ENOENT = -2;
    static final int ENOSPC = -28;
    static final int ENOTCONN = -107;
    static final int ESRCH = -3;
    static final int ETIMEDOUT = -110;
    static final int PAGE = 4096;

    /** A domain's RAM: pages by page frame number. */
    public static final class Memory {
        private final Map<Long, ByteBuffer> pages = new ConcurrentHashMap<>();
        private final AtomicInteger next = new AtomicInteger(0x100);

        /** @return the frame numbers of {@code n} fresh pages. */
        public long[] allocate(int n) {
            long[] pfns = new long[n];
            for (int i = 0; i < n; i++) {
                pfns[i] = next.getAndIncrement();
                pages.put(pfns[i], ByteBuffer.allocate(PAGE));
            }
            return pfns;
        }

        public ByteBuffer page(long pfn) {
            ByteBuffer b = pages.get(pfn);
            if (b == null) {
                throw new IllegalStateException("no page frame " + pfn);
            }
            return b;
        }
    }

    final String name;
    private final Map<Integer, Backend> domains = new ConcurrentHashMap<>();

    public FakeHub(String name) {
        this.name = name;
    }

    public Backend backend(int domid, Memory mem) {
        Backend b = new Backend(domid, mem);
        domains.put(domid, b);
        return b;
    }

    /**
     * kill - the domain dies: its backend stops answering, every other domain's backend tears down
     * its channels to it and tells its front end (peerGone), waiting until each has done so.
     */
    public void kill(int domid) throws Exception {
        Backend dead = domains.remove(domid);
        dead.dead = true;
        for (Runnable m : dead.live) { // its grant mappings went with it
            m.run();
        }
        for (Backend b : domains.values()) {
            b.tx.remove(domid);
            b.rx.remove(domid);
            HyperDmabufBackend.Receiver r = b.receiver;
            if (r != null) {
                b.events.submit(() -> r.peerGone(domid)).get(10, TimeUnit.SECONDS);
            }
        }
        dead.events.shutdownNow();
    }

    /** One domain's backend. */
    public final class Backend implements HyperDmabufBackend {
        final int domid;
        final Memory mem;
        volatile Receiver receiver;
        volatile boolean dead;
        final Set<Integer> tx = ConcurrentHashMap.newKeySet();
        final Set<Integer> rx = ConcurrentHashMap.newKeySet();
        final ExecutorService events;
        final Map<Integer, Share> shares = new ConcurrentHashMap<>();
        private final AtomicInteger refs = new AtomicInteger(1);
        /** Grants in use: the pages shared plus one top-level reference per share. */
        final AtomicInteger granted = new AtomicInteger();
        /** Pages of other domains this domain maps now. */
        final AtomicInteger mapped = new AtomicInteger();
        /** How many grants this domain's table has. */
        volatile int grantLimit = 1 << 20;
        /** When set, map fails with this error (e.g. a full maptrack table). */
        volatile int failMap;
        /** When set, runs in share() before anything is shared (a test holds an export there). */
        volatile Runnable inShare;
        /** When set, runs in map() before anything is mapped. */
        volatile Runnable inMap;
        /** Every message this domain received, in order, as it answered it. */
        final List<Message> received = new CopyOnWriteArrayList<>();
        final AtomicInteger binds = new AtomicInteger();
        /** Forced unmaps of this domain's live mappings, for when it dies. */
        final Set<Runnable> live = ConcurrentHashMap.newKeySet();
        private final ThreadLocal<Integer> lastError = ThreadLocal.withInitial(() -> 0);

        Backend(int domid, Memory mem) {
            this.domid = domid;
            this.mem = mem;
            this.events = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name + "-d" + domid + "-events");
                t.setDaemon(true);
                return t;
            });
        }

        @Override
        public int domid() {
            return domid;
        }

        @Override
        public void bind(Receiver r) {
            binds.incrementAndGet();
            receiver = r;
        }

        @Override
        public void unbind() {
            receiver = null;
            tx.clear();
            rx.clear();
        }

        @Override
        public int initTx(int remote) {
            if (!domains.containsKey(remote)) {
                return ENOENT;
            }
            tx.add(remote);
            return 0;
        }

        @Override
        public int initRx(int source) {
            Backend s = domains.get(source);
            if (s == null || !s.tx.contains(domid)) {
                return ENOENT; // the source has not set up its side (no ring published)
            }
            rx.add(source);
            return 0;
        }

        @Override
        public boolean txReady(int remote) {
            return tx.contains(remote);
        }

        @Override
        public int send(int remote, Message req, boolean wait) {
            if (!tx.contains(remote)) {
                return EINVAL;
            }
            Backend r = domains.get(remote);
            if (r == null || r.dead) {
                return ESRCH;
            }
            Receiver rc = r.receiver;
            if (rc == null || !r.rx.contains(domid)) {
                return ENOTCONN;
            }
            Message copy = req.copy();
            Future<?> f;
            try {
                f = r.events.submit(() -> {
                    rc.parse(domid, copy);
                    r.received.add(copy.copy());
                });
            } catch (java.util.concurrent.RejectedExecutionException gone) {
                return ESRCH;
            }
            if (!wait) {
                return 0;
            }
            try {
                f.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                return ETIMEDOUT;
            } catch (Exception e) {
                throw new IllegalStateException("the receiver failed on " + copy, e);
            }
            req.stat = copy.stat;
            return 0;
        }

        /**
         * deliver - a message from {@code source} as this domain's backend would hand it over (on the
         * event thread), for requests a real front end would never send. Return: the answer (stat).
         */
        int deliver(int source, Message m) throws Exception {
            Receiver rc = receiver;
            events.submit(() -> rc.parse(source, m)).get(10, TimeUnit.SECONDS);
            return m.stat;
        }

        @Override
        public Shared share(int remote, long[] pfns) {
            Runnable hook = inShare;
            if (hook != null) {
                hook.run();
            }
            int need = pfns.length + 1;
            while (true) {
                int now = granted.get();
                if (now + need > grantLimit) {
                    lastError.set(ENOSPC);
                    return null; // nothing stays granted
                }
                if (granted.compareAndSet(now, now + need)) {
                    break;
                }
            }
            for (long p : pfns) {
                mem.page(p); // the frames must be this domain's
            }
            Share s = new Share(refs.getAndIncrement(), remote, pfns.clone());
            shares.put(s.ref, s);
            return s;
        }

        @Override
        public Mapped map(int source, int topRef, int nents) {
            Runnable hook = inMap;
            if (hook != null) {
                hook.run();
            }
            if (failMap != 0) {
                lastError.set(failMap);
                return null;
            }
            Backend s = domains.get(source);
            Share sh = s == null ? null : s.shares.get(topRef);
            if (sh == null || sh.remote != domid || sh.pfns.length != nents || nents <= 0) {
                lastError.set(EINVAL);
                return null;
            }
            return sh.mapBy(this);
        }

        @Override
        public int lastError() {
            return lastError.get();
        }

        @Override
        public String status() {
            return name + ": d" + domid + " tx " + new java.util.TreeSet<>(tx) + " rx " + new java.util.TreeSet<>(rx)
                    + ", " + shares.size() + " shares, " + granted.get() + " grants, " + mapped.get() + " pages mapped";
        }

        /** One share: the pages behind a top-level reference, ended once unshared and unmapped by the importer. */
        final class Share implements Shared {
            final int ref;
            final int remote;
            final long[] pfns;
            int mappings;
            boolean unshared;

            Share(int ref, int remote, long[] pfns) {
                this.ref = ref;
                this.remote = remote;
                this.pfns = pfns;
            }

            @Override
            public int topRef() {
                return ref;
            }

            @Override
            public synchronized void unshare() {
                if (unshared) {
                    throw new IllegalStateException("share " + ref + " unshared twice");
                }
                unshared = true;
                shares.remove(ref);
                endIfDone();
            }

            private void endIfDone() {
                if (unshared && mappings == 0) {
                    granted.addAndGet(-(pfns.length + 1)); // refs still mapped are ended when unmapped
                }
            }

            synchronized Mapped mapBy(Backend importer) {
                mappings++;
                importer.mapped.addAndGet(pfns.length);
                List<ByteBuffer> pages = new ArrayList<>();
                for (long p : pfns) {
                    pages.add(mem.page(p));
                }
                boolean[] done = new boolean[2]; // unmapped; forced (the importer died)
                Runnable end = () -> {
                    synchronized (Share.this) {
                        done[1] = true;
                        if (!done[0]) {
                            done[0] = true;
                            mappings--;
                            importer.mapped.addAndGet(-pfns.length);
                            endIfDone();
                        }
                    }
                };
                importer.live.add(end);
                return new Mapped() {
                    @Override
                    public List<ByteBuffer> pages() {
                        return pages;
                    }

                    @Override
                    public void unmap() {
                        synchronized (Share.this) {
                            if (done[0] && !done[1]) {
                                throw new IllegalStateException("pages of share " + ref + " unmapped twice");
                            }
                            importer.live.remove(end);
                            end.run();
                        }
                    }
                };
            }
        }
    }

    /** Polls {@code cond} for up to 10 s. */
    static void await(String what, java.util.function.BooleanSupplier cond) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Polls {@code value} until it is {@code want}, for up to 10 s. */
    static void awaitValue(String what, IntSupplier value, int want) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int v;
        while ((v = value.getAsInt()) != want) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + " = " + want + " (still " + v + ")");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

}
