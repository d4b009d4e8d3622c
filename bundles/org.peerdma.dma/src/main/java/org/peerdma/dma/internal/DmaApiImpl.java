package org.peerdma.dma.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.SgEntry;
import org.peerdma.dma.spi.DmaOps;
import org.peerdma.module.ModuleUsage;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kernel/dma/mapping.c: get_dma_ops(dev) per call (an override, else an IOMMU that translates the
 * device, else the best-ranked direct ops), masks, and the book of live mappings. Ops come and go
 * as services; a mapping is always unmapped by the ops that made it, and when those ops leave,
 * their mappings are revoked (the departing IOMMU or arch tore its state down with it).
 */
@Component(service = {DmaApi.class, ModuleUsage.class, org.peerdma.pci.PciBusNotifier.class},
        property = {"peerdma.whiteboard=true", "service.ranking:Integer=-100"})
public class DmaApiImpl implements DmaApi, ModuleUsage, org.peerdma.pci.PciBusNotifier {
    private static final Logger LOG = LoggerFactory.getLogger("dma");
    static final long DEFAULT_MASK = 0xffffffffL;

    record Ops(DmaOps ops, String name, String kind, int ranking, long id) {
    }

    private final List<Ops> ops = new CopyOnWriteArrayList<>();
    private final Map<PciDevice, Long> masks = new ConcurrentHashMap<>();
    private final Map<PciDevice, String> overrides = new ConcurrentHashMap<>();
    private final Map<PciDevice, List<MappingImpl>> live = new ConcurrentHashMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addOps(DmaOps o, Map<String, Object> props) {
        Object name = props.get(DmaOps.NAME);
        Object kind = props.get(DmaOps.KIND);
        if (!(name instanceof String n) || n.isBlank() || !("direct".equals(kind) || "iommu".equals(kind))) {
            LOG.error("DMA ops {} rejected: {} and {}=direct|iommu are mandatory", o, DmaOps.NAME, DmaOps.KIND);
            return;
        }
        int rank = props.get(Constants.SERVICE_RANKING) instanceof Integer r ? r : 0;
        ops.add(new Ops(o, n, (String) kind, rank, (Long) props.get(Constants.SERVICE_ID)));
        LOG.info("DMA ops {} ({}) available", n, kind);
    }

    void removeOps(DmaOps o, Map<String, Object> props) {
        ops.removeIf(x -> x.ops == o);
        int n = 0;
        for (List<MappingImpl> l : live.values()) {
            for (MappingImpl m : l) {
                if (m.ops == o && m.state.compareAndSet("live", "revoked")) {
                    l.remove(m);
                    n++;
                }
            }
        }
        if (n > 0) {
            LOG.warn("DMA ops {} left with {} live mapping(s): revoked", props.get(DmaOps.NAME), n);
        }
    }

    /**
     * deviceRemoving - the device leaves (remove, surprise unplug): what its driver left mapped is unmapped
     * through the ops that made it and revoked for the holder (a later unmap is silent), as the IOMMU's
     * iommu_release_device takes the device's domain and IOVAs with it; CONFIG_DMA_API_DEBUG's message
     * names the leak. Ranked last of the bus notifiers: drivers and p2pdma release theirs first.
     */
    @Override
    public void deviceRemoving(PciDevice dev) {
        releaseDevice(dev);
    }

    @Override
    public void machineLoaded(org.peerdma.pci.PciMachine machine) {
        for (PciDevice d : List.copyOf(live.keySet())) {
            if (d.isRemoved()) {
                releaseDevice(d);
            }
        }
        masks.keySet().removeIf(PciDevice::isRemoved);
        overrides.keySet().removeIf(PciDevice::isRemoved);
    }

    private void releaseDevice(PciDevice dev) {
        List<MappingImpl> l = live.remove(dev);
        int n = 0;
        for (MappingImpl m : l == null ? List.<MappingImpl>of() : l) {
            if (m.state.compareAndSet("live", "revoked")) {
                n++;
                try {
                    unmapWith(m);
                } catch (RuntimeException ex) {
                    LOG.debug("{}: unmapping {} at removal: {}", dev.name(), m, ex.getMessage());
                }
            }
        }
        if (n > 0) {
            LOG.error("DMA-API: {}: device driver has pending DMA allocations while released from device "
                    + "[count={}]: unmapped", dev.name(), n);
        }
        masks.remove(dev);
        overrides.remove(dev);
    }

    /** get_dma_ops(dev). Errors: ENODEV when there are no ops at all. */
    Ops opsFor(PciDevice dev) {
        String o = overrides.get(dev);
        List<Ops> sorted = new ArrayList<>(ops);
        sorted.sort(Comparator.comparingInt(Ops::ranking).reversed().thenComparingLong(Ops::id));
        if (o != null) {
            for (Ops x : sorted) {
                if (x.name.equals(o)) {
                    return x;
                }
            }
        }
        for (Ops x : sorted) {
            if (x.kind.equals("iommu") && x.ops.translates(dev)) {
                return x;
            }
        }
        for (Ops x : sorted) {
            if (x.kind.equals("direct")) {
                return x;
            }
        }
        throw KernelException.enodev("no DMA ops for %s: no arch module is loaded (modprobe arch_x86)", dev.name());
    }

