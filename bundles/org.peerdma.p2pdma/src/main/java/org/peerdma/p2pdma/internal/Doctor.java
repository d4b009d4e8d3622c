package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.peerdma.p2pdma.HostBridgeCheck;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.PathNode;
import org.peerdma.pci.Acs;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/** Text for the P2P doctor: one pair explained, and the all-pairs matrix. */
final class Doctor {
    private Doctor() {
    }

    static String explain(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v, Calc.Arch arch) {
        P2pVerdict r = Calc.calc(m, provider, client, v, arch);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "provider %s %s%nclient   %s %s%n", provider.name(), label(provider),
                client.name(), label(client)));
        sb.append(String.format(Locale.ROOT, "verdict  %s: %s, distance %d%s   [%s rules]%n",
                r.supported() ? "P2P SUPPORTED" : "P2P NOT SUPPORTED", r.mapType().kernelName(), r.distance(),
                r.distance() != r.hops() ? " (hop count " + r.hops() + ")" : "", v.label()));
        sb.append("rule     ").append(r.rule()).append('\n');
        sb.append("nvidia-smi class: ").append(PathClass.of(r)).append('\n');
        sb.append("path:\n");
        for (PathNode n : r.path()) {
            sb.append(String.format(Locale.ROOT, "  %-8s %s %-16s %s%n", n.side(), n.device().name(),
                    n.device().portType().lspciName(), acsText(n)));
        }
        if (!r.acsList().isEmpty()) {
            sb.append("redirecting: ").append(r.acsList().replace(";", " ")).append('\n');
            sb.append("to change it: ").append(r.disableAcsRedirParam()).append(
                    "   (or clear RR/CR/EC with: acs BDF -RR -CR -EC)\n");
        }
        HostBridgeCheck hb = r.hostBridgeCheck();
        if (hb != null) {
            sb.append(String.format(Locale.ROOT, "host bridges (%s): CPU rule %s: %s%n",
                    hb.sameHostBridge() ? "same" : "different", hb.cpuSupports() ? "yes" : "no", hb.cpu()));
            for (HostBridgeCheck.Entry e : hb.bridges()) {
                sb.append(String.format(Locale.ROOT, "  %s first device %s: %s%n", e.hostBridge(), e.device(),
                        e.why()));
            }
        }
        for (String w : r.warnings()) {
            sb.append("kernel: ").append(w).append('\n');
        }
        for (String a : r.assumptions()) {
            sb.append("assumed: ").append(a).append('\n');
        }
        sb.append("other kernels:");
        for (KernelVersion o : KernelVersion.values()) {
            if (o == v) {
                continue;
            }
            P2pVerdict x = Calc.calc(m, provider, client, o, arch);
            sb.append(String.format(Locale.ROOT, "  %s %s %d;", o.label(), x.mapType().name(), x.distance()));
        }
        sb.setLength(sb.length() - 1);
        return sb.append('\n').toString();
    }

    private static String label(PciDevice d) {
        String name = (d.vendorName() + " " + d.deviceName()).strip();
        return String.format(Locale.ROOT, "[%04x:%04x] %s", d.vendor(), d.device(), name);
    }

    private static String acsText(PathNode n) {
        if (n.acsUnknown()) {
            return "ACS unknown (not in the dump)";
        }
        if (!n.hasAcs()) {
            return "no ACS capability";
        }
        String ctrl = n.acsCtrl() == 0 ? "(none)" : String.join(" ", Acs.names(n.acsCtrl()));
        return "ACSCtl " + ctrl + (n.redirects() ? "  <- redirects" : "")
                + "  (ACSCap " + String.join(" ", Acs.names(n.acsCap())) + ")";
    }

    /** The endpoints the matrix covers: functions that are not bridges (class 06xx) and not on a root bus only to host it. */
    static List<PciDevice> endpoints(PciMachine m) {
        List<PciDevice> out = new ArrayList<>();
        for (PciDevice d : m.devices()) {
            if (!d.isBridge() && (d.classCode() >> 16) != 0x06 && (d.classCode() >> 16) != 0x08) {
                out.add(d);
            }
        }
        return out;
    }

    static String matrix(PciMachine m, KernelVersion v, List<PciDevice> devs, Calc.Arch arch) {
        StringBuilder sb = new StringBuilder();
        int n = devs.size();
        FastCalc fast = new FastCalc(m, v, arch);
        FastCalc.Chain[] chains = new FastCalc.Chain[n];
        for (int k = 0; k < n; k++) {
            chains[k] = new FastCalc.Chain(devs.get(k));
        }
        sb.append(String.format(Locale.ROOT, "%-9s", ""));
        for (int j = 0; j < n; j++) {
            sb.append(String.format(Locale.ROOT, " %-12s", devs.get(j).bdf().shortName()));
        }
        sb.append('\n');
        for (int i = 0; i < n; i++) {
            sb.append(String.format(Locale.ROOT, "%-9s", devs.get(i).bdf().shortName()));
            for (int j = 0; j < n; j++) {
                String cell;
                if (i == j) {
                    cell = "X";
                } else {
                    FastCalc.Result r = fast.pair(chains[i], chains[j]);
                    boolean ok = r.type() == MapType.BUS_ADDR || r.type() == MapType.THRU_HOST_BRIDGE;
                    cell = shortType(r.type()) + (ok ? "(" + r.distance() + ")" : "") + " " + r.pathClass();
                }
                sb.append(String.format(Locale.ROOT, " %-12s", cell));
            }
            sb.append('\n');
        }
        sb.append("rows: provider, columns: client; BUS = PCI_P2PDMA_MAP_BUS_ADDR, HB = THRU_HOST_BRIDGE, "
                + "NO = NOT_SUPPORTED (distance); PIX/PXB/PHB/NODE/SYS = nvidia-smi path class; " + v.label()
                + " rules\n");
        return sb.toString();
    }

    static String shortType(MapType t) {
        return switch (t) {
            case BUS_ADDR -> "BUS";
            case THRU_HOST_BRIDGE -> "HB";
            case NOT_SUPPORTED -> "NO";
            default -> t.name();
        };
    }
}
