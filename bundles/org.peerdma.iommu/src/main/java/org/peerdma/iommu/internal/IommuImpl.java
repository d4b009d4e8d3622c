package org.peerdma.iommu.internal;

import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dma.spi.DmaOps;
import org.peerdma.errno.KernelException;
import org.peerdma.iommu.Iommu;
import org.peerdma.iommu.IommuGroup;
import org.peerdma.module.ModuleUsage;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IOMMU for the loaded machine: the {@link Iommu} API over {@link GroupDomains} (iommu.c)
 * and the IOMMU's DMA ops in {@link DmaIommu} (dma-iommu.c). One component because the ops
 * allocate from the domains the core attaches groups to. On unload every mapping is revoked.
 */
@Component(service = {Iommu.class, DmaOps.class, ModuleUsage.class}, configurationPid = IommuConfig.PID,
        property = {DmaOps.NAME + "=iommu", DmaOps.KIND + "=iommu"})
@Designate(ocd = IommuConfig.class)
public class IommuImpl implements Iommu, DmaOps, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("iommu");

    @Reference
    PciCore core;

    private volatile String mode = MODE_TRANSLATED;
    private volatile int maxSegSize = 65536;
    private final GroupDomains groups = new GroupDomains(() -> core.machine());
    private final DmaIommu dma = new DmaIommu(groups, () -> maxSegSize);

    @Activate
    void activate(IommuConfig config) {
        String m = config.mode() == null ? "" : config.mode().strip();
        if (!m.equals(MODE_TRANSLATED) && !m.equals(MODE_IDENTITY) && !m.equals(MODE_OFF)) {
            throw KernelException.einval("iommu mode '%s' is not translated, identity or off", config.mode());
        }
        if (config.iova__bits() < 16 || config.iova__bits() > 64) {
            throw KernelException.einval("iova_bits %d out of range 16..64", config.iova__bits());
        }
        checkSegSize(config.max__seg__size());
        mode = m;
        maxSegSize = config.max__seg__size();
        groups.iovaBits = config.iova__bits();
        groups.forcedac = config.forcedac();
        groups.passthrough = m.equals(MODE_IDENTITY);
        groups.enabled = !m.equals(MODE_OFF);
        LOG.info("Default domain type: {}{}, {}-bit IOVA space", m.equals(MODE_IDENTITY) ? "Passthrough"
                : m.equals(MODE_OFF) ? "none (no IOMMU)" : "Translated", config.forcedac() ? ", forcedac" : "",
                config.iova__bits());
    }

    @Modified
    void modified(IommuConfig config) {
        checkSegSize(config.max__seg__size());
        maxSegSize = config.max__seg__size();
        if (!mode.equals(config.mode()) || groups.iovaBits != config.iova__bits()
                || groups.forcedac != config.forcedac()) {
            LOG.warn("iommu: mode, iova_bits and forcedac are boot-time settings; still {} with {} bits "
                    + "until the module is loaded again", mode, groups.iovaBits);
        }
    }

    private static void checkSegSize(int v) {
        if (v < IommuDomain.PAGE_SIZE) {
            throw KernelException.einval("max_seg_size %d is below the page size", v);
        }
    }

    @Deactivate
    void deactivate() {
        for (String h : groups.holders()) {
            LOG.warn("iommu unloading with live DMA mappings, revoked: {}", h);
        }
        groups.revokeAll();
    }

    // ---------------------------------------------------------------- Iommu

    private IommuGroup present(GroupDomains.Topology t, PciDevice dev) {
        if (dev == null) {
            throw KernelException.enodev("no device");
        }
        IommuGroup g = t.group(dev);
        if (g == null) {
            throw KernelException.enodev("%s is not present in the loaded machine", dev.name());
        }
        return g;
    }

    private IommuGroup groupOrOff(GroupDomains.Topology t, PciDevice dev) {
        IommuGroup g = present(t, dev);
        if (MODE_OFF.equals(mode)) {
            throw KernelException.enodev("%s: no IOMMU (mode off), so no iommu_group", dev.name());
        }
        return g;
    }

    @Override
    public String mode() {
        return mode;
    }

    @Override
    public IommuGroup group(PciDevice dev) {
        return groupOrOff(groups.topology(), dev);
    }

    @Override
    public List<IommuGroup> groups() {
        return MODE_OFF.equals(mode) ? List.of() : groups.topology().grouping().groups();
    }

    @Override
    public String domainType(PciDevice dev) {
        return groups.identity(groupOrOff(groups.topology(), dev)) ? DOMAIN_IDENTITY : DOMAIN_DMA;
    }

    @Override
    public void setIdentity(PciDevice dev, boolean identity) {
        GroupDomains.Topology t = groups.topology();
        IommuGroup g = groupOrOff(t, dev);
        groups.setType(t, g, dev, identity);
        LOG.info("iommu_group {}: default domain type {}", g.id(), identity ? DOMAIN_IDENTITY : DOMAIN_DMA);
    }

    @Override
    public long iovaInUse(PciDevice dev) {
        GroupDomains.Topology t = groups.topology();
        IommuGroup g = groupOrOff(t, dev);
        if (groups.identity(g)) {
            return 0;
        }
        IommuDomain d = t.domainOfGroup().get(g.id());
        synchronized (d) {
            return d.allocatedBytes();
        }
    }

    @Override
    public long translate(PciDevice dev, long iova) {
        GroupDomains.Topology t = groups.topology();
        IommuGroup g = present(t, dev);
        if (MODE_OFF.equals(mode) || groups.identity(g)) {
            return iova;
        }
        IommuDomain d = t.domainOfGroup().get(g.id());
        synchronized (d) {
            return d.translate(iova);
        }
    }

    // ---------------------------------------------------------------- DmaOps

    @Override
    public boolean translates(PciDevice dev) {
        return groups.dmaDomain(dev) != null;
    }

    @Override
    public long mapPage(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
        return dma.map(dev, phys, size, dir, mask, DmaIommu.SINGLE);
    }

    @Override
    public void unmapPage(PciDevice dev, long dmaAddr, long size, DmaDirection dir) {
        dma.unmap(dev, dmaAddr, size, dir, DmaIommu.SINGLE);
    }

    @Override
    public List<SgEntry> mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir, long mask) {
        return dma.mapSg(dev, sgl, dir, mask);
    }

    @Override
    public void unmapSg(PciDevice dev, List<SgEntry> mapped, DmaDirection dir) {
        dma.unmapSg(dev, mapped, dir);
    }

    @Override
    public long mapResource(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
        return dma.map(dev, phys, size, dir, mask, DmaIommu.RESOURCE);
    }

    @Override
    public void unmapResource(PciDevice dev, long dmaAddr, long size, DmaDirection dir) {
        dma.unmap(dev, dmaAddr, size, dir, DmaIommu.RESOURCE);
    }

    /** dma_supported() of a device using dma-iommu: true for any mask (kernel/dma/mapping.c). */
    @Override
    public boolean supported(PciDevice dev, long mask) {
        return true;
    }

    /** IOMMU ops have no fixed CPU-to-DMA translation. */
    @Override
    public long physToDma(PciDevice dev, long phys) {
        return -1;
    }

    /** iommu_iova_to_phys on the device's domain: -1 when the IOVA is not mapped (a fault). */
    @Override
    public long dmaToPhys(PciDevice dev, long dma) {
        try {
            return translate(dev, dma);
        } catch (org.peerdma.errno.KernelException e) {
            return -1;
        }
    }

    // ---------------------------------------------------------------- ModuleUsage

    @Override
    public List<String> holders() {
        return groups.holders();
    }
}
