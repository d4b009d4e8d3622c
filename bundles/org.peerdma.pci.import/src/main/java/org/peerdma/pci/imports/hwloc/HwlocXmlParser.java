package org.peerdma.pci.imports.hwloc;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;

import org.peerdma.pci.Bdf;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.document.Quoting;
import org.peerdma.pci.spi.TopologySource;
import org.peerdma.util.Texts;
import org.xml.sax.Attributes;
import org.xml.sax.InputSource;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Reads {@code lstopo --of xml} (hwloc 1.x and 2.x): host bridges ({@code Bridge} with
 * {@code bridge_type="0-1"}), PCI bridges ({@code bridge_type="1-1"}) and {@code PCIDev} objects
 * with their IDs, class, revision, bus ranges and names, NUMA locality from the enclosing
 * NUMANode or nodeset, and the CPU from the Package objects. The whole object tree is walked,
 * so the different places where hwloc 1.x and 2.x attach I/O objects both work.
 * <p>
 * The DTD named by {@code <!DOCTYPE topology SYSTEM "hwloc.dtd">} is never loaded and external
 * entities are not resolved. Stateless and thread-safe.
 */
public final class HwlocXmlParser {
    /** Format name of the machines this parser produces. */
    public static final String FORMAT = "hwloc-xml";

    private static final Pattern PCI_TYPE = Pattern.compile(
            "([0-9a-fA-F]{4}) \\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\\] \\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\\] ([0-9a-fA-F]{2})");

    /**
     * probe - how sure this parser is that {@code src} is hwloc XML.
     * Return: 95 for a {@code <topology>} document with {@code <object type=...>} elements, 60 for
     * a {@code <topology>} root alone, 0 otherwise.
     */
    public int probe(TopologySource src) {
        boolean topology = false;
        int seen = 0;
        for (String line : src.lines()) {
            if (HwlocModel.isDecoration(line)) {
                continue;
            }
            if (++seen > 200) {
                break;
            }
            String t = line.strip();
            if (seen == 1 && !t.startsWith("<")) {
                return 0;
            }
            if (t.startsWith("<topology")) {
                topology = true;
            } else if (topology && t.startsWith("<object type=")) {
                return 95;
            }
        }
        return topology ? 60 : 0;
    }

    /**
     * parse - read an hwloc XML topology.
     * Return: the machine; what hwloc XML does not carry is listed in its notes.
     * Errors: {@link TopologyFormatException} naming the file line for malformed XML (the XML
     * parser's line, shifted to the file), a root other than {@code <topology>}, and PCI objects
     * whose bus id, type or bus range cannot be read; a PCI address listed twice.
     */
    public MachineDTO parse(TopologySource src) {
        List<String> lines = src.lines();
        int first = 0;
        while (first < lines.size() && HwlocModel.isDecoration(lines.get(first))) {
            first++;
        }
        if (first == lines.size()) {
            throw new TopologyFormatException(src.name(), 0, "no hwloc XML content");
        }
        int last = lines.size() - 1;
        while (HwlocModel.isDecoration(lines.get(last))) {
            last--;
        }
        // Decoration lines inside become empty lines, so XML line numbers stay file line numbers;
        // no newline after the last line, so an error at the end names the last line.
        StringBuilder text = new StringBuilder();
        for (int i = first; i <= last; i++) {
            String line = lines.get(i);
            text.append(HwlocModel.isDecoration(line) ? "" : line).append(i < last ? "\n" : "");
        }
        int lineOffset = src.lineNumber(first) - 1;
        refuseUnclosedInternalSubset(text, src, lineOffset);
        Handler handler = new Handler(src, lineOffset);
        try {
            newParser().parse(new InputSource(new StringReader(text.toString())), handler);
        } catch (SAXParseException e) {
            int line = e.getLineNumber() > 0 ? lineOffset + e.getLineNumber() : src.lineNumber(last);
            throw new TopologyFormatException(src.name(), line, "malformed hwloc XML: " + Quoting.clipQuoted(e.getMessage()));
        } catch (SAXException e) {
            if (e.getException() instanceof TopologyFormatException t) {
                throw t;
            }
            throw new TopologyFormatException(src.name(), 0, "malformed hwloc XML: " + Quoting.clipQuoted(e.getMessage()));
        } catch (IOException e) {
            throw new TopologyFormatException(src.name(), 0, "cannot read hwloc XML: " + Quoting.clipQuoted(e.getMessage()));
        }
        MachineDTO m = HwlocModel.toMachine(handler.root, src, FORMAT);
        m.notes.add("hwloc XML gives no BARs, port types or ACS state.");
        m.notes.add("hwloc lists only the PCI functions it keeps by default: host bridge functions,"
                + " system peripherals and bridges without kept devices may be missing.");
        if (m.devices.stream().anyMatch(d -> d.linkSpeed != null)) {
            m.notes.add("Link speeds are hwloc's link bandwidths in GB/s (rate x width), not GT/s.");
        } else if (!m.devices.isEmpty()) {
            m.notes.add("hwloc reports no link speeds (pci_link_speed 0).");
        }
        m.notes.addAll(handler.notes);
        return m;
    }

