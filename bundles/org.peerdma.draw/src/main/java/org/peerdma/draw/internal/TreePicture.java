package org.peerdma.draw.internal;

import java.awt.Color;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.HostBridges;
import org.peerdma.p2pdma.doctor.Hop;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.Acs;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciMachine;

/**
 * The PCI tree as a picture: host bridges (with the CPU rule or whitelist state the doctor finds for them),
 * the ports below them with their ACS state (red: redirects peer-to-peer requests; dashed: the dump did not
 * say), endpoints coloured by kind, and for a pair its path in blue with the verdict and rule as the caption.
 * Without {@code all} only the endpoints of interest and the bridges that lead to them are drawn.
 */
final class TreePicture {
    static final Set<String> OF_INTEREST = Set.of("gpu", "nic", "nvme", "storage", "accelerator");
    private static final double MARGIN = 16;

    private final PciMachine m;
    private final P2pDoctor doctor;
    private final RuleSet rules;
    final List<String> notes = new ArrayList<>();
    String caption;
    int drawn;

    TreePicture(PciMachine m, P2pDoctor doctor, RuleSet rules) {
        this.m = m;
        this.doctor = doctor;
        this.rules = rules;
    }

    Scene build(PciDevice provider, PciDevice client, boolean all) {
        CheckReport r = provider == null ? null : doctor.check(m, provider, client, rules);
        Set<String> path = new LinkedHashSet<>();
        if (r != null) {
            for (Hop h : r.path()) {
                path.add(h.bdf());
            }
        }
        Set<PciDevice> shown = visible(all, path);
        drawn = shown.size();
        int hidden = m.devices().size() - shown.size();
        if (hidden > 0) {
            notes.add(hidden + " function(s) not drawn (host-internal, chipset, empty ports): --all draws them");
        }
        // the nodes, in bus order: each host bridge, then its devices
        Map<String, List<String>> lines = new LinkedHashMap<>();
        allLines = lines;
        Map<String, Object> what = new HashMap<>();
        List<String[]> edges = new ArrayList<>();
        Map<String, HostBridges.Row> rows = new HashMap<>();
        Map<String, Boolean> cpuRule = new HashMap<>();
        hostBridgeStates(rows, cpuRule);
        for (PciHostBridge hb : m.hostBridges()) {
            boolean used = shown.stream().anyMatch(d -> d.hostBridge() == hb);
            if (!used && !all) {
                continue;
            }
            String id = Scene.id("hb", hb.name());
            lines.put(id, hostBridgeLines(hb, rows.get(hb.name()), cpuRule.get(hb.name())));
            what.put(id, hb);
        }
        for (PciDevice d : m.devices()) {
            if (!shown.contains(d)) {
                continue;
            }
            String id = Scene.id("dev", d.name());
            lines.put(id, deviceLines(d));
            what.put(id, d);
            String parent = parentId(d, shown);
            if (parent != null && lines.containsKey(parent)) {
                edges.add(new String[] {parent, id});
            }
        }
        List<ElkLayout.Node> nodes = new ArrayList<>();
        lines.forEach((id, l) -> {
            double[] size = Scene.boxSize(l);
            nodes.add(new ElkLayout.Node(id, size[0], size[1]));
        });
        ElkLayout.Result lay = ElkLayout.layout(nodes, edges);

        Scene s = new Scene();
        List<Scene.Text> head = caption(r, provider, client);
        double top = MARGIN + head.size() * 20 + 8;
        for (Scene.Text t : head) {
            s.texts.add(t);
        }
        Set<String> pathIds = new LinkedHashSet<>();
        for (String b : path) {
            pathIds.add(Scene.id("dev", b));
        }
        if (r != null && (r.verdict().commonUpstream() == null || "THRU_HOST_BRIDGE".equals(r.verdict().mapType()))) {
            // through the host bridge (no common upstream bridge, or an ACS redirect sends the requests up to the
            // root complex): the traffic climbs from each device to its host bridge
            for (PciDevice end : List.of(provider, client)) {
                for (PciDevice x = end; x != null; x = x.upstreamBridge()) {
                    pathIds.add(Scene.id("dev", x.name()));
                }
                if (end.hostBridge() != null) {
                    pathIds.add(Scene.id("hb", end.hostBridge().name()));
                }
            }
        }
        for (int i = 0; i < edges.size(); i++) {
            String[] e = edges.get(i);
            boolean on = pathIds.contains(e[0]) && pathIds.contains(e[1]);
            List<double[]> pts = new ArrayList<>();
            for (double[] p : lay.routes().get(i)) {
                pts.add(new double[] {p[0] + MARGIN, p[1] + top});
            }
            s.lines.add(new Scene.Line("edge-" + e[0] + "--" + e[1], pts, on ? Palette.PATH : Palette.EDGE,
                    on ? 3.5f : 1.2f, false));
        }
        for (ElkLayout.Node n : nodes) {
            double[] p = lay.positions().get(n.id());
            Object o = what.get(n.id());
            s.boxes.add(box(n, p[0] + MARGIN, p[1] + top, o, pathIds.contains(n.id())));
        }
        double bottom = top + lay.height() + 24;
        double width = Math.max(lay.width() + 2 * MARGIN, 0);
        bottom = legend(s, MARGIN, bottom);
        for (String n : notes) {
            s.texts.add(new Scene.Text(null, MARGIN, bottom, n, Palette.MUTED, Scene.SMALL));
            bottom += 16;
        }
        for (Scene.Text t : s.texts) {
            width = Math.max(width, t.x() + Scene.textWidth(t.text(), t.font()) + MARGIN);
        }
        s.width = Math.ceil(width);
        s.height = Math.ceil(bottom + MARGIN);
        return s;
    }

