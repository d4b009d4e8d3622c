package org.peerdma.mm.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.Range;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.module.ModuleUsage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** mm/memremap.c. */
@Component(service = {ZoneDevice.class, ModuleUsage.class}, configurationPid = ZoneDeviceConfig.PID)
@Designate(ocd = ZoneDeviceConfig.class)
public class ZoneDeviceImpl implements ZoneDevice, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("memremap");

    private final List<PgmapState> maps = new CopyOnWriteArrayList<>();
    private volatile List<Range> systemRam = List.of();
    private volatile int maxPhysmemBits = 46;
    private volatile long warnMs = 10000;

    @Activate
    @Modified
    void configure(ZoneDeviceConfig c) {
        systemRam = parseRanges(c.system__ram());
        if (c.max__physmem__bits() < 32 || c.max__physmem__bits() > 64) {
            throw KernelException.einval("max_physmem_bits %d out of range 32..64", c.max__physmem__bits());
        }
        maxPhysmemBits = c.max__physmem__bits();
        warnMs = Math.max(1, c.teardown__warn__ms());
    }

    @Deactivate
    void deactivate() {
        for (PgmapState s : maps) {
            LOG.warn("memremap unloading with {} still mapped (holders: {})", s.pgmap.name, s.holders());
        }
    }

    static List<Range> parseRanges(String text) {
        List<Range> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String part : text.split(",")) {
            String[] se = part.strip().split("-");
            if (se.length != 2) {
                throw KernelException.einval("system_ram entry '%s' is not start-end", part);
            }
            try {
                out.add(new Range(Long.decode(se[0].strip()), Long.decode(se[1].strip())));
            } catch (NumberFormatException ex) {
                throw KernelException.einval("system_ram entry '%s' is not hex start-end", part);
            }
        }
        return List.copyOf(out);
    }

    @Override
    public long memremapPages(DevPagemap pgmap, int nid) {
        if (pgmap == null) {
            throw KernelException.einval("no dev_pagemap");
        }
        if (pgmap.ranges.isEmpty()) {
            throw KernelException.einval("%s: nr_range is 0", pgmap.name);
        }
        if (pgmap.type == null) {
            throw KernelException.einval("%s: no memory type", pgmap.name);
        }
        switch (pgmap.type) {
            case DEVICE_PRIVATE -> {
                if (pgmap.ops == null || !pgmap.ops.hasMigrateToRam()) {
                    throw KernelException.einval("%s: MEMORY_DEVICE_PRIVATE needs ops->migrate_to_ram", pgmap.name);
                }
                if (pgmap.owner == null) {
                    throw KernelException.einval("%s: MEMORY_DEVICE_PRIVATE needs an owner", pgmap.name);
                }
            }
            case DEVICE_COHERENT -> {
                if (pgmap.ops == null) {
                    throw KernelException.einval("%s: MEMORY_DEVICE_COHERENT needs ops->page_free", pgmap.name);
                }
                if (pgmap.owner == null) {
                    throw KernelException.einval("%s: MEMORY_DEVICE_COHERENT needs an owner", pgmap.name);
                }
            }
            default -> {
                // FS_DAX: pgprot_decrypted, PCI_P2PDMA: pgprot_noncached, GENERIC: no checks
            }
        }
        if ((pgmap.flags & DevPagemap.PGMAP_ALTMAP_VALID) != 0 && pgmap.ranges.size() > 1) {
            throw KernelException.einval("%s: an altmap supports a single range only", pgmap.name);
        }
        synchronized (this) {
            if (stateOf(pgmap) != null) {
                throw new KernelException(Errno.EBUSY, pgmap.name + " is already mapped");
            }
            long maxAddr = maxPhysmemBits == 64 ? -1L : (1L << maxPhysmemBits) - 1;
            for (Range r : pgmap.ranges) {
                // the kernel adds ranges one by one and unwinds on failure; checking all first is equivalent
                for (PgmapState s : maps) {
                    if (s.covers(r.start() >>> Page.PAGE_SHIFT) || s.covers(r.end() >>> Page.PAGE_SHIFT)) {
                        throw new KernelException(Errno.ENOMEM, String.format(
                                "%s: Conflicting mapping in same section: %s overlaps %s", pgmap.name, r, s.pgmap.name));
                    }
                }
                for (Range ram : systemRam) {
                    if (ram.intersects(r)) {
                        boolean mixed = !(Long.compareUnsigned(r.start(), ram.start()) >= 0
                                && Long.compareUnsigned(r.end(), ram.end()) <= 0);
                        throw new KernelException(Errno.ENXIO, String.format("%s: attempted on %s region %#x-%#x",
                                pgmap.name, mixed ? "mixed" : "ram", r.start(), r.end()));
                    }
                }
                if (Long.compareUnsigned(r.end(), maxAddr) > 0) {
                    throw KernelException.einval("%s: range %s is not in the hot-pluggable physical range "
                            + "(mhp_range_allowed: MAX_PHYSMEM_BITS %d)", pgmap.name, r, maxPhysmemBits);
                }
                if ((r.start() & (Page.PAGE_SIZE - 1)) != 0 || ((r.end() + 1) & (Page.PAGE_SIZE - 1)) != 0) {
                    throw KernelException.einval("%s: range %s is not page aligned", pgmap.name, r);
                }
            }
            PgmapState s = new PgmapState(this, pgmap);
            if (s.mapTimeRefs()) {
                s.ref.addAndGet(s.npages); // percpu_ref_get_many(ref, pfn_len) per range
            }
            maps.add(s);
        }
        LOG.info("memremap_pages {}: {} pages of {}", pgmap.name, pgmapPages(pgmap), pgmap.type);
        return ZoneDevice.va(pgmap.ranges.get(0).start());
    }

    private static long pgmapPages(DevPagemap p) {
        long n = 0;
        for (Range r : p.ranges) {
            n += r.length() >>> Page.PAGE_SHIFT;
        }
        return n;
    }

    PgmapState stateOf(DevPagemap pgmap) {
        for (PgmapState s : maps) {
            if (s.pgmap == pgmap) {
                return s;
            }
        }
        return null;
    }

    private PgmapState require(DevPagemap pgmap) {
        PgmapState s = stateOf(pgmap);
        if (s == null) {
            throw KernelException.einval("%s is not mapped", pgmap == null ? "null pagemap" : pgmap.name);
        }
        return s;
    }

    /** Called when a dying pagemap's last reference is dropped: finish the teardown. */
    void released(PgmapState s) {
        maps.remove(s);
        LOG.info("memunmap_pages {}: all references gone, pages removed", s.pgmap.name);
    }

    private PgmapState kill(DevPagemap pgmap) {
        PgmapState s;
        synchronized (this) {
            s = require(pgmap);
            if (s.dying) {
                return s;
            }
            s.dying = true;
        }
        long drop = 1 + (s.mapTimeRefs() ? s.npages : 0); // percpu_ref_kill, then put_many(npages)
        s.put(drop, null);
        return s;
    }

    @Override
    public void memunmapPages(DevPagemap pgmap) {
        PgmapState s = kill(pgmap);
        try {
            while (!s.done.await(warnMs, TimeUnit.MILLISECONDS)) {
                LOG.warn("memunmap_pages {}: still waiting for page references: {}", pgmap.name, s.holders());
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new KernelException(Errno.EINTR, "memunmap_pages " + pgmap.name + " interrupted; teardown continues");
        }
    }

    @Override
    public void memunmapPages(DevPagemap pgmap, Duration maxWait) {
        PgmapState s = kill(pgmap);
        try {
            if (!s.done.await(maxWait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new KernelException(Errno.ETIMEDOUT, String.format(
                        "memunmap_pages %s: %d reference(s) still held after %d ms by: %s; new references are refused "
                                + "and the teardown completes when they are dropped",
                        pgmap.name, s.ref.get(), maxWait.toMillis(), String.join(", ", s.holders())));
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new KernelException(Errno.EINTR, "memunmap_pages " + pgmap.name + " interrupted; teardown continues");
        }
    }

    @Override
    public Optional<DevPagemap> getDevPagemap(long pfn, DevPagemap cached) {
        if (cached != null) {
            PgmapState c = stateOf(cached);
            if (c != null && c.covers(pfn)) {
                return Optional.of(cached);
            }
            putDevPagemap(cached);
        }
        for (PgmapState s : maps) {
            if (s.covers(pfn) && s.tryGetLive(null)) {
                return Optional.of(s.pgmap);
            }
        }
        return Optional.empty();
    }

    @Override
    public void putDevPagemap(DevPagemap pgmap) {
        if (pgmap == null) {
            return;
        }
        PgmapState s = stateOf(pgmap);
        if (s != null) {
            s.put(1, null);
        }
    }

    @Override
    public Page pfnToPage(long pfn) {
        for (PgmapState s : maps) {
            if (s.covers(pfn)) {
                return s.page(pfn);
            }
        }
        throw new KernelException(Errno.EFAULT, String.format("pfn %#x is not ZONE_DEVICE memory", pfn));
    }

    @Override
    public boolean isDying(DevPagemap pgmap) {
        PgmapState s = stateOf(pgmap);
        return s == null || s.dying;
    }

    @Override
    public List<DevPagemap> pagemaps() {
        return maps.stream().map(s -> s.pgmap).toList();
    }

    @Override
    public List<String> holders(DevPagemap pgmap) {
        PgmapState s = stateOf(pgmap);
        return s == null ? List.of() : s.holders();
    }

    @Override
    public long refCount(DevPagemap pgmap) {
        PgmapState s = stateOf(pgmap);
        return s == null ? 0 : s.ref.get();
    }

    @Override
    public boolean tryGetLive(DevPagemap pgmap, String holder) {
        PgmapState s = stateOf(pgmap);
        return s != null && s.tryGetLive(holder);
    }

    @Override
    public void putRef(DevPagemap pgmap, String holder) {
        require(pgmap).put(1, holder);
    }

    @Override
    public RefHolder refHolder(DevPagemap pgmap, String name, java.util.function.Supplier<String> detail) {
        PgmapState s = require(pgmap);
        PgmapState.Counted c = s.new Counted(name, detail);
        s.counted.add(c);
        return c;
    }

    @Override
    public List<String> holders() {
        List<String> out = new ArrayList<>();
        for (PgmapState s : maps) {
            out.add(s.pgmap.name + (s.dying ? " (dying)" : ""));
        }
        return out;
    }
}
