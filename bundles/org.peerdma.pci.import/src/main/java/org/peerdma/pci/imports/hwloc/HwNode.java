package org.peerdma.pci.imports.hwloc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;

/**
 * One hwloc object as the XML and text parsers read it: its kind, the file line it came from,
 * its place in the tree and what it carries (a device, a host bridge, info pairs).
 */
final class HwNode {
    enum Kind { ROOT, MACHINE, NUMA, PACKAGE, HOST_BRIDGE, PCI_BRIDGE, PCI_DEV, OTHER }

    final Kind kind;
    /** 1-based file line of the object. */
    final int line;
    HwNode parent;
    final List<HwNode> children = new ArrayList<>();
    /** P# / os_index, when given. */
    Integer osIndex;
    /** True when the object carries a nodeset (hwloc XML); then {@link #nodesetNode} is meaningful. */
    boolean nodesetKnown;
    /** The single NUMA node of the nodeset, null when it holds none or several. */
    Integer nodesetNode;
    /** hwloc info pairs (CPUVendor, PCIVendor, HostName, ...), first value of each name. */
    final Map<String, String> infos = new LinkedHashMap<>();
    DeviceDTO device;
    HostBridgeDTO hostBridge;

    HwNode(Kind kind, int line) {
        this.kind = kind;
        this.line = line;
    }

    void add(HwNode child) {
        child.parent = this;
        children.add(child);
    }

    boolean isPci() {
        return kind == Kind.PCI_BRIDGE || kind == Kind.PCI_DEV;
    }
}