    /** The functions drawn: every one, or the endpoints of interest, the pair, and every bridge above them. */
    private Set<PciDevice> visible(boolean all, Set<String> path) {
        Set<PciDevice> out = new LinkedHashSet<>();
        for (PciDevice d : m.devices()) {
            if (all || path.contains(d.name()) || !d.isBridge() && OF_INTEREST.contains(doctor.kindOf(d))) {
                for (PciDevice x = d; x != null && out.add(x); x = x.upstreamBridge()) {
                    // add the device and the bridges above it
                }
            }
        }
        return out;
    }

    private static String parentId(PciDevice d, Set<PciDevice> shown) {
        for (PciDevice up = d.upstreamBridge(); up != null; up = up.upstreamBridge()) {
            if (shown.contains(up)) {
                return Scene.id("dev", up.name());
            }
        }
        return d.hostBridge() == null ? null : Scene.id("hb", d.hostBridge().name());
    }

    /**
     * What the doctor says of each host bridge: a pair across it and another host bridge is checked (the first
     * endpoint below each), and its host-bridge rows name the bridge's whitelist state and the CPU rule.
     */
    private void hostBridgeStates(Map<String, HostBridges.Row> rows, Map<String, Boolean> cpuRule) {
        Map<PciHostBridge, PciDevice> first = new LinkedHashMap<>();
        for (PciDevice d : doctor.endpoints(m)) {
            if (d.hostBridge() != null) {
                first.putIfAbsent(d.hostBridge(), d);
            }
        }
        List<PciDevice> firsts = new ArrayList<>(first.values());
        for (int i = 0; i < firsts.size() && firsts.size() > 1; i++) {
            PciDevice a = firsts.get(i);
            PciDevice b = firsts.get((i + 1) % firsts.size());
            HostBridges h = doctor.check(m, a, b, rules).hostBridges();
            if (h == null) {
                continue;
            }
            for (HostBridges.Row row : h.bridges()) {
                rows.putIfAbsent(row.hostBridge(), row);
                cpuRule.putIfAbsent(row.hostBridge(), h.cpuRule());
            }
        }
    }

    private static List<String> hostBridgeLines(PciHostBridge hb, HostBridges.Row row, Boolean cpuRule) {
        List<String> l = new ArrayList<>();
        l.add("host bridge " + hb.name() + (hb.isInferred() ? " (inferred)" : ""));
        hb.firstDevice().ifPresent(d -> l.add(clip(shortName(d) + " " + ids(d) + " " + d.deviceName(), 48)));
        if (Boolean.TRUE.equals(cpuRule)) {
            l.add("CPU rule passes (whitelist not needed)");
        } else if (row != null) {
            l.add(row.whitelisted() ? "whitelisted" : "not whitelisted");
        } else {
            l.add("whitelist not consulted");
        }
        if (hb.numaNode() >= 0) {
            l.add("NUMA node " + hb.numaNode());
        }
        return l;
    }

    private List<String> deviceLines(PciDevice d) {
        List<String> l = new ArrayList<>();
        String kind = doctor.kindOf(d);
        l.add(shortName(d) + "  " + (!d.isBridge() ? kind.toUpperCase(Locale.ROOT)
                : d.portType() == org.peerdma.pci.PciePortType.UNKNOWN ? "bridge" : d.portType().lspciName()));
        String name = d.deviceName().isEmpty() ? ids(d) : d.deviceName();
        l.add(clip(name, 44));
        if (d.isBridge() || d.hasAcs() || d.acsUnknown() && d.isPcie()) {
            l.add(acsText(d));
        }
        if (!d.linkSpeed().isEmpty() && d.linkWidth() > 0) {
            String cap = !d.linkCapSpeed().isEmpty() && d.linkCapWidth() > 0
                    && (!d.linkCapSpeed().equals(d.linkSpeed()) || d.linkCapWidth() != d.linkWidth())
                    ? " (can " + d.linkCapSpeed() + " x" + d.linkCapWidth() + ")" : "";
            l.add("link " + d.linkSpeed() + " x" + d.linkWidth() + cap);
        }
        return l;
    }

    static String acsText(PciDevice d) {
        if (d.acsUnknown()) {
            return "ACS unknown";
        }
        if (!d.hasAcs()) {
            return "no ACS";
        }
        int redirect = d.acsCtrl() & Acs.REDIRECT_BITS;
        return redirect != 0 ? "ACS " + String.join(" ", Acs.names(redirect)) + ": redirects P2P"
                : "ACS, no redirect";
    }

