package org.peerdma.p2pdma;

import org.peerdma.pci.PciDevice;

/**
 * A struct device as a p2pdma client: a PCI function, or a non-PCI device (a platform device,
 * a virtual device) whose parents may or may not lead to a PCI function. find_parent_pci_dev()
 * walks {@link #parent()} until it finds one.
 *
 * @param name device name for messages
 * @param parent parent device, or null
 * @param pci the PCI function this node is, or null
 */
public record DeviceNode(String name, DeviceNode parent, PciDevice pci) {
    /** of - the node of a PCI function. */
    public static DeviceNode of(PciDevice pci) {
        return new DeviceNode(pci.name(), null, pci);
    }

    /** platform - a non-PCI device below {@code parent} (may be null). */
    public static DeviceNode platform(String name, DeviceNode parent) {
        return new DeviceNode(name, parent, null);
    }

    /** findParentPciDev - the first PCI function among this node and its parents, or null. */
    public PciDevice findParentPciDev() {
        for (DeviceNode n = this; n != null; n = n.parent) {
            if (n.pci != null) {
                return n.pci;
            }
        }
        return null;
    }
}