    private static void live(PciDevice dev) {
        if (dev == null) {
            throw KernelException.einval("no device");
        }
        if (dev.isRemoved()) {
            throw KernelException.enodev("%s was removed", dev.name());
        }
    }

    private static void checkSize(long size) {
        if (size <= 0) {
            throw KernelException.einval("DMA mapping of %d bytes", size);
        }
    }

    /**
     * checkRange - a range that wraps past the top of the 64-bit physical address space is refused: the
     * kernel's own arithmetic (dma_capable's {@code end = addr + size - 1}, iommu_map's range) would wrap
     * and map pages at address 0.
     */
    private static void checkRange(long phys, long size) {
        checkSize(size);
        if (Long.compareUnsigned(phys + size - 1, phys) < 0) {
            throw KernelException.einval("DMA mapping of %#x+%d wraps past the end of the physical address space",
                    phys, size);
        }
    }

    /** One attempt of a mapping through the given ops: the entries, or null for DMA_MAPPING_ERROR. */
    private interface Attempt {
        List<SgEntry> map(Ops o);
    }

    /**
     * Map through get_dma_ops(dev) and record the mapping. When the ops leave while the call is in
     * them (a module swap under load), the half-made mapping is dropped and the call is made again
     * through the ops that replaced them, so callers never see the swap.
     */
    private MappingImpl map(PciDevice dev, String kind, DmaDirection dir, Attempt attempt, String what, long addr,
            long size) {
        for (int tries = 0;; tries++) {
            Ops o = opsFor(dev);
            List<SgEntry> entries = attempt.map(o);
            if (entries == null) {
                if (!ops.contains(o) && tries < 8) {
                    continue; // the ops failed because they were being unloaded
                }
                throw mappingError(dev, what, addr, size, o);
            }
            MappingImpl m = new MappingImpl(dev, kind, entries, dir, o.ops, o.name);
            List<MappingImpl> l = live.computeIfAbsent(dev, d -> new CopyOnWriteArrayList<>());
            l.add(m);
            if (ops.contains(o)) {
                return m;
            }
            l.remove(m);
            m.state.set("revoked");
            try {
                unmapWith(m);
            } catch (RuntimeException ex) {
                LOG.debug("undo through departed ops {} failed: {}", o.name, ex.getMessage());
            }
            if (tries >= 8) {
                throw new KernelException(Errno.EAGAIN, "DMA ops kept changing during the mapping of " + dev.name());
            }
        }
    }

    private KernelException mappingError(PciDevice dev, String what, long addr, long size, Ops o) {
        return new KernelException(Errno.EIO, String.format("%s: %s %#x+%d: DMA_MAPPING_ERROR from %s (mask %#x)",
                dev.name(), what, addr, size, o.name, mask(dev)));
    }

    @Override
    public DmaMapping mapPage(PciDevice dev, long phys, long size, DmaDirection dir) {
        live(dev);
        checkRange(phys, size);
        return map(dev, "page", dir, o -> {
            long dma = o.ops.mapPage(dev, phys, size, dir, mask(dev));
            return dma == DMA_MAPPING_ERROR ? null : List.of(new SgEntry(phys, size, dma, size));
        }, "map_page", phys, size);
    }

