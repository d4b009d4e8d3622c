package org.peerdma.mm.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.Range;

/** A mapped pagemap: its percpu_ref (modelled as one counter), pages and who holds what. */
final class PgmapState {
    final DevPagemap pgmap;
    final List<Range> ranges;
    final long npages;
    /** percpu_ref: 1 base + map-time refs + tryget/get_dev_pagemap refs. */
    final AtomicLong ref = new AtomicLong(1);
    final CountDownLatch done = new CountDownLatch(1);
    volatile boolean dying;
    final Map<Long, PageImpl> pages = new ConcurrentHashMap<>();
    /** Holders of pgmap references (tryget_live / zone_device_page_init), by name. */
    final Map<String, AtomicInteger> refHolders = new ConcurrentHashMap<>();
    final ZoneDeviceImpl owner;
    /** Counted holders (ZoneDevice.refHolder): high-rate owners that name themselves once. */
    final List<Counted> counted = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A counted holder: its references are part of {@link #ref}; its name and detail are read only when asked. */
    final class Counted implements org.peerdma.mm.ZoneDevice.RefHolder {
        final String name;
        final java.util.function.Supplier<String> detail;
        final AtomicLong held = new AtomicLong();

        Counted(String name, java.util.function.Supplier<String> detail) {
            this.name = name;
            this.detail = detail;
        }

        @Override
        public boolean tryGetLive() {
            if (!PgmapState.this.tryGetLive(null)) {
                return false;
            }
            held.incrementAndGet();
            return true;
        }

        @Override
        public void put() {
            long v;
            do {
                v = held.get();
                if (v <= 0) {
                    throw KernelException.einval("%s holds no reference on %s", name, pgmap.name);
                }
            } while (!held.compareAndSet(v, v - 1));
            PgmapState.this.put(1, null);
        }

        @Override
        public long held() {
            return held.get();
        }

        @Override
        public String toString() {
            String d = detail == null ? "" : detail.get();
            return name + " x" + held.get() + " (pagemap reference" + (d == null || d.isEmpty() ? "" : "; " + d) + ")";
        }
    }

    PgmapState(ZoneDeviceImpl owner, DevPagemap pgmap) {
        this.owner = owner;
        this.pgmap = pgmap;
        this.ranges = List.copyOf(pgmap.ranges);
        long n = 0;
        for (Range r : ranges) {
            n += r.length() >>> Page.PAGE_SHIFT;
        }
        this.npages = n;
    }

    boolean mapTimeRefs() {
        return pgmap.type != MemoryType.DEVICE_PRIVATE && pgmap.type != MemoryType.DEVICE_COHERENT;
    }

    boolean covers(long pfn) {
        long addr = pfn << Page.PAGE_SHIFT;
        for (Range r : ranges) {
            if (r.contains(addr)) {
                return true;
            }
        }
        return false;
    }

    boolean tryGetLive(String holder) {
        while (true) {
            if (dying) {
                return false;
            }
            long v = ref.get();
            if (v <= 0) {
                return false;
            }
            if (ref.compareAndSet(v, v + 1)) {
                if (holder != null) {
                    // atomically with put's removal of a count that reached 0 (else this increment could land on
                    // a counter that put is removing, and the holder's own put would then find nothing)
                    refHolders.compute(holder, (h, c) -> {
                        AtomicInteger n = c == null ? new AtomicInteger() : c;
                        n.incrementAndGet();
                        return n;
                    });
                }
                return true;
            }
        }
    }

    void put(long n, String holder) {
        if (holder != null) {
            boolean[] held = new boolean[1];
            refHolders.computeIfPresent(holder, (h, c) -> {
                held[0] = c.get() > 0;
                return !held[0] || c.decrementAndGet() == 0 ? null : c;
            });
            if (!held[0]) {
                for (Counted c : counted) {
                    if (c.name.equals(holder) && c.held.get() > 0) {
                        c.put(); // a counted holder named by its name: drops one of its references
                        return;
                    }
                }
                throw KernelException.einval("%s holds no reference on %s", holder, pgmap.name);
            }
        }
        long v = ref.addAndGet(-n);
        if (v < 0) {
            throw new IllegalStateException("percpu_ref underflow on " + pgmap.name);
        }
        if (v == 0) {
            done.countDown();
            owner.released(this);
        }
    }

    PageImpl page(long pfn) {
        return pages.computeIfAbsent(pfn, p -> new PageImpl(this, p));
    }

    List<String> holders() {
        List<String> out = new ArrayList<>();
        refHolders.forEach((h, c) -> out.add(h + " x" + c.get() + " (pagemap reference)"));
        for (Counted c : counted) {
            if (c.held.get() > 0) {
                out.add(c.toString());
            }
        }
        for (PageImpl p : pages.values()) {
            p.holders.forEach((h, c) -> out.add(h + " x" + c.get() + " (page " + String.format("%#x", p.pfn) + ")"));
        }
        out.sort(null);
        return out;
    }
}
