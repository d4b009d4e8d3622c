package org.peerdma.p2pdma.internal;

import org.peerdma.p2pdma.HostBridgeCheck;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.doctor.Directions;
import org.peerdma.pci.CpuInfo;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/**
 * The platform table behind {@link Directions}: which hardware forwards peer-to-peer writes and reads.
 * Writes are one posted TLP to the target; a read needs its completion routed back, which root complexes
 * are free not to do (PCIe r4.0 sec 1.3.1 makes routing between root ports optional). Sources are in
 * docs/p2pdma.md.
 */
final class ReadWrite {
    static final String SWITCH_SOURCE = "PCIe r4.0 sec 1.3.1, as quoted in kernel commit 0f97da831026; Kconfig PCI_P2PDMA";
    static final String AMD_SOURCE = "Alex Deucher (AMD), kernel commit 7d5b10fcb81e (v5.8) and linux-pci, 2020: "
            + "\"Starting with Zen, all AMD platforms support P2P for reads and writes\"";
    static final String INTEL_CLIENT_SOURCE = "https://github.com/NVIDIA/open-gpu-kernel-modules/issues/1253 "
            + "(NVIDIA: \"Intel client CPUs are known to only support PCIe P2P writes\")";
    static final String XEON_SOURCE = "kernel commits 494d63b0d5d0 and 0ba76b19fd4c (whitelist rows for Xeon host bridges)";

    private ReadWrite() {
    }

    /** of - what forwards the pair's traffic and which directions it is known to carry. */
    static Directions of(PciMachine m, PciDevice provider, PciDevice client, P2pVerdict r) {
        if (provider.equals(client)) {
            return new Directions("yes", "yes", "the device itself", "a device reaching its own memory", true, "");
        }
        boolean throughRootComplex = r.commonUpstream() == null || r.mapType() != MapType.BUS_ADDR;
        if (!throughRootComplex) {
            boolean sameDevice = provider.bdf().domain() == client.bdf().domain()
                    && provider.bdf().bus() == client.bdf().bus()
                    && provider.bdf().device() == client.bdf().device();
            return new Directions("yes", "yes", sameDevice ? "functions of one device" : "PCIe switch",
                    (sameDevice ? "two functions of one device" : "below the common upstream bridge "
                            + r.commonUpstream().name())
                            + ": requests are routed by address and completions by ID without reaching the root "
                            + "complex; the PCIe specification requires it", true, SWITCH_SOURCE);
        }
        CpuInfo cpu = m.cpu();
        int vendor = DoctorImpl.hostBridgeVendor(m, provider, client);
        String via = r.commonUpstream() == null ? "between root ports" : "redirected by ACS up to the root complex";
        boolean amdCpu = cpu.isAmd() || cpu.isUnknown() && vendor == 0x1022;
        String inferred = cpu.isUnknown() && vendor >= 0 ? " (CPU inferred from the host bridges' vendor "
                + String.format("%04x", vendor) + ")" : "";
        if (amdCpu && (cpu.isUnknown() || cpu.family() >= 0x17)) {
            return new Directions("yes", "yes", "AMD Zen root complex", via + "; Zen and later root complexes forward "
                    + "P2P reads and writes" + inferred, true, AMD_SOURCE);
        }
        if (amdCpu) {
            return new Directions("yes", "no", "AMD pre-Zen root complex", via + "; pre-Zen AMD root complexes "
                    + "forward P2P writes only (\"pre-ZEN parts support p2p writes\")", true, AMD_SOURCE);
        }
        boolean intel = "GenuineIntel".equals(cpu.vendor()) || cpu.isUnknown() && vendor == 0x8086;
        if (intel) {
            HostBridgeCheck hb = r.hostBridgeCheck();
            boolean whitelisted = hb != null && !hb.bridges().isEmpty()
                    && hb.bridges().stream().allMatch(HostBridgeCheck.Entry::whitelisted);
            if (whitelisted) {
                return new Directions("yes", "unknown", "Intel Xeon root complex", via + "; the host bridge is a "
                        + "whitelisted Xeon, for which the kernel allows P2P; reads are not documented separately "
                        + "(reported to work better than on client parts, and slowly across sockets)", false,
                        XEON_SOURCE);
            }
            return new Directions("yes", "no", "Intel client root complex", via + "; an Intel host bridge that is not "
                    + "a whitelisted Xeon, so a client (desktop or laptop) root complex: these forward P2P writes "
                    + "only; reads fail (CQE errors, all-ones data)" + inferred, true, INTEL_CLIENT_SOURCE);
        }
        return new Directions("unknown", "unknown", "root complex of " + (cpu.isUnknown() ? "an unknown CPU"
                : cpu.vendor()), via + "; no documentation of this root complex's P2P forwarding was found", false,
                "");
    }
}