    @Override
    public DmaMapping mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir) {
        live(dev);
        if (sgl == null || sgl.isEmpty()) {
            throw KernelException.einval("dma_map_sg with no entries");
        }
        for (SgEntry e : sgl) {
            checkRange(e.phys(), e.length());
        }
        List<SgEntry> copy = List.copyOf(sgl);
        return map(dev, "sg", dir, o -> {
            List<SgEntry> mapped = o.ops.mapSg(dev, copy, dir, mask(dev));
            return mapped == null || mapped.isEmpty() ? null : mapped;
        }, "map_sg", sgl.get(0).phys(), sgl.stream().mapToLong(SgEntry::length).sum());
    }

    @Override
    public DmaMapping mapResource(PciDevice dev, long physAddr, long size, DmaDirection dir) {
        live(dev);
        checkRange(physAddr, size);
        return map(dev, "resource", dir, o -> {
            long dma = o.ops.mapResource(dev, physAddr, size, dir, mask(dev));
            return dma == DMA_MAPPING_ERROR ? null : List.of(new SgEntry(physAddr, size, dma, size));
        }, "map_resource", physAddr, size);
    }

    private void unmapWith(MappingImpl m) {
        SgEntry e = m.entries.get(0);
        switch (m.kind) {
            case "page" -> m.ops.unmapPage(m.dev, e.dmaAddress(), e.dmaLength(), m.dir);
            case "resource" -> m.ops.unmapResource(m.dev, e.dmaAddress(), e.dmaLength(), m.dir);
            default -> m.ops.unmapSg(m.dev, m.entries, m.dir);
        }
    }

    @Override
    public void unmap(DmaMapping mapping) {
        if (!(mapping instanceof MappingImpl m)) {
            throw KernelException.einval("not a mapping of this DMA API");
        }
        if (m.state.compareAndSet("revoked", "unmapped")) {
            return; // the ops that made it are gone and took it with them
        }
        if (!m.state.compareAndSet("live", "unmapped")) {
            if (m.state.compareAndSet("revoked", "unmapped")) {
                return; // revoked between the two checks
            }
            throw KernelException.einval("DMA-API: %s: device driver tries to free DMA memory it has not "
                    + "allocated (%s)", m.dev.name(), m);
        }
        List<MappingImpl> l = live.get(m.dev);
        if (l != null) {
            l.remove(m);
        }
        if (!registered(m.ops)) {
            return; // its ops are leaving: they revoke what they handed out with their own teardown
        }
        try {
            unmapWith(m);
        } catch (RuntimeException ex) {
            if (registered(m.ops)) {
                throw ex;
            }
            LOG.debug("unmap raced with the teardown of {}: already revoked", m.opsName);
        }
    }

    private boolean registered(DmaOps o) {
        for (Ops x : ops) {
            if (x.ops == o) {
                return true;
            }
        }
        return false;
    }

    private static void synced(DmaMapping mapping) {
        if (!mapping.isLive()) {
            throw KernelException.einval("DMA-API: %s: sync of a mapping that is not live", mapping.device().name());
        }
    }

    @Override
    public void syncForCpu(DmaMapping mapping) {
        synced(mapping); // coherent model: nothing to copy back
    }

    @Override
    public void syncForDevice(DmaMapping mapping) {
        synced(mapping);
    }

    @Override
    public void setMask(PciDevice dev, long mask) {
        live(dev);
        Ops o = opsFor(dev);
        if (!o.ops.supported(dev, mask)) {
            throw new KernelException(Errno.EIO, String.format("%s: DMA mask %#x not supported by %s", dev.name(),
                    mask, o.name));
        }
        masks.put(dev, mask);
    }

    @Override
    public boolean addressingLimited(PciDevice dev) {
        live(dev);
        Ops o = opsFor(dev);
        boolean iommu = o.kind.equals("iommu") && o.ops.translates(dev);
        // dma_get_required_mask: the IOMMU hands out 32-bit IOVAs first; direct needs all of RAM
        long last = org.peerdma.dma.PhysMemory.RAM_END - 1;
        long required = iommu ? 0xFFFF_FFFFL : (Long.highestOneBit(last) << 1) - 1;
        return Long.compareUnsigned(mask(dev), required) < 0;
    }

    @Override
    public long mask(PciDevice dev) {
        return masks.getOrDefault(dev, DEFAULT_MASK);
    }

    @Override
    public long physToDma(PciDevice dev, long phys) {
        live(dev);
        Ops o = opsFor(dev);
        long d = o.ops.physToDma(dev, phys);
        if (d == DMA_MAPPING_ERROR) {
            throw new KernelException(Errno.EIO, String.format("%s: %s has no direct translation for %#x", dev.name(),
                    o.name, phys));
        }
        return d;
    }

    @Override
    public long dmaToPhys(PciDevice dev, long dma) {
        live(dev);
        Ops o = opsFor(dev);
        long p = o.ops.dmaToPhys(dev, dma);
        if (p == -1L) {
            throw new KernelException(Errno.EFAULT, String.format("%s: DMA address %#x is not mapped by %s (%s)",
                    dev.name(), dma, o.name, "iommu".equals(o.kind) ? "IOMMU fault" : "outside the dma-ranges"));
        }
        return p;
    }

    @Override
    public String opsName(PciDevice dev) {
        return opsFor(dev).name;
    }

    @Override
    public void setOpsOverride(PciDevice dev, String name) {
        if (name == null) {
            overrides.remove(dev);
            return;
        }
        if (ops.stream().noneMatch(o -> o.name.equals(name))) {
            throw KernelException.enodev("no DMA ops named '%s' (available: %s)", name, String.join(", ", opsNames()));
        }
        overrides.put(dev, name);
    }

    @Override
    public List<DmaMapping> mappings(PciDevice dev) {
        return List.copyOf(live.getOrDefault(dev, List.of()));
    }

    @Override
    public List<String> opsNames() {
        List<Ops> sorted = new ArrayList<>(ops);
        sorted.sort(Comparator.comparing((Ops o) -> !o.kind.equals("direct")).thenComparing(
                Comparator.comparingInt(Ops::ranking).reversed()).thenComparingLong(Ops::id));
        return sorted.stream().map(Ops::name).distinct().toList();
    }

    @Override
    public List<String> holders() {
        List<String> out = new ArrayList<>();
        live.forEach((d, l) -> {
            if (!l.isEmpty()) {
                out.add(d.name() + ": " + l.size() + " DMA mapping(s)");
            }
        });
        return out;
    }
}
