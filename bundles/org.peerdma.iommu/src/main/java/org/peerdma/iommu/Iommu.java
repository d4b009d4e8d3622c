package org.peerdma.iommu;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/**
 * The IOMMU core for the loaded machine (drivers/iommu/iommu.c). Groups follow the machine:
 * they are computed again when its {@link org.peerdma.pci.PciMachine#generation() generation}
 * changes (hot-plug, setpci on ACS control), as a reboot with that hardware state would compute
 * them. All methods are thread-safe.
 */
@ProviderType
public interface Iommu {
    /** Translated DMA domains (the kernel default with an IOMMU). */
    String MODE_TRANSLATED = "translated";
    /** Identity (passthrough) default domains: iommu.passthrough=1 / iommu=pt. */
    String MODE_IDENTITY = "identity";
    /** No IOMMU (intel_iommu=off, none present): no groups, nothing is translated. */
    String MODE_OFF = "off";

    /** Domain type of a translated default domain (/sys/kernel/iommu_groups/N/type). */
    String DOMAIN_DMA = "DMA";
    /** Domain type of an identity default domain. */
    String DOMAIN_IDENTITY = "identity";

    /** @return {@link #MODE_TRANSLATED}, {@link #MODE_IDENTITY} or {@link #MODE_OFF}. */
    String mode();

    /**
     * group - iommu_group_get(): the group of {@code dev}.
     * Errors: ENODEV when the device is not present in the loaded machine or there is no IOMMU
     * (mode off).
     */
    IommuGroup group(PciDevice dev);

    /** @return every group of the loaded machine in id order; empty when the mode is off. */
    List<IommuGroup> groups();

    /**
     * domainType - what /sys/kernel/iommu_groups/N/type shows for the group of {@code dev}:
     * {@link #DOMAIN_DMA} or {@link #DOMAIN_IDENTITY}. Errors: as {@link #group}.
     */
    String domainType(PciDevice dev);

    /**
     * setIdentity - echo identity|DMA &gt; /sys/bus/pci/devices/DEV/iommu_group/type: change the
     * default domain of the device's group (every member follows; the setting stays with the
     * members when groups are computed again; members that disagree after a regroup get the
     * mode's default, as probe_alloc_default_domain does).
     * Errors: ENODEV as {@link #group}; EBUSY while the group's domain holds live DMA mappings
     * (the kernel refuses while a driver using the DMA API is bound).
     */
    void setIdentity(PciDevice dev, boolean identity);

    /**
     * iovaInUse - bytes of IOVA space allocated in the domain of {@code dev}'s group (shared by all
     * members; allocations are rounded as the allocator rounds them). 0 for identity domains.
     * Errors: as {@link #group}.
     */
    long iovaInUse(PciDevice dev);

    /**
     * translate - iommu_iova_to_phys() on the domain {@code dev} is attached to now: the CPU
     * physical address a DMA by {@code dev} to {@code iova} reaches, or -1 when nothing is
     * mapped there (the DMA would fault). Identity domains and mode off return {@code iova}
     * unchanged: the address is not translated. Errors: ENODEV for a device not present.
     */
    long translate(PciDevice dev, long iova);
}
