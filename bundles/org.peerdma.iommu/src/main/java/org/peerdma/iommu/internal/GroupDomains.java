package org.peerdma.iommu.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.iommu.IommuGroup;
import org.peerdma.pci.Bar;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The groups of the loaded machine and the default domain each group is attached to
 * (drivers/iommu/iommu.c: iommu_group_get_for_dev, iommu_alloc_default_domain,
 * iommu_group_store_type; drivers/iommu/dma-iommu.c: iommu_dma_init_domain and its
 * reservations). Groups are computed again when the machine or its generation changes; a new
 * group keeps the domain of its first member that still has one, so live IOVAs survive
 * unrelated hot-plug and ACS changes. Lock order: this object's topology lock, then a domain.
 */
final class GroupDomains {
    private static final Logger LOG = LoggerFactory.getLogger("iommu");
    /** x86 interrupt doorbells (IOAPIC_RANGE / MSI_RANGE 0xfee00000-0xfeefffff), IOMMU_RESV_MSI. */
    static final long X86_MSI_START = 0xfee0_0000L;
    static final long X86_MSI_END = 0xfeef_ffffL;

    /** Groups of one machine state and the domain each group is attached to. */
    record Topology(PciMachine machine, long generation, Grouping.Result grouping,
            Map<Integer, IommuDomain> domainOfGroup) {
        IommuGroup group(PciDevice dev) {
            return grouping.byDevice().get(dev);
        }

        IommuDomain domainOf(PciDevice dev) {
            IommuGroup g = group(dev);
            return g == null ? null : domainOfGroup.get(g.id());
        }
    }

    private final Supplier<PciMachine> machine;
    /** Whether default domains are identity (iommu.passthrough=1) unless a group says otherwise. */
    volatile boolean passthrough;
    /** Whether anything is translated at all (an IOMMU is on and the module is active). */
    volatile boolean enabled;
    /** Width of the aperture of new domains. */
    volatile int iovaBits = 48;
    volatile boolean forcedac;

    private final Object topoLock = new Object();
    private volatile Topology topo;
    /** Domains attached to a group or still holding mappings, by id. */
    private final Map<Integer, IommuDomain> domains = new ConcurrentHashMap<>();
    private final AtomicInteger domainIds = new AtomicInteger();
    /** Per-device default domain type written through sysfs: true identity, false DMA. */
    private final Map<PciDevice, Boolean> typeOverrides = new ConcurrentHashMap<>();
    /** Devices whose pci_32bit_workaround was cleared (a 32-bit IOVA allocation failed once). */
    private final Set<PciDevice> no32bit = ConcurrentHashMap.newKeySet();

    GroupDomains(Supplier<PciMachine> machine) {
        this.machine = machine;
    }

    /** The topology of the loaded machine, computed again when the machine or its generation changed. */
    Topology topology() {
        PciMachine m = machine.get();
        long gen = m.generation();
        Topology t = topo;
        if (t != null && t.machine() == m && t.generation() == gen) {
            return t;
        }
        synchronized (topoLock) {
            t = topo;
            if (t != null && t.machine() == m && t.generation() == gen) {
                return t;
            }
            Topology fresh = regroup(t, m, gen);
            topo = fresh;
            return fresh;
        }
    }

    private Topology regroup(Topology old, PciMachine m, long gen) {
        Grouping.Result r = Grouping.compute(m);
        Map<Integer, IommuDomain> domainOfGroup = new HashMap<>();
        Set<IommuDomain> claimed = new HashSet<>();
        for (IommuGroup g : r.groups()) {
            IommuDomain chosen = null;
            for (PciDevice d : old == null ? List.<PciDevice>of() : g.members()) {
                IommuDomain prev = old.domainOf(d);
                if (prev != null && !claimed.contains(prev)) {
                    chosen = prev;
                    break;
                }
            }
            if (chosen == null) {
                chosen = newDomain(m, g);
            }
            claimed.add(chosen);
            domainOfGroup.put(g.id(), chosen);
            for (PciDevice d : old == null ? List.<PciDevice>of() : g.members()) {
                IommuDomain prev = old.domainOf(d);
                if (prev != null && prev != chosen) {
                    int live;
                    synchronized (prev) {
                        live = prev.mappingsOf(d).size();
                    }
                    if (live > 0) {
                        LOG.warn("{} moved from {} to {} with {} live mapping(s): DMA to them now faults",
                                d.name(), prev, chosen, live);
                    }
                }
            }
        }
        for (IommuDomain d : List.copyOf(domains.values())) {
            if (!claimed.contains(d)) {
                synchronized (d) {
                    if (d.isEmpty()) {
                        d.retired = true;
                        domains.remove(d.id);
                    }
                }
            }
        }
        // per-device state of devices that are gone: a device probed again starts afresh
        no32bit.removeIf(PciDevice::isRemoved);
        typeOverrides.keySet().removeIf(PciDevice::isRemoved);
        LOG.debug("iommu: {} groups for {} (generation {})", r.groups().size(), m.name(), gen);
        return new Topology(m, gen, r, Map.copyOf(domainOfGroup));
    }

