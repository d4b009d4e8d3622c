package org.peerdma.dma;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/** dma-mapping.h for the model's devices. Errors are the kernel's: a failed map is DMA_MAPPING_ERROR. */
@ProviderType
public interface DmaApi {
    /** The dma_addr_t a failed map returns. */
    long DMA_MAPPING_ERROR = -1L;

    /**
     * mapPage - dma_map_page_attrs / dma_map_single. Errors: ENODEV removed device, EINVAL size 0,
     * EIO (DMA_MAPPING_ERROR) when the address is not reachable under the device's mask and
     * nothing can bounce it, ENOSPC when the IOVA space is exhausted.
     */
    DmaMapping mapPage(PciDevice dev, long phys, long size, DmaDirection dir);

    /**
     * mapSg - dma_map_sg(t): physically contiguous entries are merged into one DMA segment by ops
     * that can (an IOMMU merges all into one IOVA range). Errors as mapPage; nothing stays mapped.
     */
    DmaMapping mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir);

    /** mapResource - dma_map_resource: MMIO (a peer's BAR) for this device. Errors as mapPage. */
    DmaMapping mapResource(PciDevice dev, long physAddr, long size, DmaDirection dir);

    /** unmap - dma_unmap_*. Errors: EINVAL when already unmapped (the kernel's DMA-debug check). */
    void unmap(DmaMapping mapping);

    /** syncForCpu / syncForDevice - dma_sync_*_for_{cpu,device}. Errors: EINVAL on an unmapped mapping. */
    void syncForCpu(DmaMapping mapping);

    void syncForDevice(DmaMapping mapping);

    /**
     * setMask - dma_set_mask_and_coherent. Errors: EIO when the ops cannot support it (dma_supported
     * false), e.g. a mask below the lowest address the platform can reach.
     */
    void setMask(PciDevice dev, long mask);

    /** @return the device's DMA mask (default 32 bits, as for PCI devices). */
    long mask(PciDevice dev);

    /**
     * addressingLimited - dma_addressing_limited: the device's mask is below the required mask
     * (dma_get_required_mask: 32 bits behind a translating IOMMU, else enough for all of RAM, up to
     * PhysMemory.RAM_END), so some memory would need bouncing. Errors: ENODEV (removed device, no ops).
     */
    boolean addressingLimited(PciDevice dev);

    /** physToDma - what the device must use for a CPU physical address without mapping (direct only). */
    long physToDma(PciDevice dev, long phys);

    /**
     * dmaToPhys - where a DMA address the device emits lands after the root complex: the CPU
     * physical address through get_dma_ops(dev) (the IOMMU's page table, or the direct
     * translation's inverse). Errors: ENODEV removed device; EFAULT when nothing maps it (an
     * IOMMU fault, or an address outside the device's dma-ranges).
     */
    long dmaToPhys(PciDevice dev, long dma);

    /** @return the name of the ops get_dma_ops(dev) would use now. */
    String opsName(PciDevice dev);

    /**
     * setOpsOverride - the per-device override of get_dma_ops (dev-&gt;dma_ops): the named ops for
     * this device, or null to follow the default. Errors: ENODEV when no ops of that name exist.
     */
    void setOpsOverride(PciDevice dev, String opsName);

    /** @return the device's live mappings. */
    List<DmaMapping> mappings(PciDevice dev);

    /** @return every available ops name, the one in effect by default first. */
    List<String> opsNames();
}
