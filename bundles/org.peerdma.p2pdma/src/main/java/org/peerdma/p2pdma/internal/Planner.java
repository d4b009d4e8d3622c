package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.doctor.HostBridges;
import org.peerdma.p2pdma.doctor.PlanStep;
import org.peerdma.p2pdma.doctor.Remediation;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciePortType;

/**
 * The remediation planner: every change that would make a host-bridge or refused pair go peer to peer, ranked
 * by how little it changes (a register write lost at reboot, a boot option, a firmware setting, another kernel,
 * moving a card), each with what it costs and, where the model booted a copy with it, whether it worked.
 */
final class Planner {
    private static final Pattern LATER = Pattern.compile("a newer kernel whitelists it: (\\S+) \\((.*); since (v[0-9.]+)\\)");

    private Planner() {
    }

    static List<PlanStep> of(PciDevice provider, PciDevice client, MapType type, Remediation fix, HostBridges hb) {
        List<PlanStep> out = new ArrayList<>();
        if (type == MapType.BUS_ADDR) {
            return out;
        }
        if (fix != null) {
            String ports = String.join(" ", fix.ports().stream().map(Remediation.PortFix::bdf).toList());
            out.add(step(out, "runtime", String.join(" ; ", fix.ports().stream().map(Remediation.PortFix::setpci)
                    .toList()), "clears only the redirect bits of " + ports + "; lost at reboot, hot reset or a "
                    + "driver's ACS write; the devices below each port then share an IOMMU group", null));
            out.add(step(out, "boot", fix.bootOption(), "every boot; with an IOMMU driver on 6.11 and later the "
                    + "named ports also lose SV and UF (their firmware value minus RR CR EC)", proved(fix,
                            fix.bootOption())));
            if (fix.configAcs() != null) {
                Boolean p = proved(fix, fix.configAcs());
                out.add(step(out, "boot", fix.configAcs(), "kernel 6.11 and later: every bit given, so source "
                        + "validation and upstream forwarding stay" + (p == null ? "; not offered by this kernel "
                        + "release (see the notes)" : ""), p));
            }
            out.add(step(out, "firmware", "turn off the firmware's PCIe ACS setting (names vary: 'ACS Enable' in "
                    + "AMD CBS > NBIO Common Options, 'PCIe ACS Control' on some boards)", "the firmware stops "
                    + "setting RR CR on " + ports + "; an IOMMU driver sets them again at boot (pci_std_enable_acs), "
                    + "so with the IOMMU on a boot option is still needed", null));
        }
        if (hb != null) {
            for (HostBridges.Row row : hb.bridges()) {
                Matcher m = LATER.matcher(row.why());
                if (!row.whitelisted() && m.find()) {
                    out.add(step(out, "kernel", "boot kernel " + m.group(3) + " or later", "its P2PDMA whitelist "
                            + "has " + m.group(1) + " (" + m.group(2) + "), the host bridge of " + row.hostBridge(),
                            null));
                    break;
                }
            }
        }
        PciDevice sw = switchAbove(provider);
        PciDevice other = client;
        if (sw == null || below(client, sw)) {
            sw = switchAbove(client);
            other = provider;
        }
        if (sw != null && !below(other, sw)) {
            out.add(step(out, "slot", "move " + other.name() + " into a free slot below the PCIe switch whose "
                    + "upstream port is " + sw.name() + " (it holds " + (other == client ? provider : client).name()
                    + ")", "the traffic then stays in the switch, which the PCIe specification guarantees: "
                    + "BUS_ADDR when its downstream ports do not redirect", null));
        } else if (sw == null) {
            out.add(step(out, "slot", "put both below one PCIe switch", "the traffic then stays in the switch "
                    + "(BUS_ADDR when its downstream ports do not redirect) instead of crossing the root complex",
                    null));
        }
        return out;
    }

    private static PlanStep step(List<PlanStep> so, String kind, String change, String effect, Boolean proved) {
        return new PlanStep(so.size() + 1, kind, change, effect, proved);
    }

    /** Whether booting a copy with {@code option} made the pair BUS_ADDR, null when it was not tried. */
    private static Boolean proved(Remediation fix, String option) {
        for (Remediation.Proof p : fix.proofs() == null ? List.<Remediation.Proof>of() : fix.proofs()) {
            if (p.option().equals(option)) {
                return p.mapType().equals("BUS_ADDR");
            }
        }
        return null;
    }

    /** The upstream port of the nearest PCIe switch above {@code d}, or null. */
    static PciDevice switchAbove(PciDevice d) {
        for (PciDevice up = d.upstreamBridge(); up != null; up = up.upstreamBridge()) {
            if (up.portType() == PciePortType.UPSTREAM_PORT) {
                return up;
            }
        }
        return null;
    }

    private static boolean below(PciDevice d, PciDevice bridge) {
        for (PciDevice up = d.upstreamBridge(); up != null; up = up.upstreamBridge()) {
            if (up == bridge) {
                return true;
            }
        }
        return false;
    }
}
