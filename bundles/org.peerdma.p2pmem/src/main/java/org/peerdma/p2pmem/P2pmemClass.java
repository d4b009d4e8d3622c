package org.peerdma.p2pmem;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.pci.PciDevice;

/** The p2pmem class and its exported functions. */
@ProviderType
public interface P2pmemClass {
    /** p2pmem_create(parent): a new p2pmemN (lowest free id). Errors: ENODEV for a removed parent. */
    P2pmemDevice create(PciDevice parent);

    /**
     * addPciRegion - p2pmem_add_pci_region(p, pdev, bar): pci_request_region (EBUSY when the BAR is
     * already claimed), then p2pmem_add_resource of the whole BAR: ZONE_DEVICE pages (memremap errors,
     * e.g. ENOMEM when p2pdma already mapped it), pooled by CPU physical address. Logs "added %pR".
     */
    void addPciRegion(P2pmemDevice p, PciDevice pdev, int bar);

    /** p2pmem_alloc: gen_pool_alloc. Return: the kernel virtual address or 0 (NULL). */
    long alloc(P2pmemDevice p, long size);

    /** p2pmem_free. Errors: EINVAL for memory not from this device. */
    void free(P2pmemDevice p, long virt, long size);

    /**
     * findCompat - p2pmem_find_compat(dma_devices): the FIRST registered p2pmem device (class order)
     * whose parent and every client have the same "upstream switch port" (the bridge two levels up:
     * the switch's upstream port), with a reference (close it with put). Devices on a root port are
     * rejected: they have no switch. Return: empty when none matches.
     */
    Optional<P2pmemDevice> findCompat(List<DeviceNode> clients, List<String> log);

    /** p2pmem_put. */
    void put(P2pmemDevice p);

    /**
     * unregister - p2pmem_unregister: the device leaves the class at once; its memory goes when
     * the last reference and allocation are gone.
     */
    void unregister(P2pmemDevice p);

    /** @return /sys/class/p2pmem: the registered devices in id order. */
    List<P2pmemDevice> devices();

    /** @return the debugfs stats file: "total size: N\navailable:  N\n". */
    String stats(P2pmemDevice p);
}
