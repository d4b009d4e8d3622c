package org.peerdma.p2pdma.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.doctor.Alternative;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.DeviceInfo;
import org.peerdma.p2pdma.doctor.Hop;
import org.peerdma.p2pdma.doctor.HostBridges;
import org.peerdma.p2pdma.doctor.KernelAnswer;
import org.peerdma.p2pdma.doctor.MachineAudit;
import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.p2pdma.doctor.Remediation;
import org.peerdma.p2pdma.doctor.Verdict;
import org.peerdma.p2pdma.doctor.WhatIfReport;

/** The doctor's reports as people read them in the shell and on a terminal. */
final class DoctorText {
    private DoctorText() {
    }

    static String check(CheckReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "provider %s %s%nclient   %s %s%n", r.provider().bdf(), label(r.provider()),
                r.client().bdf(), label(r.client())));
        Verdict v = r.verdict();
        sb.append("verdict  ");
        if (v.answer().equals("depends")) {
            sb.append("DEPENDS on facts the description lacks; as described: ");
        }
        sb.append(String.format(Locale.ROOT, "%s: %s, distance %d%s   [%s rules%s]%n",
                v.supported() ? "P2P SUPPORTED" : "P2P NOT SUPPORTED", v.kernelMapType(), v.distance(),
                v.distance() != v.hops() ? " (hop count " + v.hops() + ")" : "", r.ruleSet().label(),
                r.ruleSet().release() == null ? "" : ", for kernel " + r.ruleSet().release()));
        if (r.ruleSet().note() != null) {
            sb.append("rules    ").append(r.ruleSet().note()).append('\n');
        }
        sb.append("rule     ").append(v.rule()).append('\n');
        for (Alternative a : r.alternatives()) {
            sb.append(String.format(Locale.ROOT, "  if %s: %s (%s, distance %d)%s%n", a.condition(),
                    a.supported() ? "P2P SUPPORTED" : "P2P NOT SUPPORTED", a.mapType(), a.distance(),
                    a.likely() ? "  -- likely: " + a.because() : ""));
        }
        sb.append("nvidia-smi class: ").append(r.nvidiaSmiClass()).append('\n');
        sb.append("path:\n");
        for (Hop n : r.path()) {
            sb.append(String.format(Locale.ROOT, "  %-8s %s %-16s %s%n", n.side(), n.bdf(), n.portType(), acsText(n)));
        }
        Remediation fix = r.remediation();
        if (fix != null) {
            sb.append("redirecting: ").append(String.join(" ", fix.ports().stream().map(Remediation.PortFix::bdf)
                    .toList())).append('\n');
            sb.append("fix at boot: ").append(fix.bootOption()).append("   (kernel command line)\n");
            for (Remediation.PortFix p : fix.ports()) {
                sb.append("fix now:     ").append(p.setpci()).append("   (clears ")
                        .append(String.join(" ", p.clearBits())).append("; lost at reboot)\n");
            }
            if (fix.configAcs() != null) {
                sb.append("or, kernel 6.11+: ").append(fix.configAcs())
                        .append("   (every bit given: IOMMU isolation bits stay as they are)\n");
            }
            sb.append("in this model: ").append(fix.modelCommand()).append("   or: acs BDF -RR -CR -EC\n");
            for (String n : fix.kernelNotes() == null ? List.<String>of() : fix.kernelNotes()) {
                sb.append("  note: ").append(n).append('\n');
            }
            for (Remediation.Proof p : fix.proofs() == null ? List.<Remediation.Proof>of() : fix.proofs()) {
                boolean works = p.mapType().equals("BUS_ADDR");
                sb.append("  booted a copy with ").append(p.option()).append(": ").append(p.mapType())
                        .append(works ? ", the fix works" : ", the fix does not work on this kernel").append(" (")
                        .append(String.join(", ", p.ports())).append(")\n");
                if (p.groupsAfter() != null) {
                    sb.append("    IOMMU groups ").append(p.groupsBefore()).append(" -> ").append(p.groupsAfter())
                            .append("; the provider's group: ").append(String.join(" ", p.providerGroup()))
                            .append('\n');
                }
            }
        }
        if (r.plan() != null && !r.plan().isEmpty()) {
            sb.append("plan, smallest change first:\n");
            for (org.peerdma.p2pdma.doctor.PlanStep st : r.plan()) {
                sb.append("  ").append(st.rank()).append(". ").append(st.kind()).append(": ").append(st.change())
                        .append(st.proved() == null ? "" : st.proved() ? "   [proved on a copy]"
                                : "   [does not work on this kernel]")
                        .append("\n     ").append(st.effect()).append('\n');
            }
        }
        HostBridges hb = r.hostBridges();
        if (hb != null) {
            sb.append(String.format(Locale.ROOT, "host bridges (%s): CPU rule %s: %s%n", hb.same() ? "same" : "different",
                    hb.cpuRule() ? "yes" : "no", hb.cpu()));
            for (HostBridges.Row e : hb.bridges()) {
                sb.append(String.format(Locale.ROOT, "  %s first device %s: %s%n", e.hostBridge(), e.firstDevice(),
                        e.why()));
            }
        }
        org.peerdma.p2pdma.doctor.Directions rw = r.directions();
        if (rw != null) {
            // the hardware's side, apart from the kernel's direction-blind decision (nvidia-smi topo -p2p w / r)
            sb.append(String.format(Locale.ROOT, "hardware writes %s, reads %s: %s: %s%s%n", rw.write(), rw.read(),
                    rw.platform(), rw.basis(), rw.documented() ? "" : " (not documented)"));
        }
        org.peerdma.p2pdma.doctor.Links links = r.links();
        if (links != null && links.bottleneck() != null) {
            org.peerdma.p2pdma.doctor.Links.Link b = links.bottleneck();
            sb.append(String.format(Locale.ROOT, "links    bottleneck %.1f GB/s per direction: %s %s x%d (below %s)"
                    + "; %d link(s) on the path%n", b.gbPerSecond(), b.bdf(), b.speed(), b.width(), b.upstream(),
                    links.links().size()));
        }
        for (String n : links == null ? java.util.List.<String>of() : links.notes()) {
            sb.append("link: ").append(n).append('\n');
        }
        org.peerdma.p2pdma.doctor.DriverView dv = r.driver();
        if (dv != null) {
            sb.append(String.format(Locale.ROOT, "driver   %s: %s-%s %s; the model's class %s (%s)%n", dv.tool(),
                    dv.provider(), dv.client(), dv.driverClass(), dv.modelClass(), dv.agrees() ? "agree" : "differ"));
            if (dv.read() != null || dv.write() != null) {
                sb.append(String.format(Locale.ROOT, "driver   nvidia-smi topo -p2p: reads %s, writes %s%n",
                        dv.read() == null ? "?" : dv.read(), dv.write() == null ? "?" : dv.write()));
            }
            for (String n : dv.notes()) {
                sb.append("driver: ").append(n).append('\n');
            }
        }
        for (String w : v.kernelLog()) {
            sb.append("kernel: ").append(w).append('\n');
        }
        for (String a : r.assumptions()) {
            sb.append("assumed: ").append(a).append('\n');
        }
        sb.append("other kernels:");
        for (KernelAnswer o : r.otherKernels()) {
            sb.append(String.format(Locale.ROOT, "  %s %s %d;", o.ruleSet(), o.mapType(), o.distance()));
        }
        sb.setLength(sb.length() - 1);
        return sb.append('\n').toString();
    }

    static String label(DeviceInfo d) {
        String name = (d.vendor() + " " + d.device()).strip();
        return "[" + (d.vendorId() == null ? "????" : d.vendorId()) + ":" + (d.deviceId() == null ? "????" : d.deviceId())
                + "] " + (name.isEmpty() ? "(not named in the dump)" : name);
    }

    private static String acsText(Hop n) {
        Hop.Acs a = n.acs();
        if (!a.known()) {
            return "ACS unknown (not in the dump)";
        }
        if (!a.present()) {
            return "no ACS capability";
        }
        String ctrl = a.ctrlBits().isEmpty() ? "(none)" : String.join(" ", a.ctrlBits());
        return "ACSCtl " + ctrl + (n.redirects() ? "  <- redirects" : "") + "  (ACSCap " + String.join(" ", a.capBits())
                + ")";
    }

    static String matrix(MatrixReport r) {
        List<DeviceInfo> devs = r.devices();
        int n = devs.size();
        boolean rw = r.p2p() != null;
        int width = rw ? 16 : 12;
        List<MatrixReport.Affinity> aff = r.affinity() == null ? List.of() : r.affinity();
        StringBuilder sb = new StringBuilder(16 * (n + 1) * (n + 1));
        sb.append(String.format(Locale.ROOT, "%-9s", ""));
        for (DeviceInfo d : devs) {
            sb.append(' ').append(pad(shortName(d.bdf()), width));
        }
        boolean cpus = aff.stream().anyMatch(a -> a.cpuAffinity() != null);
        if (!aff.isEmpty()) {
            sb.append(cpus ? " CPU Affinity   NUMA Affinity  host bridge" : " NUMA Affinity  host bridge");
        }
        sb.append('\n');
        boolean unsure = false;
        if (r.pairs() instanceof CompactPairs cp) {
            // a 2,000-device matrix has four million cells, of a few dozen kinds: each kind's text (blank,
            // cell, padding) is made once and copied
            String[][] kinds = new String[4 * 128][];
            String none = " " + pad("-", width);
            String self = " " + pad("X", width);
            boolean read = rw && r.p2p().equals("read");
            int k = 0;
            for (int i = 0; i < n; i++) {
                String name = shortName(devs.get(i).bdf());
                sb.append(name);
                padTo(sb, sb.length() - name.length(), 9);
                int row = i * n;
                for (int j = 0; j < n; j++) {
                    if (i == j) {
                        sb.append(self);
                    } else if (k < cp.size && (cp.index == null || cp.index[k] == row + j)) {
                        int status = rw ? (read ? cp.read[k] : cp.write[k]) + 1 : 0;
                        int kind = status * 128 + (cp.code[k] & 0x7f);
                        String[] byDistance = kinds[kind];
                        if (byDistance == null) {
                            byDistance = kinds[kind] = new String[0x1000 + 512];
                        }
                        int d = cp.distance[k] + 2;
                        String text = d >= 0 && d < byDistance.length ? byDistance[d] : null;
                        if (text == null) {
                            text = " " + pad(cell(cp.typeAt(k), cp.distance[k], cp.classAt(k),
                                    rw ? status(read ? cp.readAt(k) : cp.writeAt(k)) : null), width);
                            if (d >= 0 && d < byDistance.length) {
                                byDistance[d] = text;
                            }
                        }
                        unsure |= cp.classIndexAt(k) == 5;
                        sb.append(text);
                        k++;
                    } else {
                        sb.append(none);
                    }
                }
                affinity(sb, aff, i, cpus);
                sb.append('\n');
            }
        } else {
            String[][] cells = new String[n][n];
            Map<String, Integer> at = new HashMap<>();
            for (int i = 0; i < n; i++) {
                at.put(devs.get(i).bdf(), i);
            }
            for (MatrixReport.Pair p : r.pairs()) {
                unsure |= p.nvidiaSmiClass().endsWith("?");
                cells[at.get(p.provider())][at.get(p.client())] = cell(MapType.valueOf(p.mapType()), p.distance(),
                        p.nvidiaSmiClass(), rw ? status(r.p2p().equals("read") ? p.read() : p.write()) : null);
            }
            for (int i = 0; i < n; i++) {
                sb.append(String.format(Locale.ROOT, "%-9s", shortName(devs.get(i).bdf())));
                for (int j = 0; j < n; j++) {
                    String c = i == j ? "X" : cells[i][j] == null ? "-" : cells[i][j];
                    sb.append(' ').append(pad(c, width));
                }
                affinity(sb, aff, i, cpus);
                sb.append('\n');
            }
        }
        if (rw) {
            sb.append("rows: provider, columns: client; ").append(r.p2p().equals("read") ? "reads" : "writes")
                    .append(" as nvidia-smi topo -p2p ").append(r.p2p().charAt(0)).append(" names them: OK = the "
                    + "hardware on the path forwards them, CNS = the chipset (root complex) does not, U = not "
                    + "documented; then the kernel's verdict, which is the same for both directions; ");
        } else {
            sb.append("rows: provider, columns: client; ");
        }
        sb.append("BUS = PCI_P2PDMA_MAP_BUS_ADDR, HB = THRU_HOST_BRIDGE, "
                + "NO = NOT_SUPPORTED (distance); PIX/PXB/PHB/NODE/SYS = nvidia-smi path class; ");
        if (unsure) {
            sb.append("NODE? = between host bridges whose NUMA nodes the description lacks (nvidia-smi says NODE if "
                    + "they share one, SYS if not); ");
        }
        if (!aff.isEmpty()) {
            sb.append(cpus ? "CPU Affinity from the description's nvidia-smi topo -m, NUMA Affinity the model's "
                    + "(N/A: not in the description); " : "NUMA Affinity as nvidia-smi topo -m (N/A: not in the "
                    + "description; CPU Affinity needs a capture's nvidia-smi topo -m); ");
        }
        sb.append(r.ruleSet().label()).append(" rules")
                .append(r.ruleSet().note() == null ? "" : ": " + r.ruleSet().note());
        if (!r.classes().isEmpty()) {
            sb.append("; '-' = not ").append(String.join("/", r.classes()));
        }
        return sb.append('\n').toString();
    }

    /** Pads what was appended since {@code from} with blanks to {@code width} characters. */
    private static void padTo(StringBuilder sb, int from, int width) {
        for (int w = sb.length() - from; w < width; w++) {
            sb.append(' ');
        }
    }

    private static void affinity(StringBuilder sb, List<MatrixReport.Affinity> aff, int i, boolean cpus) {
        if (!aff.isEmpty()) {
            MatrixReport.Affinity a = aff.get(i);
            if (cpus) {
                sb.append(' ').append(pad(a.cpuAffinity() == null ? "N/A" : a.cpuAffinity(), 14));
            }
            sb.append(' ').append(pad(a.numaNode() == null ? "N/A" : String.valueOf(a.numaNode()), 14))
                    .append(' ').append(a.hostBridge() == null ? "-" : a.hostBridge());
        }
    }

    private static String pad(String s, int width) {
        StringBuilder b = new StringBuilder(s);
        while (b.length() < width) {
            b.append(' ');
        }
        return b.toString();
    }

    /** nvidia-smi topo -p2p's status for the hardware's answer. */
    private static String status(String answer) {
        return answer == null ? "?" : switch (answer) {
            case "yes" -> "OK";
            case "no" -> "CNS";
            default -> "U";
        };
    }

    private static String cell(MapType t, int distance, String cls, String status) {
        return status == null ? cell(t, distance, cls) : status + " " + cell(t, distance, cls);
    }

    private static String cell(MapType t, int distance, String cls) {
        boolean ok = t == MapType.BUS_ADDR || t == MapType.THRU_HOST_BRIDGE;
        return Doctor.shortType(t) + (ok ? "(" + distance + ")" : "") + " " + cls;
    }

    /** "bb:dd.f" for domain 0, the full name otherwise (as lspci prints). */
    static String shortName(String bdf) {
        return bdf.startsWith("0000:") ? bdf.substring(5) : bdf;
    }

    static String whatIf(WhatIfReport r) {
        CheckReport a = r.after();
        StringBuilder sb = new StringBuilder();
        sb.append("what if: ").append(r.changes().isEmpty() ? "nothing changed" : String.join("; ", r.changes()))
                .append('\n');
        sb.append("before: ").append(oneLine(r.before())).append('\n');
        sb.append("after:  ").append(oneLine(a.verdict())).append(" (").append(a.ruleSet().label()).append(")\n");
        WhatIfReport.Iommu io = r.iommu();
        if (io != null) {
            if (io.groupsAfter() == null) {
                sb.append("IOMMU groups: not computed (the iommu module is not loaded)\n");
            } else if (io.mode().equals("off")) {
                sb.append("IOMMU groups: ").append(io.groupsBefore()).append(" as loaded, none with the IOMMU off\n");
            } else {
                sb.append("IOMMU groups: ").append(io.groupsBefore()).append(" as loaded, ").append(io.groupsAfter())
                        .append(" after; provider's group ").append(String.join(" ", io.providerGroup()))
                        .append(io.sameGroup() ? " (the client shares it: one IOVA space, one VM)"
                                : "; client's group " + String.join(" ", io.clientGroup()))
                        .append('\n');
            }
            sb.append("DMA addresses: ").append(io.dmaAddress()).append('\n');
        }
        sb.append('\n').append(check(a));
        return sb.toString();
    }

    private static String oneLine(Verdict v) {
        return v.kernelMapType() + " distance " + v.distance();
    }

    static String audit(MachineAudit a) {
        StringBuilder sb = new StringBuilder();
        String name = a.machine().name();
        String src = a.machine().source();
        sb.append(name);
        if (src != null && !src.contains(name)) {
            sb.append(" (").append(src).append(')'); // a capture's host name: say which file it came from
        }
        sb.append(": ").append(a.machine().devices()).append(" devices");
        String kinds = String.join(", ", a.kinds().entrySet().stream().filter(e -> !e.getKey().equals("other"))
                .map(e -> e.getValue() + " " + e.getKey()).toList());
        if (!kinds.isEmpty()) {
            sb.append(" (").append(kinds).append(')');
        }
        sb.append("; pairs");
        a.pairs().forEach((k, v) -> sb.append(' ').append(Doctor.shortType(MapType.valueOf(k))).append(' ').append(v));
        sb.append("; ").append(a.redirecting().size()).append(" redirecting port(s)");
        if (!a.fix().isEmpty()) {
            sb.append("; fix: ").append(a.fix());
        }
        for (String note : a.notes()) {
            sb.append("\n  note: ").append(note);
        }
        return sb.toString();
    }
}
