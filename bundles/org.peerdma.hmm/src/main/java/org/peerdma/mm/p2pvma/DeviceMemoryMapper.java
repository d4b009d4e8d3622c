package org.peerdma.mm.p2pvma;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.mm.vm.Mm;
import org.peerdma.pci.PciDevice;

/**
 * A GPU-like driver's mmap of its device memory (p2pdma provider pages of its BAR) into a process:
 * a VM_IO|VM_PFNMAP vma whose CPU faults insert the BAR's pfns and whose p2p_map gives another
 * device DMA addresses of the same memory when p2pdma says the pair can do it (bus address through
 * a switch, or the BAR mapped through the host bridge), and refuses (-EREMOTEIO) otherwise.
 * Importers must p2p_unmap on every invalidation; the memory goes back to the provider's pool only
 * when the vma closes.
 */
@ProviderType
public interface DeviceMemoryMapper {
    /**
     * mmap - {@code size} bytes of {@code gpu}'s device memory into {@code mm}. Return: the address;
     * -ENOMEM when the provider's pool has no room; -EINVAL for a bad size; -ENODEV when the device
     * has no p2pdma memory.
     */
    long mmap(Mm mm, PciDevice gpu, long size);

    /**
     * mmapP2pmem - mmap of the provider's p2pmem/allocate sysfs file (pci_mmap_p2pmem): fresh pool
     * pages put in a shared vma with vm_insert_page (struct pages, so hmm_range_fault reports them and
     * hmm_dma_map_pfn maps them by map type); each page returns to the pool when unmapped. Return:
     * the address; -EINVAL (bad size); -ENODEV (no p2pdma memory); -ENOMEM (pool exhausted).
     */
    long mmapP2pmem(Mm mm, PciDevice provider, long size);

    /** @return "importer range" lines of the live peer mappings. */
    List<String> peerMappings();

    /** @return bytes of device memory mapped into processes now. */
    long mapped(PciDevice gpu);
}
