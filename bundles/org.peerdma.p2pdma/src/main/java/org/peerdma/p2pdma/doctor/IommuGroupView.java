package org.peerdma.p2pdma.doctor;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;
import org.peerdma.pci.PciMachine;

/**
 * The IOMMU groups a boot of a machine would form, for what-ifs (pci_device_group() over every device as
 * its ACS state stands). The IOMMU module provides it; the doctor uses it when it is there.
 */
@ConsumerType
public interface IommuGroupView {
    /** groups - every group of {@code machine}, in probe order; the machine need not be the loaded one. */
    List<Group> groups(PciMachine machine);

    /**
     * @param id the group number, in probe order from 0
     * @param members the members' BDFs
     * @param reason why the boundary is where it is
     */
    record Group(int id, List<String> members, String reason) {
    }
}