    /**
     * An internal DTD subset ({@code <!DOCTYPE topology [ ... ]>}, which hwloc never writes) that is not closed is
     * refused before parsing: the JDK's parser prints a stack trace to stderr for a document that ends inside one
     * (in a declaration, a literal, a comment).
     */
    private static void refuseUnclosedInternalSubset(CharSequence text, TopologySource src, int lineOffset) {
        String t = text.toString();
        int doctype = t.indexOf("<!DOCTYPE");
        if (doctype < 0) {
            return;
        }
        int end = t.indexOf('>', doctype);
        int open = t.indexOf('[', doctype);
        if (open < 0 || end >= 0 && end < open) {
            return; // <!DOCTYPE topology SYSTEM "hwloc.dtd">
        }
        // to its "]>", skipping what may hold a ']': quoted literals, comments, processing instructions
        int i = open + 1;
        while (i >= 0 && i < t.length()) {
            char c = t.charAt(i);
            if (t.startsWith("<!--", i)) {
                i = skipPast(t, "-->", i + 4);
            } else if (t.startsWith("<?", i)) {
                i = skipPast(t, "?>", i + 2);
            } else if (c == '"' || c == '\'') {
                i = skipPast(t, String.valueOf(c), i + 1);
            } else if (c == ']') {
                int j = i + 1;
                while (j < t.length() && Character.isWhitespace(t.charAt(j))) {
                    j++;
                }
                if (j < t.length() && t.charAt(j) == '>') {
                    return;
                }
                i++;
            } else {
                i++;
            }
        }
        int line = lineOffset + 1;
        for (int k = 0; k < doctype; k++) {
            if (t.charAt(k) == '\n') {
                line++;
            }
        }
        throw new TopologyFormatException(src.name(), line, "the internal DTD subset of <!DOCTYPE> is not closed"
                + " with ']>' (truncated XML?)");
    }

    /** The index after the next {@code mark} from {@code from}, -1 when there is none. */
    private static int skipPast(String t, String mark, int from) {
        int at = t.indexOf(mark, from);
        return at < 0 ? -1 : at + mark.length();
    }

