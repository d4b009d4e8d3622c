package org.peerdma.pci.imports.hwloc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.peerdma.pci.Bdf;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;
import org.peerdma.util.Texts;

/**
 * Reads NCCL's topology XML (NCCL_TOPO_DUMP_FILE): {@code <system>}, {@code <cpu>} (a NUMA node,
 * with the CPU vendor/family/model), nested {@code <pci busid class vendor device ...>} elements
 * and their {@code <gpu>}, {@code <nic>}/{@code <net>} and {@code <nvlink>} children.
 * <p>
 * Dumps are often quoted as fragments (no root, closing tags of elements whose start is cut
 * off, elements never closed), so this is not an XML parser: each line is split into start and
 * end tags by a small scanner (one pass, no backtracking, no recursion) and the nesting is tracked
 * by hand, in time linear however deep it goes. End tags that close nothing are skipped, elements
 * still open at the end are closed there, and the notes say so.
 * <p>
 * NCCL builds each {@code <pci>} element's parent by going up two levels of the sysfs path, so a
 * nested {@code <pci>} sits two bus levels below its parent element (the root port or switch
 * downstream port in between is not listed) and top-level {@code <pci>} elements hang directly
 * from their {@code <cpu>}. A {@code <pci>} element with children is therefore a bridge whose
 * secondary bus lies strictly between its own bus and its children's; it is known when they are
 * exactly two apart. Its subordinate bus is the highest bus listed below it, a lower bound since
 * NCCL lists only the paths to GPUs and NICs. Stateless and thread-safe.
 */
public final class NcclTopoXmlParser {
    /** Format name of the machines this parser produces. */
    public static final String FORMAT = "nccl-topo-xml";

    /**
     * probe - how sure this parser is that {@code src} is an NCCL topology dump.
     * Return: 95 with a {@code <system version=...>} element, 90 with {@code <pci busid=...>}
     * elements, 60 with only {@code <gpu>}/{@code <net>} elements, else 0.
     */
    public int probe(TopologySource src) {
        int score = 0;
        for (String line : src.lines()) {
            String t = line.strip();
            if (t.startsWith("<topology") || t.startsWith("<object ")) {
                return 0; // hwloc XML
            }
            if (t.startsWith("<system version=")) {
                score = 95;
            } else if (t.startsWith("<pci busid=")) {
                score = Math.max(score, 90);
            } else if (t.startsWith("<gpu dev=") || t.startsWith("<net name=")) {
                score = Math.max(score, 60);
            }
        }
        return score;
    }

    /**
     * parse - read an NCCL topology XML dump or a fragment of one.
     * Return: the PCI functions NCCL lists, with bridge bus ranges where the nesting determines
     * them, NUMA node from the enclosing {@code <cpu numaid>}, and the CPU; notes say what is
     * missing and whether the input was a fragment.
     * Errors: {@link TopologyFormatException} naming the file line for text that is not a tag
     * (including a tag cut in the middle), an end tag that does not match the open element, a
     * {@code <pci>} without a readable busid or with unreadable IDs, a nested {@code <pci>} on a
     * bus not below its parent's, and a PCI address listed twice.
     */
    public MachineDTO parse(TopologySource src) {
        return new Run(src).parse();
    }

    /** One open element. */
    private static final class Elem {
        final String name;
        final int line;
        final Map<String, String> attrs;
        DeviceDTO device;
        Bdf bdf;
        final List<Integer> childBuses = new ArrayList<>();
        int maxBelow = -1;
        final List<String> nvlinks = new ArrayList<>();

        Elem(String name, int line, Map<String, String> attrs) {
            this.name = name;
            this.line = line;
            this.attrs = attrs;
        }
    }

    /** The state of one parse. */
    private static final class Run {
        private final TopologySource src;
        private final MachineDTO m = new MachineDTO();
        private final Deque<Elem> stack = new ArrayDeque<>();
        /** The open {@code <pci>} and {@code <cpu>} elements, innermost first: the nearest one without a walk. */
        private final Deque<Elem> openPci = new ArrayDeque<>();
        private final Deque<Elem> openCpu = new ArrayDeque<>();
        private final Map<String, Integer> seen = new HashMap<>();
        private int unmatchedCloses;
        private int unclosed;
        private boolean sawSystem;
        private int tags;

        Run(TopologySource src) {
            this.src = src;
            m.source = src.name();
            m.format = FORMAT;
        }

