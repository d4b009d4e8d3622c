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
        if (v.provider() == v.client()) {
            return "X"; // nvidia-smi's "Self"
        }
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
        // PIX: at most one PCIe switch between them (the common switch counts once; switches below it on either
        // side add more), also when the common device is a root port: nvidia-smi topo -m on the ASUS ESC8000A
        // says PIX for the two functions of one ConnectX-7 on a root port
        int switches = 0;
        for (PathNode n : v.path()) {
            if (n.device().portType() == PciePortType.UPSTREAM_PORT) {
                switches++;
            }
        }
        return switches <= 1 ? "PIX" : "PXB";
    }

    private static int numa(PciDevice d) {
        return d.numaNode() >= 0 ? d.numaNode() : d.hostBridge().numaNode();
    }
}
