package org.peerdma.pci.imports.hwloc;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.Bdf;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;
import org.peerdma.util.Texts;

/**
 * Reads {@code lstopo -v} text (hwloc 1.x "Bridge Host->PCI" / "Bridge PCI->PCI" / "PCI vvvv:dddd"
 * lines and hwloc 2.x "HostBridge" / "PCIBridge" / "PCI L#n" lines). Indentation gives the
 * nesting; the attribute list in parentheses gives bus ids, IDs, class, bus ranges, link
 * bandwidth and names; Package lines give the CPU. The closing "depth"/"Special depth" summary is
 * used to check that no PCI object was lost. Stateless and thread-safe.
 */
public final class LstopoTextParser {
    /** Format name of the machines this parser produces. */
    public static final String FORMAT = "lstopo-v";

    private static final Pattern TRAILER =
            Pattern.compile("(?i)^(depth -?\\d+:|special depth|relative latency matrix|latency matrix).*");
    private static final Pattern SUMMARY =
            Pattern.compile("(?i)^special depth -?\\d+:\\s+(\\d+)\\s+(Bridge|PCI Device|PCIDev)\\b.*");
    /** DOTALL: a line separator inside the line made ".*" fail once per "buses=" (quadratic). */
    private static final Pattern HOST_BRIDGE_LINE =
            Pattern.compile("^(Bridge Host->PCI|HostBridge)\\b.*buses=.*", Pattern.DOTALL);
    private static final Pattern PCI_LINE =
            Pattern.compile("^(Bridge PCI->PCI|PCIBridge|PCI|PCIDev)\\b.*busid=.*", Pattern.DOTALL);
    private static final Pattern ID = Pattern.compile("([0-9a-fA-F]{4}):([0-9a-fA-F]{4})");
    private static final Pattern CLASS = Pattern.compile("([0-9a-fA-F]{4})(?:\\((.*)\\))?");

    /**
     * probe - how sure this parser is that {@code src} is {@code lstopo -v} text.
     * Return: 95 when a host bridge line with a bus range is seen, 90 for a PCI line with a bus id,
     * 40 for a Machine line followed by Package/NUMANode lines (a dump without I/O), else 0.
     */
    public int probe(TopologySource src) {
        boolean machine = false;
        int score = 0;
        for (String line : src.lines()) {
            String t = line.strip();
            if (HOST_BRIDGE_LINE.matcher(t).matches()) {
                return 95;
            }
            if (PCI_LINE.matcher(t).matches()) {
                score = 90;
            } else if (t.startsWith("Machine (") || t.equals("Machine")) {
                machine = true;
            } else if (machine && (t.startsWith("Package L#") || t.startsWith("NUMANode L#"))) {
                score = Math.max(score, 40);
            }
        }
        return score;
    }