    /**
     * A new DMA domain for group {@code g} (iommu_dma_init_domain): base pfn 1, aperture from
     * iova_bits, the host bridge's memory windows reserved as bus addresses
     * (iova_reserve_pci_windows), and on x86 the interrupt doorbells (IOMMU_RESV_MSI).
     */
    private IommuDomain newDomain(PciMachine m, IommuGroup g) {
        int bits = iovaBits;
        IommuDomain d = new IommuDomain(domainIds.getAndIncrement(), bits == 64 ? -1L : (1L << bits) - 1);
        PciHostBridge hb = g.members().get(0).hostBridge();
        if (hb != null) {
            boolean any = false;
            for (Window w : hb.windows()) {
                if (!w.io() && w.size() > 0) {
                    long bus = w.cpuStart() - w.offset();
                    d.reserve(bus, bus + w.size() - 1);
                    any = true;
                }
            }
            if (!any) {
                // the dump did not give the windows: keep at least every BAR behind the host bridge out
                for (PciDevice dev : m.devices()) {
                    if (dev.hostBridge() != hb) {
                        continue;
                    }
                    for (Bar b : dev.bars()) {
                        if (b.isMem() && !b.unassigned() && b.size() > 0) {
                            d.reserve(b.busStart(), b.busStart() + b.size() - 1);
                        }
                    }
                }
            }
        }
        String arch = m.arch() == null ? "" : m.arch();
        if (arch.startsWith("x86") || arch.equals("i386") || arch.equals("amd64")) {
            d.reserve(X86_MSI_START, X86_MSI_END);
        }
        domains.put(d.id, d);
        return d;
    }

    /** The group's default domain type: the members' sysfs writes if they agree, else the mode's default. */
    boolean identity(IommuGroup g) {
        Boolean agreed = null;
        for (PciDevice d : g.members()) {
            Boolean o = typeOverrides.get(d);
            if (o == null) {
                continue;
            }
            if (agreed == null) {
                agreed = o;
            } else if (!agreed.equals(o)) {
                return passthrough;
            }
        }
        return agreed != null ? agreed : passthrough;
    }

    /**
     * setType - iommu_group_store_type for the group of {@code dev}. Errors: EBUSY while the
     * group's domain holds mappings.
     */
    void setType(Topology t, IommuGroup g, PciDevice dev, boolean identity) {
        IommuDomain d = t.domainOfGroup().get(g.id());
        synchronized (d) {
            if (!d.isEmpty()) {
                int n = d.mappingsByDevice().values().stream().mapToInt(Integer::intValue).sum();
                throw new KernelException(Errno.EBUSY, String.format("%s: iommu_group %d has %d live DMA "
                        + "mapping(s) in its domain; unbind the drivers first", dev.name(), g.id(), n));
            }
            for (PciDevice m : g.members()) {
                typeOverrides.put(m, identity);
            }
        }
    }

    /** The translated domain DMA by {@code dev} goes through now, or null when it is not translated. */
    IommuDomain dmaDomain(PciDevice dev) {
        if (!enabled || dev == null || dev.isRemoved()) {
            return null;
        }
        return translatedDomain(topology(), dev);
    }

    /** What currentDomainLocked gives while the groups are out of date: no domain is it, so the caller looks again. */
    static final IommuDomain STALE = new IommuDomain(-1, 0);

    /**
     * currentDomainLocked - with a domain's monitor held: the translated domain of {@code dev} in
     * the topology computed last, never computed here (the lock order is topology, then domain).
     * When the machine or its generation changed since (groups are being computed again, or will be),
     * {@link #STALE}: a mapping installed now would land in a domain the new groups may no longer give
     * the device, live but never translated; the caller lets go of the domain and looks again.
     */
    IommuDomain currentDomainLocked(PciDevice dev) {
        Topology t = topo;
        if (!enabled || t == null) {
            return null;
        }
        PciMachine m = machine.get();
        if (t.machine() != m || t.generation() != m.generation()) {
            return STALE;
        }
        return translatedDomain(t, dev);
    }

    private IommuDomain translatedDomain(Topology t, PciDevice dev) {
        IommuGroup g = t.group(dev);
        if (g == null || identity(g)) {
            return null;
        }
        return t.domainOfGroup().get(g.id());
    }

    /** @return the domains that may hold mappings of {@code dev}: its own first. */
    List<IommuDomain> domainsFor(PciDevice dev) {
        List<IommuDomain> out = new ArrayList<>();
        Topology t = topo;
        IommuDomain own = t == null ? null : t.domainOf(dev);
        if (own != null) {
            out.add(own);
        }
        for (IommuDomain d : domains.values()) {
            if (d != own) {
                out.add(d);
            }
        }
        return out;
    }

    boolean pci32bitWorkaround(PciDevice dev) {
        return !forcedac && !no32bit.contains(dev);
    }

    void clearPci32bitWorkaround(PciDevice dev) {
        no32bit.add(dev);
    }

    /** @return one line per device with live mappings. */
    List<String> holders() {
        List<String> out = new ArrayList<>();
        for (IommuDomain d : domains.values()) {
            Map<PciDevice, Integer> by;
            synchronized (d) {
                by = d.mappingsByDevice();
            }
            by.forEach((dev, n) -> out.add("iommu: " + dev.name() + " (" + n + " IOVA mapping" + (n == 1 ? "" : "s")
                    + " in " + d + ")"));
        }
        out.sort(null);
        return out;
    }

    /** Module unload: every domain goes, what was mapped is revoked. */
    void revokeAll() {
        enabled = false;
        synchronized (topoLock) {
            for (IommuDomain d : domains.values()) {
                synchronized (d) {
                    d.retired = true;
                }
            }
            domains.clear();
            topo = null;
        }
    }
}
