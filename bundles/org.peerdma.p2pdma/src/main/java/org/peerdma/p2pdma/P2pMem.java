package org.peerdma.p2pdma;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.mm.Page;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;

/**
 * P2P memory providers (drivers/pci/p2pdma.c): a BAR becomes ZONE_DEVICE P2PDMA pages in a
 * page-granular pool stored by PCI bus address; clients find, allocate and map it.
 * Addresses called "virt" are kernel virtual addresses of the provider's pages (the direct map).
 */
@ProviderType
public interface P2pMem {
    /**
     * addResource - pci_p2pdma_add_resource(pdev, bar, size, offset). Checks in the kernel's order:
     * EINVAL BAR not memory; EINVAL offset &gt;= BAR length; size 0 means the rest of the BAR; EINVAL
     * size + offset past the BAR; then memremap_pages errors (ENOMEM conflict, ENXIO System RAM,
     * EINVAL outside the hot-pluggable range). Errors: ENODEV for a removed device.
     */
    void addResource(PciDevice pdev, int bar, long size, long offset);

    /** alloc - pci_alloc_p2pmem: page-rounded first fit. Return: virt, or 0 (NULL) when none or dying. */
    long alloc(PciDevice pdev, long size);

    /** free - pci_free_p2pmem. Errors: EINVAL for memory not allocated from this device. */
    void free(PciDevice pdev, long virt, long size);

    /** virtToBus - pci_p2pmem_virt_to_bus: the PCI bus address, 0 when virt is 0 or no p2pdma. */
    long virtToBus(PciDevice pdev, long virt);

    /**
     * allocSgl - pci_p2pmem_alloc_sgl: one entry of {@code length} bytes.
     * Return: the scatterlist, or empty on failure.
     */
    Optional<Sgl> allocSgl(PciDevice pdev, long length);

    /** freeSgl - pci_p2pmem_free_sgl. */
    void freeSgl(PciDevice pdev, Sgl sgl);

    /** publish - pci_p2pmem_publish: a no-op without p2pdma. */
    void publish(PciDevice pdev, boolean publish);

    /** hasP2pmem - pci_has_p2pmem: p2pdma, a pool and published (newest). */
    boolean hasP2pmem(PciDevice pdev);

    /**
     * findMany - pci_p2pmem_find_many: among published providers with a non-negative distance to
     * every client, one of the closest chosen uniformly at random, with a device reference taken
     * for {@code holder} (close it: pci_dev_put). Empty when none.
     */
    Optional<PciDeviceRef> findMany(List<DeviceNode> clients, String holder);

    /** info - the p2pmem sysfs attributes. Errors: ENOENT when the device has no p2pmem group. */
    P2pMemInfo info(PciDevice pdev);

    /** @return the devices that are providers now. */
    List<PciDevice> providers();

    /**
     * mmapAllocate - mmap of p2pmem/allocate. Errors: EINVAL private mapping ("attempted private
     * mapping"), EINVAL non-zero offset, ENODEV no p2pdma or dying, ENOMEM pool exhausted.
     */
    P2pMapping mmapAllocate(PciDevice pdev, long length, long pgoff, boolean shared);

    /**
     * addUserMapping - note a user mapping of p2pmem/allocate (the file's i_mmap), with how to zap its
     * ptes. At teardown, release runs every zap before it waits for the pages (p2pdma_unmap_mappings), so
     * a process that still maps the memory does not hold the device's removal up; its next access faults.
     * Return: a handle whose close() forgets the mapping (munmap); null when the provider is already gone
     * (the caller unmaps at once).
     */
    AutoCloseable addUserMapping(PciDevice pdev, Runnable zap);

    /**
     * mapType - pci_p2pdma_map_type(provider, client): NOT_SUPPORTED without p2pdma; otherwise the
     * cached type, computed on a miss in the newest rules and returned as UNKNOWN in v5.x.
     */
    MapType mapType(PciDevice provider, PciDevice client);

    /**
     * mapForDma - map {@code length} bytes of the provider's P2P memory at {@code virt} for DMA by
     * {@code client} (pci_p2pdma_map_segment / dma_map_sg with P2PDMA pages), by the map type:
     * BUS_ADDR: dma = the PCI bus address (CPU address + bus offset; the pre-2021 kernels had the sign
     * wrong, reproduced for their rule sets), no IOMMU and nothing to unmap; THRU_HOST_BRIDGE: the DMA
     * API maps the BAR's CPU address for the client (IOMMU when it translates); NOT_SUPPORTED:
     * EREMOTEIO. Errors: EFAULT for memory that is not the provider's; ENODEV without a DMA API for
     * THRU_HOST_BRIDGE.
     */
    P2pDmaMapping mapForDma(PciDevice client, PciDevice provider, long virt, long length,
            org.peerdma.dma.DmaDirection dir);

    /** unmapForDma - only THRU_HOST_BRIDGE mappings have anything to unmap. */
    void unmapForDma(P2pDmaMapping mapping);

    /**
     * enableStore - pci_p2pdma_enable_store(page): a provider's name selects it (ENODEV "PCI device
     * has no peer-to-peer memory" when it is not a provider); text starting with '0' or '1' followed
     * by a non-control character is refused (ENODEV "No such PCI device") so that an address is never
     * read as a boolean; otherwise kstrtobool decides (y/n/1/0/on/off), and anything else is ENODEV.
     */
    P2pEnable enableStore(String page);

    /** page - the ZONE_DEVICE page of a provider's virt address. Errors: EFAULT. */
    Page page(PciDevice pdev, long virt);

    /**
     * release - pci_p2pdma_release (driver unbind or device removal): new allocations fail at once,
     * the pool and cache go, and the pages are unmapped once every outstanding page is returned.
     */
    void release(PciDevice pdev);
}