    private static SAXParser newParser() {
        try {
            SAXParserFactory f = SAXParserFactory.newDefaultInstance();
            f.setNamespaceAware(false);
            f.setValidating(false);
            f.setXIncludeAware(false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            SAXParser p = f.newSAXParser();
            p.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            p.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            return p;
        } catch (ParserConfigurationException | SAXException e) {
            throw new IllegalStateException("the JDK XML parser cannot be set up without external DTDs", e);
        }
    }

    /** Builds the {@link HwNode} tree from SAX events, with file line numbers. */
    private static final class Handler extends DefaultHandler {
        private final TopologySource src;
        private final int lineOffset;
        private final Deque<HwNode> objects = new ArrayDeque<>();
        private final List<String> notes = new ArrayList<>();
        private Locator locator;
        private int depth;
        final HwNode root = new HwNode(HwNode.Kind.ROOT, 0);

        Handler(TopologySource src, int lineOffset) {
            this.src = src;
            this.lineOffset = lineOffset;
        }

        @Override
        public void setDocumentLocator(Locator locator) {
            this.locator = locator;
        }

        @Override
        public InputSource resolveEntity(String publicId, String systemId) {
            return new InputSource(new StringReader("")); // never fetch anything
        }

        private int line() {
            return locator == null ? 0 : lineOffset + locator.getLineNumber();
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes a) {
            if (depth++ == 0) {
                if (!"topology".equals(qName)) {
                    throw new TopologyFormatException(src.name(), line(),
                            "not an hwloc XML topology: root element <" + Texts.clip(qName) + ">");
                }
                return;
            }
            HwNode current = objects.isEmpty() ? root : objects.peek();
            if ("info".equals(qName)) {
                String name = a.getValue("name");
                if (name != null && a.getValue("value") != null) {
                    current.infos.putIfAbsent(name, a.getValue("value"));
                }
            } else if ("object".equals(qName)) {
                HwNode n = object(a);
                current.add(n);
                objects.push(n);
            }
        }

        @Override
        public void endElement(String uri, String localName, String qName) {
            depth--;
            if ("object".equals(qName) && !objects.isEmpty()) {
                HwNode n = objects.pop();
                if (n.device != null) {
                    n.device.vendorName = n.infos.get("PCIVendor");
                    n.device.deviceName = n.infos.get("PCIDevice");
                }
            }
        }

        private HwNode object(Attributes a) {
            int line = line();
            String type = a.getValue("type");
            if (type == null) {
                throw new TopologyFormatException(src.name(), line, "<object> without a type");
            }
            HwNode n = new HwNode(kind(type, a.getValue("bridge_type"), line), line);
            String os = a.getValue("os_index");
            if (os != null) {
                n.osIndex = HwlocModel.decimal(os, src, line, "os_index");
            }
            String nodeset = a.getValue("nodeset");
            if (nodeset != null) {
                n.nodesetKnown = true;
                n.nodesetNode = HwlocModel.singleNode(nodeset);
            }
            switch (n.kind) {
                case HOST_BRIDGE -> n.hostBridge = hostBridge(a, line);
                case PCI_BRIDGE, PCI_DEV -> n.device = device(a, n.kind == HwNode.Kind.PCI_BRIDGE, line);
                default -> {
                }
            }
            return n;
        }

        private HwNode.Kind kind(String type, String bridgeType, int line) {
            switch (type) {
                case "Machine":
                    return HwNode.Kind.MACHINE;
                case "NUMANode":
                    return HwNode.Kind.NUMA;
                case "Package":
                case "Socket":
                    return HwNode.Kind.PACKAGE;
                case "PCIDev":
                    return HwNode.Kind.PCI_DEV;
                case "Bridge":
                    if ("0-1".equals(bridgeType)) {
                        return HwNode.Kind.HOST_BRIDGE;
                    }
                    if ("1-1".equals(bridgeType)) {
                        return HwNode.Kind.PCI_BRIDGE;
                    }
                    notes.add("Line " + line + ": bridge of unknown bridge_type '" + Texts.clip(bridgeType) + "' skipped.");
                    return HwNode.Kind.OTHER;
                default:
                    return HwNode.Kind.OTHER;
            }
        }

        private HostBridgeDTO hostBridge(Attributes a, int line) {
            String buses = a.getValue("bridge_pci");
            if (buses == null) {
                throw new TopologyFormatException(src.name(), line, "host bridge without bridge_pci bus range");
            }
            HwlocModel.BusRange r = HwlocModel.busRange(buses, src, line, "bridge_pci");
            HostBridgeDTO hb = new HostBridgeDTO();
            hb.name = String.format(Locale.ROOT, "pci%04x:%02x", r.domain(), r.first());
            hb.domain = r.domain();
            hb.bus = r.first();
            hb.busEnd = r.last();
            return hb;
        }

        private DeviceDTO device(Attributes a, boolean bridge, int line) {
            String busid = a.getValue("pci_busid");
            if (busid == null) {
                throw new TopologyFormatException(src.name(), line, "PCI object without pci_busid");
            }
            Bdf bdf = HwlocModel.bdf(busid, src, line);
            String type = a.getValue("pci_type");
            Matcher m = type == null ? null : PCI_TYPE.matcher(type.strip());
            if (m == null || !m.matches()) {
                throw new TopologyFormatException(src.name(), line, "pci_type '" + Texts.clip(type)
                        + "' is not \"class [vendor:device] [subvendor:subdevice] revision\"");
            }
            DeviceDTO d = new DeviceDTO();
            d.bdf = bdf.toString();
            d.classCode = Integer.parseInt(m.group(1), 16) << 8;
            d.vendor = Integer.parseInt(m.group(2), 16);
            d.device = Integer.parseInt(m.group(3), 16);
            int subVendor = Integer.parseInt(m.group(4), 16);
            int subDevice = Integer.parseInt(m.group(5), 16);
            if (!bridge || subVendor != 0 || subDevice != 0) { // hwloc writes 0000:0000 for bridges
                d.subsystemVendor = subVendor;
                d.subsystemDevice = subDevice;
            }
            d.revision = Integer.parseInt(m.group(6), 16);
            d.headerType = bridge ? 1 : HwlocModel.headerTypeForClass(d.classCode);
            if (bridge) {
                HwlocModel.bridgeBuses(d, bdf, a.getValue("bridge_pci"), src, line, "bridge_pci", "hwloc");
            }
            String speed = a.getValue("pci_link_speed");
            if (speed != null) {
                try {
                    d.linkSpeed = HwlocModel.linkBandwidth(Double.parseDouble(speed));
                } catch (NumberFormatException e) {
                    throw new TopologyFormatException(src.name(), line, "pci_link_speed '" + Texts.clip(speed)
                            + "' is not a number");
                }
            }
            return d;
        }
    }
}
