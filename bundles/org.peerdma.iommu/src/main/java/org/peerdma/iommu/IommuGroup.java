package org.peerdma.iommu;

import java.util.List;
import java.util.Objects;

import org.peerdma.pci.PciDevice;

/**
 * One IOMMU group (struct iommu_group, /sys/kernel/iommu_groups/ID): the smallest set of devices
 * the IOMMU can isolate from each other. Members share one default domain, hence one IOVA space.
 *
 * @param id the group number, allocated in probe order (for_each_pci_dev) from 0
 * @param members the devices, in probe order
 * @param reason why the boundary is where it is, e.g. "no ACS isolation on 0000:02:00.0 (ACSCtl
 *        lacks RR)" for a shared group, or the isolation that makes a single-device group
 */
public record IommuGroup(int id, List<PciDevice> members, String reason) {
    public IommuGroup {
        members = List.copyOf(members);
        Objects.requireNonNull(reason);
    }

    /** @return true if {@code dev} is a member. */
    public boolean contains(PciDevice dev) {
        return members.contains(dev);
    }
}