    /**
     * parse - read {@code lstopo -v} output.
     * Return: the machine; what lstopo does not print is listed in its notes.
     * Errors: {@link TopologyFormatException} naming the file line for an unterminated attribute
     * list, a PCI object without a readable busid, id, class or bus range, a host bridge without
     * a bus range, a PCI address listed twice, or a summary count that the tree does not match.
     */
    public MachineDTO parse(TopologySource src) {
        List<String> lines = src.lines();
        HwNode root = new HwNode(HwNode.Kind.ROOT, 0);
        Deque<HwNode> stack = new ArrayDeque<>();
        Deque<Integer> indents = new ArrayDeque<>();
        boolean trailer = false;
        int objects = 0;
        int bridges = 0;
        int pciDevs = 0;
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            int line = src.lineNumber(i);
            if (HwlocModel.isDecoration(raw)) {
                continue;
            }
            String t = raw.strip();
            if (objects == 0 && (t.equals("lstopo") || t.startsWith("lstopo "))) {
                continue; // the command line
            }
            if (trailer || TRAILER.matcher(t).matches()) {
                trailer = true;
                checkSummary(t, bridges, pciDevs, src, line);
                continue;
            }
            int indent = 0;
            while (indent < raw.length() && Character.isWhitespace(raw.charAt(indent))) {
                indent++;
            }
            HwNode n = object(t, src, line);
            objects++;
            if (n.kind == HwNode.Kind.HOST_BRIDGE || n.kind == HwNode.Kind.PCI_BRIDGE) {
                bridges++;
            } else if (n.kind == HwNode.Kind.PCI_DEV) {
                pciDevs++;
            }
            while (!indents.isEmpty() && indents.peek() >= indent) {
                indents.pop();
                stack.pop();
            }
            (stack.isEmpty() ? root : stack.peek()).add(n);
            stack.push(n);
            indents.push(indent);
        }
        if (objects == 0) {
            throw new TopologyFormatException(src.name(), 0, "no lstopo objects");
        }
        MachineDTO m = HwlocModel.toMachine(root, src, FORMAT);
        m.notes.add("lstopo text gives no BARs, port types, ACS state, revisions or subsystem IDs.");
        m.notes.add("hwloc lists only the PCI functions it keeps by default: host bridge functions,"
                + " system peripherals and bridges without kept devices may be missing.");
        if (m.devices.stream().anyMatch(d -> d.linkSpeed != null)) {
            m.notes.add("Link speeds are hwloc's link bandwidths in GB/s (rate x width), not GT/s.");
        }
        return m;
    }

    private static void checkSummary(String t, int bridges, int pciDevs, TopologySource src, int line) {
        Matcher m = SUMMARY.matcher(t);
        if (!m.matches()) {
            return;
        }
        String count = m.group(1);
        boolean isBridge = m.group(2).equalsIgnoreCase("Bridge");
        int listed = isBridge ? bridges : pciDevs;
        if (count.length() > 9 || Integer.parseInt(count) != listed) { // more digits than an int: not the count
            throw new TopologyFormatException(src.name(), line, String.format(Locale.ROOT,
                    "the summary counts %s %s objects but the tree lists %d (truncated or garbled dump)",
                    Texts.clip(count), isBridge ? "bridge" : "PCI device", listed));
        }
    }

    private static HwNode object(String t, TopologySource src, int line) {
        int quote = t.indexOf(" \"");
        int paren = t.indexOf(" (");
        String header;
        Map<String, String> attrs = new LinkedHashMap<>();
        Integer osIndex = null;
        if (paren >= 0 && (quote < 0 || paren < quote)) {
            header = t.substring(0, paren).strip();
            int end = closingParen(t, paren + 1, src, line);
            osIndex = attributes(t.substring(paren + 2, end), attrs, src, line);
        } else {
            header = (quote >= 0 ? t.substring(0, quote) : t).strip();
        }
        HwNode n = new HwNode(kind(header), line);
        n.osIndex = osIndex;
        n.infos.putAll(attrs);
        switch (n.kind) {
            case HOST_BRIDGE -> n.hostBridge = hostBridge(attrs, src, line);
            case PCI_BRIDGE, PCI_DEV -> n.device = device(header, attrs, n.kind == HwNode.Kind.PCI_BRIDGE, src, line);
            default -> {
            }
        }
        return n;
    }

    private static HwNode.Kind kind(String header) {
        if (header.startsWith("Bridge Host->PCI") || header.startsWith("HostBridge")) {
            return HwNode.Kind.HOST_BRIDGE;
        }
        if (header.startsWith("Bridge PCI->PCI") || header.startsWith("PCIBridge")) {
            return HwNode.Kind.PCI_BRIDGE;
        }
        if (header.equals("PCI") || header.startsWith("PCI ") || header.startsWith("PCIDev")) {
            return HwNode.Kind.PCI_DEV;
        }
        if (header.startsWith("NUMANode")) {
            return HwNode.Kind.NUMA;
        }
        if (header.startsWith("Package") || header.startsWith("Socket")) {
            return HwNode.Kind.PACKAGE;
        }
        return header.startsWith("Machine") ? HwNode.Kind.MACHINE : HwNode.Kind.OTHER;
    }

    /** @return index of the ')' closing the '(' at {@code open}, skipping quoted text and nested parentheses. */
    private static int closingParen(String t, int open, TopologySource src, int line) {
        int depth = 0;
        boolean quoted = false;
        for (int i = open; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == '(') {
                depth++;
            } else if (!quoted && c == ')' && --depth == 0) {
                return i;
            }
        }
        throw new TopologyFormatException(src.name(), line, "unterminated attribute list: " + Texts.clip(t));
    }

    /** Splits "P#3 busid=... PCIVendor="Intel Corporation"" into attrs; @return the P# index. */
    private static Integer attributes(String text, Map<String, String> attrs, TopologySource src, int line) {
        Integer os = null;
        int i = 0;
        while (i < text.length()) {
            while (i < text.length() && text.charAt(i) == ' ') {
                i++;
            }
            int start = i;
            boolean quoted = false;
            while (i < text.length() && (quoted || text.charAt(i) != ' ')) {
                if (text.charAt(i) == '"') {
                    quoted = !quoted;
                }
                i++;
            }
            String token = text.substring(start, i);
            int eq = token.indexOf('=');
            if (eq > 0) {
                String value = token.substring(eq + 1);
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1);
                }
                attrs.putIfAbsent(token.substring(0, eq), value);
            } else if (token.startsWith("P#")) {
                os = HwlocModel.decimal(token.substring(2), src, line, "P#");
            }
        }
        return os;
    }

    private static HostBridgeDTO hostBridge(Map<String, String> attrs, TopologySource src, int line) {
        String buses = attrs.get("buses");
        if (buses == null) {
            throw new TopologyFormatException(src.name(), line, "host bridge without buses= range");
        }
        HwlocModel.BusRange r = HwlocModel.busRange(buses, src, line, "buses");
        HostBridgeDTO hb = new HostBridgeDTO();
        hb.name = String.format(Locale.ROOT, "pci%04x:%02x", r.domain(), r.first());
        hb.domain = r.domain();
        hb.bus = r.first();
        hb.busEnd = r.last();
        return hb;
    }

    private static DeviceDTO device(String header, Map<String, String> attrs, boolean bridge, TopologySource src,
            int line) {
        String busid = attrs.get("busid");
        if (busid == null) {
            throw new TopologyFormatException(src.name(), line, "PCI object without busid= (lstopo -v output needed)");
        }
        Bdf bdf = HwlocModel.bdf(busid, src, line);
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf.toString();
        String id = attrs.get("id");
        if (id == null) {
            for (String word : header.split(" ")) {
                if (ID.matcher(word).matches()) {
                    id = word;
                }
            }
        }
        if (id != null) {
            Matcher m = ID.matcher(id);
            if (!m.matches()) {
                throw new TopologyFormatException(src.name(), line, "id '" + Texts.clip(id) + "' is not vendor:device");
            }
            d.vendor = Integer.parseInt(m.group(1), 16);
            d.device = Integer.parseInt(m.group(2), 16);
        } else {
            d.notes.add("lstopo gives no vendor:device id.");
        }
        String cls = attrs.get("class");
        if (cls != null) {
            Matcher m = CLASS.matcher(cls);
            if (!m.matches()) {
                throw new TopologyFormatException(src.name(), line, "class '" + Texts.clip(cls) + "' is not cccc(name)");
            }
            d.classCode = Integer.parseInt(m.group(1), 16) << 8;
            d.className = m.group(2);
        }
        d.headerType = bridge ? Integer.valueOf(1)
                : d.classCode == null ? null : HwlocModel.headerTypeForClass(d.classCode);
        if (bridge) {
            HwlocModel.bridgeBuses(d, bdf, attrs.get("buses"), src, line, "buses", "lstopo");
        }
        d.linkSpeed = attrs.get("link");
        d.vendorName = attrs.get("PCIVendor");
        d.deviceName = attrs.get("PCIDevice");
        return d;
    }
}