        MachineDTO parse() {
            List<String> lines = src.lines();
            for (int i = 0; i < lines.size(); i++) {
                if (!HwlocModel.isDecoration(lines.get(i))) {
                    line(lines.get(i).strip(), src.lineNumber(i));
                }
            }
            if (tags == 0) {
                throw new TopologyFormatException(src.name(), 0, "no NCCL topology tags");
            }
            while (!stack.isEmpty()) {
                unclosed++;
                Elem e = pop();
                if (e.device != null) {
                    e.device.notes.add("Its element is not closed in the fragment: more devices may sit below it.");
                }
                finish(e);
            }
            HwlocModel.markMultifunction(m.devices);
            notes();
            return m;
        }

        private void line(String text, int line) {
            String rest = withoutCommentsAndDeclarations(text).strip();
            int pos = 0;
            while (pos < rest.length()) {
                if (Character.isWhitespace(rest.charAt(pos))) {
                    pos++;
                    continue;
                }
                Tag t = rest.charAt(pos) == '<' ? tag(rest, pos) : null;
                if (t == null) {
                    throw new TopologyFormatException(src.name(), line,
                            "not an NCCL topology tag: '" + Texts.clip(rest.substring(pos)) + "'");
                }
                tags++;
                if (t.closing()) {
                    close(t.name(), line);
                } else {
                    open(t.name(), t.attrs(), t.empty(), line);
                }
                pos = t.end();
            }
        }

        /** One start, end or empty-element tag of a line. */
        private record Tag(boolean closing, String name, Map<String, String> attrs, boolean empty, int end) {
        }

        /**
         * The tag at {@code s[at] == '<'}: {@code < [/] name (ws attr = "v" | 'v')* [/] >}, white space allowed
         * around the name and the '/', names as XML's ASCII ones; null when the text there is not one. A scan
         * in one pass (regular expressions backtrack, and recurse per attribute).
         */
        static Tag tag(String s, int at) {
            int n = s.length();
            int i = skipSpace(s, at + 1);
            boolean closing = i < n && s.charAt(i) == '/';
            if (closing) {
                i = skipSpace(s, i + 1);
            }
            int nameEnd = name(s, i, false);
            if (nameEnd < 0) {
                return null;
            }
            String name = s.substring(i, nameEnd);
            i = nameEnd;
            Map<String, String> attrs = new LinkedHashMap<>();
            while (true) {
                int j = skipSpace(s, i);
                if (j == i) {
                    break; // an attribute needs white space before it
                }
                int attrEnd = name(s, j, true);
                if (attrEnd < 0) {
                    i = j;
                    break;
                }
                int eq = skipSpace(s, attrEnd);
                if (eq >= n || s.charAt(eq) != '=') {
                    return null;
                }
                int q = skipSpace(s, eq + 1);
                if (q >= n || s.charAt(q) != '"' && s.charAt(q) != '\'') {
                    return null;
                }
                int close = s.indexOf(s.charAt(q), q + 1);
                if (close < 0) {
                    return null;
                }
                attrs.putIfAbsent(s.substring(j, attrEnd), s.substring(q + 1, close));
                i = close + 1;
            }
            i = skipSpace(s, i);
            boolean empty = i < n && s.charAt(i) == '/';
            if (empty) {
                i = skipSpace(s, i + 1);
            }
            if (i >= n || s.charAt(i) != '>') {
                return null;
            }
            return new Tag(closing, name, attrs, empty, i + 1);
        }

        /** The end of the name starting at i ([A-Za-z_][\\w.-]*, attribute names also ':'), -1 when none starts there. */
        private static int name(String s, int i, boolean attribute) {
            if (i >= s.length() || !(isAsciiLetter(s.charAt(i)) || s.charAt(i) == '_')) {
                return -1;
            }
            int j = i + 1;
            while (j < s.length()) {
                char c = s.charAt(j);
                if (isAsciiLetter(c) || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || attribute && c == ':') {
                    j++;
                } else {
                    break;
                }
            }
            return j;
        }

        private static boolean isAsciiLetter(char c) {
            return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
        }

        /** Skips what regular expressions call \\s: space, tab, newline, vertical tab, form feed, return. */
        private static int skipSpace(String s, int i) {
            while (i < s.length() && " \t\n\u000b\f\r".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            return i;
        }

        /**
         * The line with each {@code <!-- ... -->} and {@code <? ... ?>} replaced by a space; one that is not closed
         * on the line stays (and is then not a tag). Linear: once a closing mark is missing, no later one closes.
         */
        static String withoutCommentsAndDeclarations(String text) {
            if (text.indexOf("<!--") < 0 && text.indexOf("<?") < 0) {
                return text;
            }
            StringBuilder out = new StringBuilder(text.length());
            int from = 0;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                    // a comment never spans a line separator (what '.' does not match)
                    withoutCommentsAndDeclarations(text.substring(from, i), out);
                    out.append(c);
                    from = i + 1;
                }
            }
            withoutCommentsAndDeclarations(text.substring(from), out);
            return out.toString();
        }

