package org.peerdma.dma.spi;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.pci.PciDevice;

/**
 * struct dma_map_ops. Service properties: {@value #NAME} (mandatory, e.g. "x86-direct", "iommu"),
 * {@value #KIND} ("direct" or "iommu", mandatory), {@code service.ranking}: among direct ops the
 * best ranked is the arch default; IOMMU ops are used for devices they translate.
 * All methods are mandatory; the DMA core checks the service properties at registration.
 */
@ConsumerType
public interface DmaOps {
    String NAME = "peerdma.dma.ops";
    String KIND = "peerdma.dma.kind";

    /** map_page. Return: the dma address, or DMA_MAPPING_ERROR (-1). */
    long mapPage(PciDevice dev, long phys, long size, DmaDirection dir, long mask);

    void unmapPage(PciDevice dev, long dma, long size, DmaDirection dir);

    /** map_sg. Return: the mapped entries (merged where the ops can), or null on failure with nothing left mapped. */
    List<SgEntry> mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir, long mask);

    void unmapSg(PciDevice dev, List<SgEntry> mapped, DmaDirection dir);

    /** map_resource: MMIO. Return: the dma address or DMA_MAPPING_ERROR. */
    long mapResource(PciDevice dev, long phys, long size, DmaDirection dir, long mask);

    void unmapResource(PciDevice dev, long dma, long size, DmaDirection dir);

    /** dma_supported. */
    boolean supported(PciDevice dev, long mask);

    /** phys_to_dma for direct ops (translation offsets included); IOMMU ops return -1. */
    long physToDma(PciDevice dev, long phys);

    /**
     * dma_to_phys for what the device puts on the bus: the inverse of the direct translation, or
     * the IOMMU page-table walk for a device it translates. Return: the CPU physical address, or -1
     * when nothing maps {@code dma} (an IOMMU fault; outside every dma-range).
     */
    long dmaToPhys(PciDevice dev, long dma);

    /** Whether this IOMMU translates {@code dev} (false: the device bypasses it, e.g. identity domain). */
    default boolean translates(PciDevice dev) {
        return false;
    }
}
