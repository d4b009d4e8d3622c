package org.peerdma.arch.x86;

import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dma.spi.DmaOps;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kernel/dma/direct.c on x86_64: DMA addresses are physical addresses. A buffer the device's mask
 * cannot reach would be bounced through swiotlb by the kernel; this model does not bounce and
 * returns DMA_MAPPING_ERROR instead, saying so.
 */
@Component(property = {DmaOps.NAME + "=x86-direct", DmaOps.KIND + "=direct", "service.ranking:Integer=10"})
public class X86DirectOps implements DmaOps {
    private static final Logger LOG = LoggerFactory.getLogger("dma.x86");
    /** zone_dma_limit on x86: ZONE_DMA is the first 16 MiB. */
    static final long ZONE_DMA_LIMIT = 0xffffffL;

    /** dma_capable(dev, addr, size, true): the whole range below the mask. */
    static boolean capable(long dma, long size, long mask) {
        long end = dma + size - 1;
        return Long.compareUnsigned(end, dma) >= 0 && Long.compareUnsigned(end, mask) <= 0;
    }

    @Override
    public long mapPage(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
        if (!capable(phys, size, mask)) {
            LOG.warn("{}: DMA addr {}+{} overflow (mask {}); swiotlb bounce buffering is not modelled", dev.name(),
                    hex(phys), size, hex(mask));
            return DmaApi.DMA_MAPPING_ERROR;
        }
        return phys;
    }

    @Override
    public void unmapPage(PciDevice dev, long dma, long size, DmaDirection dir) {
        // direct mappings need no unmap
    }

    /** dma_direct_map_sg: each entry on its own (no merging), all-or-nothing. */
    @Override
    public List<SgEntry> mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir, long mask) {
        List<SgEntry> out = new ArrayList<>(sgl.size());
        for (SgEntry e : sgl) {
            long dma = mapPage(dev, e.phys(), e.length(), dir, mask);
            if (dma == DmaApi.DMA_MAPPING_ERROR) {
                return null;
            }
            out.add(new SgEntry(e.phys(), e.length(), dma, e.length()));
        }
        return out;
    }

    @Override
    public void unmapSg(PciDevice dev, List<SgEntry> mapped, DmaDirection dir) {
        // direct mappings need no unmap
    }

    /** dma_direct_map_resource: dma = phys_to_dma_direct(paddr) = paddr on x86. */
    @Override
    public long mapResource(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
        if (!capable(phys, size, mask)) {
            LOG.warn("{}: DMA addr {}+{} overflow (mask {}, bus limit 0)", dev.name(), hex(phys), size, hex(mask));
            return DmaApi.DMA_MAPPING_ERROR;
        }
        return phys;
    }

    @Override
    public void unmapResource(PciDevice dev, long dma, long size, DmaDirection dir) {
        // no-op for direct mappings
    }

    /** dma_direct_supported: the mask must reach ZONE_DMA. */
    @Override
    public boolean supported(PciDevice dev, long mask) {
        return Long.compareUnsigned(mask, ZONE_DMA_LIMIT) >= 0;
    }

    @Override
    public long physToDma(PciDevice dev, long phys) {
        return phys;
    }

    /** dma_to_phys on x86: the identity. */
    @Override
    public long dmaToPhys(PciDevice dev, long dma) {
        return dma;
    }

    private static String hex(long v) {
        return String.format("%#x", v);
    }
}
