package org.peerdma.arch.arm64.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dma.spi.DmaOps;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dma-direct on an arm64 platform whose PCIe host bridge has an offset inbound window: the
 * device tree's {@code dma-ranges} become dev-&gt;dma_range_map and dev-&gt;bus_dma_limit
 * (of_dma_configure_id, drivers/of/device.c), and every RAM mapping goes through
 * translate_phys_to_dma (include/linux/dma-direct.h). The code follows kernel/dma/direct.c,
 * kernel/dma/direct.h and include/linux/dma-direct.h of the newest kernel:
 * <ul>
 * <li>map_page: {@code dma = phys_to_dma(phys)}; if {@code !dma_capable(dma, size)} it warns
 * "DMA addr %pad+%zu overflow (mask %llx, bus limit %llx)." once and fails with
 * DMA_MAPPING_ERROR. A phys that no region holds translates to DMA_MAPPING_ERROR, which
 * dma_capable refuses. Where the kernel has swiotlb active it would bounce such a buffer
 * through a low-memory slot instead; this model has no swiotlb, so what the device cannot reach
 * fails (a real arm64 kernel may succeed there, by copying).</li>
 * <li>map_resource (MMIO, a peer's BAR): the kernel does <b>not</b> apply dma-ranges here:
 * dma_direct_map_resource used {@code dma_addr = paddr}, and the newest dma_direct_map_phys keeps
 * {@code dma_addr = phys} for DMA_ATTR_MMIO. A 2022 patch to translate it ("dma-direct: take
 * dma-ranges/offsets into account in resource mapping") was refused because dma-ranges
 * describe how devices see RAM, not peer MMIO. The address is still checked against the mask
 * and bus_dma_limit, so a BAR above the inbound window's top fails.</li>
 * <li>map_sg: each entry is mapped as a page; entries are <b>not merged</b>, even when their bus
 * addresses are contiguous: dma_direct_map_sg sets {@code sg_dma_len(sg) = sg->length} per entry
 * and returns nents (only IOMMU ops merge). On the first failure what was mapped is unmapped and
 * the whole list fails.</li>
 * <li>unmaps are no-ops: no swiotlb slot to free, and coherent devices need no cache
 * maintenance.</li>
 * <li>dma_supported: dma_direct_supported, with arm64's zone_dma_limit (see {@link #supported}).</li>
 * </ul>
 * One range map serves every device (one host bridge's dma-ranges); thread-safe: each operation
 * reads the immutable configuration once.
 */
@Component(service = DmaOps.class, configurationPid = Arm64DmaConfig.PID,
        property = {DmaOps.NAME + "=" + Arm64DirectOps.OPS_NAME, DmaOps.KIND + "=direct",
                "service.ranking:Integer=0"})
@Designate(ocd = Arm64DmaConfig.class)
public class Arm64DirectOps implements DmaOps {
    static final String OPS_NAME = "arm64-direct";
    private static final Logger LOG = LoggerFactory.getLogger("arch_arm64");
    private static final long U32_MAX = 0xffff_ffffL;

    /** Everything derived from the firmware description, swapped as a whole. */
    record Platform(DmaRanges ranges, SystemRam ram, long busDmaLimit, long zoneDmaLimit) {
        static Platform of(String dmaRanges, String systemRam) {
            DmaRanges r = DmaRanges.parse(dmaRanges);
            SystemRam ram = SystemRam.parse(systemRam);
            // arch/arm64/mm/init.c dma_limits_init(): min(of_dma_get_max_cpu_address, IORT (none here)),
            // capped at U32_MAX when RAM starts below 4 GiB
            long zone = r.maxCpuAddress();
            if (Long.compareUnsigned(ram.start(), U32_MAX) < 0) {
                zone = minUnsigned(zone, U32_MAX);
            }
            return new Platform(r, ram, r.busDmaLimit(), zone);
        }
    }

    private volatile Platform platform =
            Platform.of(Arm64DmaConfig.DEFAULT_DMA_RANGES, Arm64DmaConfig.DEFAULT_SYSTEM_RAM);
    private final AtomicBoolean warnedPage = new AtomicBoolean();
    private final AtomicBoolean warnedResource = new AtomicBoolean();

    /** Errors: EINVAL naming the bad dma_ranges or system_ram entry; the old configuration stays. */
    @Activate
    @Modified
    void configure(Arm64DmaConfig c) {
        Platform p = Platform.of(c.dma__ranges(), c.system__ram());
        platform = p;
        LOG.info("arm64 direct DMA: dma-ranges {}, bus_dma_limit {}, zone_dma_limit {}", p.ranges(),
                hex(p.busDmaLimit()), hex(p.zoneDmaLimit()));
    }

    Platform platform() {
        return platform;
    }

    @Override
    public long mapPage(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
        return mapPage(platform, dev, phys, size, mask);
    }

    private long mapPage(Platform p, PciDevice dev, long phys, long size, long mask) {
        long dma = p.ranges().physToDma(phys);
        if (!dmaCapable(dma, size, mask, p.busDmaLimit())) {
            overflow(warnedPage, dev, dma, size, mask, p.busDmaLimit());
            return DmaApi.DMA_MAPPING_ERROR;
        }
        return dma;
    }

    @Override
    public void unmapPage(PciDevice dev, long dma, long size, DmaDirection dir) {
        // dma_direct_unmap_page: only swiotlb slots and cache syncs, neither exists here
    }

    /**
     * mapSg - dma_direct_map_sg: one segment per entry, never merged; all or nothing.
     * Errors: EINVAL for a null list.
     */
    @Override
    public List<SgEntry> mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir, long mask) {
        if (sgl == null) {
            throw KernelException.einval("map_sg: no scatterlist");
        }
        Platform p = platform;
        List<SgEntry> out = new ArrayList<>(sgl.size());
        for (SgEntry sg : sgl) {
            long dma = mapPage(p, dev, sg.phys(), sg.length(), mask);
            if (dma == DmaApi.DMA_MAPPING_ERROR) {
                unmapSg(dev, out, dir);
                return null;
            }
            out.add(new SgEntry(sg.phys(), sg.length(), dma, sg.length()));
        }
        return List.copyOf(out);
    }

    @Override
    public void unmapSg(PciDevice dev, List<SgEntry> mapped, DmaDirection dir) {
        if (mapped != null) {
            for (SgEntry sg : mapped) {
                unmapPage(dev, sg.dmaAddress(), sg.dmaLength(), dir);
            }
        }
    }

    /** mapResource - dma_direct_map_resource: the CPU address as is (no dma-ranges), if dma_capable. */
    @Override
    public long mapResource(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
        Platform p = platform;
        long dma = phys;
        if (!dmaCapable(dma, size, mask, p.busDmaLimit())) {
            overflow(warnedResource, dev, dma, size, mask, p.busDmaLimit());
            return DmaApi.DMA_MAPPING_ERROR;
        }
        return dma;
    }

    @Override
    public void unmapResource(PciDevice dev, long dma, long size, DmaDirection dir) {
        // unmapping a direct resource mapping does nothing in the kernel either
    }

    /**
     * supported - dma_direct_supported(): masks of 32 bits or more are always accepted ("every
     * architecture [is expected] to be able to satisfy them"); a smaller mask must reach the bus
     * address of min(last page of RAM, zone_dma_limit), i.e. all of ZONE_DMA as the device sees
     * it. zone_dma_limit is arm64's: the highest CPU address the dma-ranges reach, capped at 4 GiB
     * when RAM starts below 4 GiB. When that address has no translation the answer is false.
     * (Not "the lowest DMA address of memory": the kernel checks the top of the DMA zone.)
     */
    @Override
    public boolean supported(PciDevice dev, long mask) {
        Platform p = platform;
        if (Long.compareUnsigned(mask, U32_MAX) >= 0) {
            return true;
        }
        long minMask = minUnsigned(p.ram().lastPage(), p.zoneDmaLimit());
        return Long.compareUnsigned(mask, p.ranges().physToDma(minMask)) >= 0;
    }

    @Override
    public long physToDma(PciDevice dev, long phys) {
        return platform.ranges().physToDma(phys);
    }

    /** dma_to_phys: translate_dma_to_phys() over the dma-ranges (-1 outside them). */
    @Override
    public long dmaToPhys(PciDevice dev, long dma) {
        return platform.ranges().dmaToPhys(dma);
    }

    /**
     * dma_capable() with is_ram ignored (arm64 has a 64-bit dma_addr_t, so the min_low_pfn check
     * does not apply): the translation exists and the last byte is below min_not_zero(mask,
     * bus_dma_limit).
     */
    static boolean dmaCapable(long dma, long size, long mask, long busDmaLimit) {
        if (dma == DmaApi.DMA_MAPPING_ERROR) {
            return false;
        }
        long end = dma + size - 1;
        return Long.compareUnsigned(end, minNotZero(mask, busDmaLimit)) <= 0;
    }

    /** The kernel's message, with dev_driver_string (the driver, else the bus "pci") and dev_name. */
    static String overflowMessage(PciDevice dev, long dma, long size, long mask, long busDmaLimit) {
        String driver = dev == null || dev.driver() == null || dev.driver().isEmpty() ? "pci" : dev.driver();
        String name = dev == null ? "(NULL device *)" : dev.name();
        return String.format("%s %s: DMA addr 0x%016x+%s overflow (mask %x, bus limit %x).", driver, name, dma,
                Long.toUnsignedString(size), mask, busDmaLimit);
    }

    /** dev_WARN_ONCE / dev_err_once: the first report at WARN, later ones at DEBUG. */
    private static void overflow(AtomicBoolean once, PciDevice dev, long dma, long size, long mask, long limit) {
        String msg = overflowMessage(dev, dma, size, mask, limit);
        if (once.compareAndSet(false, true)) {
            LOG.warn(msg);
        } else {
            LOG.debug(msg);
        }
    }

    private static long minNotZero(long a, long b) {
        if (a == 0) {
            return b;
        }
        if (b == 0) {
            return a;
        }
        return minUnsigned(a, b);
    }

    static long minUnsigned(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