        private static void withoutCommentsAndDeclarations(String text, StringBuilder out) {
            int i = 0;
            boolean commentsOpen = true;
            boolean declarationsOpen = true;
            while (i < text.length()) {
                if (commentsOpen && text.startsWith("<!--", i)) {
                    int close = text.indexOf("-->", i + 4);
                    if (close >= 0) {
                        out.append(' ');
                        i = close + 3;
                        continue;
                    }
                    commentsOpen = false;
                } else if (declarationsOpen && text.startsWith("<?", i)) {
                    int close = text.indexOf("?>", i + 2);
                    if (close >= 0) {
                        out.append(' ');
                        i = close + 2;
                        continue;
                    }
                    declarationsOpen = false;
                }
                out.append(text.charAt(i++));
            }
        }

        private void close(String name, int line) {
            if (stack.isEmpty()) {
                unmatchedCloses++; // the fragment starts inside this element
                return;
            }
            Elem top = stack.peek();
            if (!top.name.equals(name)) {
                throw new TopologyFormatException(src.name(), line,
                        "</" + Texts.clip(name) + "> does not close <" + Texts.clip(top.name) + "> opened at line " + top.line);
            }
            finish(pop());
        }

        private void push(Elem e) {
            stack.push(e);
            if (e.name.equals("pci")) {
                openPci.push(e);
            } else if (e.name.equals("cpu")) {
                openCpu.push(e);
            }
        }

        private Elem pop() {
            Elem e = stack.pop();
            if (e.name.equals("pci")) {
                openPci.pop();
            } else if (e.name.equals("cpu")) {
                openCpu.pop();
            }
            return e;
        }

        private void open(String name, Map<String, String> attrs, boolean empty, int line) {
            Elem e = new Elem(name, line, attrs);
            switch (name) {
                case "system" -> sawSystem = true;
                case "cpu" -> cpu(attrs, line);
                case "pci" -> pci(e);
                case "gpu" -> annotate("NCCL gpu: " + describe(attrs, "dev", "sm", "rank", "gdr"));
                case "net" -> annotate("NCCL net " + attrs.getOrDefault("name", "?") + ": "
                        + describe(attrs, "dev", "port", "speed", "gdr"));
                case "nvlink" -> {
                    Elem pci = nearest("pci");
                    if (pci != null) {
                        pci.nvlinks.add(attrs.getOrDefault("target", "?") + " x" + attrs.getOrDefault("count", "?"));
                    }
                }
                case "pcilink" -> annotate("NCCL pcilink to " + attrs.getOrDefault("target", "?"));
                default -> {
                }
            }
            if (empty) {
                finish(e);
            } else {
                push(e);
            }
        }

        private void cpu(Map<String, String> attrs, int line) {
            if (m.cpu != null) {
                return;
            }
            if (m.arch == null) {
                m.arch = attrs.get("arch");
            }
            if (attrs.containsKey("vendor") || attrs.containsKey("familyid")) {
                CpuDTO c = new CpuDTO();
                c.vendor = attrs.get("vendor");
                c.family = attrs.containsKey("familyid") ? HwlocModel.decimal(attrs.get("familyid"), src, line, "familyid") : null;
                c.model = attrs.containsKey("modelid") ? HwlocModel.decimal(attrs.get("modelid"), src, line, "modelid") : null;
                m.cpu = c;
            }
        }

        private void pci(Elem e) {
            String busid = e.attrs.get("busid");
            if (busid == null) {
                throw new TopologyFormatException(src.name(), e.line, "<pci> without busid");
            }
            e.bdf = HwlocModel.bdf(busid, src, e.line);
            DeviceDTO d = new DeviceDTO();
            d.bdf = e.bdf.toString();
            d.classCode = hexAttr(e, "class");
            d.vendor = hexAttr(e, "vendor");
            d.device = hexAttr(e, "device");
            d.subsystemVendor = hexAttr(e, "subsystem_vendor");
            d.subsystemDevice = hexAttr(e, "subsystem_device");
            d.linkSpeed = speed(e.attrs.get("link_speed"));
            String width = e.attrs.get("link_width");
            if (width != null && !width.isBlank()) {
                d.linkWidth = HwlocModel.decimal(width, src, e.line, "link_width");
            }
            Elem cpu = nearest("cpu");
            if (cpu != null && cpu.attrs.containsKey("numaid")) {
                int node = HwlocModel.decimal(cpu.attrs.get("numaid"), src, cpu.line, "numaid");
                d.numaNode = node >= 0 ? node : null;
            }
            Elem parent = nearest("pci");
            if (parent != null) {
                if (parent.bdf.domain() != e.bdf.domain() || e.bdf.bus() <= parent.bdf.bus()) {
                    throw new TopologyFormatException(src.name(), e.line,
                            d.bdf + " is nested below " + parent.bdf + " but is not on a bus behind it");
                }
                parent.childBuses.add(e.bdf.bus());
            }
            HwlocModel.register(seen, d, src, e.line);
            e.device = d;
            m.devices.add(d);
        }

