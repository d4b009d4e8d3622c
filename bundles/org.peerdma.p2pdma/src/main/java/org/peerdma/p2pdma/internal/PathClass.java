package org.peerdma.p2pdma.internal;

import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.PathNode;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciePortType;

/**
 * nvidia-smi topo -m's path classes for a pair, from the same walk: PIX (at most one PCIe switch),
 * PXB (several switches, no host bridge), PHB (through a host bridge), NODE (between host bridges
 * of one NUMA node), SYS (between NUMA nodes). This is NVIDIA's classification, not the kernel's.
 */
final class PathClass {
    private PathClass() {
    }

    static String of(P2pVerdict v) {
        PciDevice common = v.commonUpstream();
        if (common == null) {
            if (v.provider().hostBridge() == v.client().hostBridge()) {
                return "PHB";
            }
            int a = numa(v.provider());
            int b = numa(v.client());
            if (a >= 0 && b >= 0) {
                return a == b ? "NODE" : "SYS";
            }
            return "NODE?";
        }
        if (common == v.provider() || common == v.client()) {
            return "PIX";
        }
        int switches = 0;
        boolean rootPort = false;
        for (PathNode n : v.path()) {
            PciDevice d = n.device();
            if (d.portType() == PciePortType.UPSTREAM_PORT) {
                switches++;
            }
            if (d.portType() == PciePortType.ROOT_PORT && d.isBridge()) {
                rootPort = true;
            }
        }
        if (common.portType() == PciePortType.DOWNSTREAM_PORT || common.portType() == PciePortType.UPSTREAM_PORT) {
            // the common switch counts once; switches below it on either side add more
            return switches <= 1 ? "PIX" : "PXB";
        }
        if (rootPort || common.portType() == PciePortType.ROOT_PORT) {
            return "PXB";
        }
        return switches <= 1 ? "PIX" : "PXB";
    }

    private static int numa(PciDevice d) {
        return d.numaNode() >= 0 ? d.numaNode() : d.hostBridge().numaNode();
    }
}