    static boolean redirects(PciDevice d) {
        return !d.acsUnknown() && d.hasAcs() && (d.acsCtrl() & Acs.REDIRECT_BITS) != 0;
    }

    private Scene.Box box(ElkLayout.Node n, double x, double y, Object o, boolean onPath) {
        Color fill;
        Color stroke = Palette.BORDER;
        float width = 1.2f;
        boolean dashed = false;
        String css;
        if (o instanceof PciHostBridge) {
            fill = Palette.HOST_BRIDGE;
            css = "host-bridge";
        } else {
            PciDevice d = (PciDevice) o;
            String kind = doctor.kindOf(d);
            fill = Palette.kind(kind);
            css = d.isBridge() ? "port" : kind;
            if (redirects(d)) {
                stroke = Palette.REDIRECT;
                width = 2.5f;
                css += " redirect";
            } else if (d.acsUnknown() && d.isBridge()) {
                dashed = true;
                css += " acs-unknown";
            }
        }
        if (onPath) {
            stroke = stroke == Palette.REDIRECT ? Palette.REDIRECT : Palette.PATH;
            width = 3.5f;
            css += " path";
        }
        return new Scene.Box(n.id(), css, x, y, n.w(), n.h(), fill, stroke, width, dashed, linesOf(n.id()),
                Palette.INK);
    }

    /** Each node's lines of text, by id. */
    private Map<String, List<String>> allLines;

    private List<String> linesOf(String id) {
        return allLines.get(id);
    }

    /** The title, the verdict (coloured by its map type) and the rule, wrapped. */
    private List<Scene.Text> caption(CheckReport r, PciDevice provider, PciDevice client) {
        List<Scene.Text> t = new ArrayList<>();
        double y = MARGIN + 14;
        String title = m.name() + ": the PCI tree" + (r == null ? "" : ", " + provider.name() + " to " + client.name());
        t.add(new Scene.Text("title", MARGIN, y, title, Palette.INK, Scene.TITLE));
        if (r == null) {
            caption = title;
            return t;
        }
        var v = r.verdict();
        String verdict = ("depends".equals(v.answer()) ? "DEPENDS: " : v.supported() ? "P2P SUPPORTED: "
                : "P2P NOT SUPPORTED: ") + v.kernelMapType() + ", distance " + v.distance() + "   ["
                + r.ruleSet().label() + "]";
        caption = verdict;
        Color c = v.supported() ? (v.mapType().equals("BUS_ADDR") ? new Color(46, 125, 50) : new Color(239, 108, 0))
                : Palette.REDIRECT;
        y += 20;
        t.add(new Scene.Text("verdict", MARGIN, y, verdict, c, Scene.BOLD));
        for (String line : wrap(v.rule(), 120)) {
            y += 20;
            t.add(new Scene.Text(null, MARGIN, y, line, Palette.INK, Scene.FONT));
        }
        return t;
    }

    /** The legend: a swatch and a word per colour used. */
    private static double legend(Scene s, double x0, double y) {
        double x = x0;
        for (String k : Palette.LEGEND_KINDS) {
            x = swatch(s, x, y, Palette.kind(k), Palette.BORDER, false, k.equals("other") ? "other" : k.toUpperCase(
                    Locale.ROOT));
        }
        x = swatch(s, x, y, Palette.PORT, Palette.BORDER, false, "port");
        x = swatch(s, x, y, Palette.HOST_BRIDGE, Palette.BORDER, false, "host bridge");
        x = swatch(s, x, y, Color.WHITE, Palette.REDIRECT, false, "ACS redirect (RR/CR/EC)");
        x = swatch(s, x, y, Color.WHITE, Palette.BORDER, true, "ACS unknown");
        swatch(s, x, y, Color.WHITE, Palette.PATH, false, "the pair's path");
        return y + 30;
    }

    private static double swatch(Scene s, double x, double y, Color fill, Color stroke, boolean dashed, String label) {
        s.boxes.add(new Scene.Box("legend-" + label.replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(Locale.ROOT),
                "legend", x, y - 11, 14, 14, fill, stroke, stroke == Palette.BORDER ? 1.2f : 2.5f, dashed, List.of(),
                Palette.INK));
        s.texts.add(new Scene.Text(null, x + 19, y, label, Palette.INK, Scene.SMALL));
        return x + 19 + Scene.textWidth(label, Scene.SMALL) + 16;
    }

    static List<String> wrap(String text, int width) {
        List<String> out = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String w : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + w.length() > width) {
                out.add(line.toString());
                line.setLength(0);
            }
            line.append(line.length() == 0 ? "" : " ").append(w);
        }
        if (line.length() > 0) {
            out.add(line.toString());
        }
        return out;
    }

    static String shortName(PciDevice d) {
        return d.bdf().domain() == 0 ? d.bdf().shortName() : d.name();
    }

    static String ids(PciDevice d) {
        return String.format(Locale.ROOT, "[%s:%s]", d.vendorKnown() ? String.format("%04x", d.vendor()) : "????",
                d.deviceKnown() ? String.format("%04x", d.device()) : "????");
    }

    static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }
}