        private Integer hexAttr(Elem e, String name) {
            String v = e.attrs.get(name);
            return v == null || v.isBlank() ? null : HwlocModel.hex(v, src, e.line, name);
        }

        /** "16.0 GT/s PCIe" -> "16GT/s"; "" -> null. */
        private static String speed(String v) {
            if (v == null || v.isBlank()) {
                return null;
            }
            String s = v.replace("PCIe", "").replace(" ", "");
            return s.replaceFirst("^(\\d+)\\.0(?=GT/s)", "$1");
        }

        /** Works out a finished {@code <pci>} element's bridge buses and hands its buses up. */
        private void finish(Elem e) {
            if (e.device == null) {
                return;
            }
            DeviceDTO d = e.device;
            int bus = e.bdf.bus();
            if (!e.childBuses.isEmpty()) {
                d.headerType = 1;
                int min = e.childBuses.stream().mapToInt(Integer::intValue).min().getAsInt();
                d.subordinateBus = e.maxBelow;
                if (min <= bus + 2) {
                    d.secondaryBus = bus + 1;
                } else {
                    d.notes.add(String.format(Locale.ROOT,
                            "NCCL omits the bridge level below it: its secondary bus is between %02x and %02x.",
                            bus + 1, min - 1));
                }
                d.notes.add("Subordinate bus is the highest bus NCCL lists below it (a lower bound).");
            } else if (d.classCode != null) {
                d.headerType = HwlocModel.headerTypeForClass(d.classCode);
            }
            if (!e.nvlinks.isEmpty()) {
                d.notes.add("NCCL lists " + e.nvlinks.size() + " NVLink targets: " + String.join(", ", e.nvlinks) + ".");
            }
            Elem parent = nearest("pci");
            if (parent != null) {
                parent.maxBelow = Math.max(parent.maxBelow, Math.max(bus, e.maxBelow));
            }
        }

        /** The innermost open {@code <pci>} or {@code <cpu>} element, null when there is none. */
        private Elem nearest(String name) {
            return (name.equals("pci") ? openPci : openCpu).peek();
        }

        private void annotate(String note) {
            Elem pci = nearest("pci");
            if (pci != null) {
                pci.device.notes.add(note + ".");
            }
        }

        private static String describe(Map<String, String> attrs, String... keys) {
            List<String> parts = new ArrayList<>();
            for (String k : keys) {
                if (attrs.containsKey(k)) {
                    parts.add(k + "=" + attrs.get(k));
                }
            }
            return String.join(" ", parts);
        }

        private void notes() {
            if (unmatchedCloses > 0 || unclosed > 0 || !sawSystem) {
                m.notes.add(String.format(Locale.ROOT, "Partial NCCL topology: the input is a fragment"
                        + " (%s<system> root, %d end tag(s) without their start tags, %d element(s) not closed);"
                        + " the enclosing elements and the rest of the tree are missing.",
                        sawSystem ? "" : "no ", unmatchedCloses, unclosed));
            }
            m.notes.add("NCCL lists only the PCI paths to GPUs and NICs and nests each <pci> two bus levels"
                    + " below its parent element: root ports and switch downstream ports are not listed.");
            m.notes.add("NCCL topology XML gives no host bridges, BARs, port types, revisions or ACS state.");
            if (m.devices.stream().anyMatch(d -> d.linkSpeed != null || d.linkWidth != null)) {
                m.notes.add("Link speed and width are the lower of the device's and its port's maximum"
                        + " (NCCL reads max_link_*), not the negotiated link.");
            }
            if (m.cpu != null) {
                m.notes.add("NCCL <cpu> elements are NUMA nodes: the socket count is unknown.");
            } else {
                m.notes.add("No <cpu> element: CPU and NUMA locality unknown.");
            }
        }
    }
}
