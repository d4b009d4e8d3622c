package org.peerdma.iommu.internal;

import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.peerdma.iommu.IommuGroup;
import org.peerdma.p2pdma.doctor.IommuGroupView;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/** The doctor's view of IOMMU groups: pci_device_group() over any machine, loaded or a what-if copy. */
@Component(service = IommuGroupView.class)
public class GroupViewImpl implements IommuGroupView {
    @Override
    public List<Group> groups(PciMachine machine) {
        return Grouping.compute(machine).groups().stream().map(GroupViewImpl::group).toList();
    }

    private static Group group(IommuGroup g) {
        return new Group(g.id(), g.members().stream().map(PciDevice::name).toList(), g.reason());
    }
}
