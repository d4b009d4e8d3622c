package org.peerdma.pci.imports.lspci;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.Acs;
import org.peerdma.pci.Capability;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CapabilityDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.peerdma.pci.imports.lspci.LspciHeaderLine.Ids;
import org.peerdma.pci.imports.lspci.LspciHeaderLine.Names;

/**
 * One device of an lspci listing: its header line, then the detail lines fed in order. Level-1
 * detail lines (one tab, or the shallowest indentation of the record) are read by their label;
 * deeper lines only inside the Express capability (LnkCap, LnkSta) and ACS capability (ACSCap, ACSCtl).
 * Everything else lspci prints is ignored.
 */
final class LspciRecord {
    private static final Pattern BUS = Pattern.compile(
            "Bus: primary=([0-9a-fA-F]{2}), secondary=([0-9a-fA-F]{2}), subordinate=([0-9a-fA-F]{2})(?:, .*)?");
    private static final Pattern NUMA = Pattern.compile("NUMA node:\\s*(-?\\d+)");
    /** DOTALL: a line separator inside the line made both ".*" fail once per "NUMA node" (quadratic). */
    private static final Pattern FLAGS_NUMA = Pattern.compile(".*\\bNUMA node (\\d+)\\b.*", Pattern.DOTALL);
    private static final Pattern EXPRESS = Pattern.compile("Express (?:\\(v(\\d+)\\) )?(.*)");
    private static final Pattern LNK_SPEED = Pattern.compile("\\bSpeed ([0-9.]+GT/s|unknown)");
    private static final Pattern LNK_WIDTH = Pattern.compile("\\bWidth x(\\d+)");
    private static final String[] ACS_NAMES = {"SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd",
        "EgressCtrl", "DirectTrans"};

    final DeviceDTO dev = new DeviceDTO();
    final LspciHeaderLine header;
    /** File line of the header. */
    final int line;
    private int baseIndent = -1;
    int detailLines;
    /** Saw "Control:" (-vv) or "Flags:" (-v): the full record of a verbose listing. */
    boolean fullRecord;
    boolean controlSeen;
    boolean accessDenied;
    private boolean capsListed;
    private boolean expressSeen;
    private boolean pcixSeen;
    private boolean extSeen;
    private boolean statusCapMinus;
    private boolean busLine;
    private boolean subsystemLine;
    private CapabilityDTO current;
    private int nextImpliedBar;
    private boolean impliedBars;

    LspciRecord(LspciHeaderLine header, int line) {
        this.header = header;
        this.line = line;
        dev.bdf = header.bdf.toString();
        Names n = header.names;
        dev.vendor = n.vendor();
        dev.device = n.device();
        dev.vendorName = n.vendorName();
        dev.deviceName = n.deviceName();
        dev.className = header.className;
        dev.revision = header.revision;
    }

    /**
     * detail - one indented line of this record.
     * @param indent its indentation in columns (a tab counts to the next multiple of 8)
     * @param text the line, stripped
     * Errors: LspciSyntaxError for a line this parser reads but cannot parse.
     */
    void detail(int indent, String text) {
        detailLines++;
        if (baseIndent < 0) {
            baseIndent = indent;
        }
        if (indent > baseIndent) {
            nested(text);
            return;
        }
        current = null;
        devLabel = null;
        if (text.startsWith("Capabilities:")) {
            capability(text);
        } else if (LspciResources.isRegion(text)) {
            BarDTO bar = LspciResources.region(text, nextImpliedBar);
            if (!text.startsWith("Region ")) {
                impliedBars = true;
            }
            nextImpliedBar = bar.index + (bar.mem64 ? 2 : 1);
            dev.bars.add(bar);
        } else if (text.startsWith("Expansion ROM")) {
            dev.bars.add(LspciResources.rom(text));
        } else if (LspciResources.isWindow(text)) {
            WindowDTO w = LspciResources.window(text);
            if (w != null) {
                dev.bridgeWindows.add(w);
            }
        } else if (text.startsWith("Bus:")) {
            Matcher m = BUS.matcher(text);
            if (!m.matches()) {
                throw LspciSyntaxError.of("malformed bridge bus line '%s'", text);
            }
            busLine = true;
            dev.secondaryBus = Integer.parseInt(m.group(2), 16);
            dev.subordinateBus = Integer.parseInt(m.group(3), 16);
        } else if (text.startsWith("Subsystem:")) {
            subsystemLine = true;
            subsystem(text.substring("Subsystem:".length()).strip());
        } else if (text.startsWith("NUMA node:")) {
            Matcher m = NUMA.matcher(text);
            if (!m.matches()) {
                throw LspciSyntaxError.of("malformed NUMA node line '%s'", text);
            }
            dev.numaNode = numaNode(m.group(1), text);
        } else if (text.startsWith("Kernel driver in use:")) {
            dev.driver = text.substring("Kernel driver in use:".length()).strip();
        } else if (text.startsWith("Control:")) {
            fullRecord = true;
            controlSeen = true;
            dev.command = LspciRegisters.flags(text.substring(8), LspciRegisters.COMMAND);
        } else if (text.startsWith("Status:")) {
            statusCapMinus = text.matches("Status:\\s+Cap-.*");
            dev.status = LspciRegisters.status(text.substring(7));
        } else if (text.startsWith("Flags:")) {
            fullRecord = true;
            Matcher m = FLAGS_NUMA.matcher(text);
            if (m.matches() && dev.numaNode == null) {
                dev.numaNode = numaNode(m.group(1), text);
            }
        }
    }

    private void capability(String text) {
        if (text.equals(LspciCapabilities.ACCESS_DENIED)) {
            accessDenied = true;
            return;
        }
        LspciCapabilities.Header h = LspciCapabilities.header(text);
        CapabilityDTO cap = h.cap();
        if (h.text().startsWith("<chain")) {
            dev.notes.add(String.format("lspci reports the capability list at [%x] as %s; entries after it "
                    + "are missing", cap.offset, h.text()));
            return;
        }
        capsListed = true;
        dev.capabilities.add(cap);
        current = cap;
        if (cap.extended) {
            extSeen = true;
        }
        if (cap.id < 0) {
            dev.notes.add(String.format("capability [%x] '%s' is not one this importer knows: id left -1",
                    cap.offset, h.text()));
        } else if (!cap.extended && cap.id == Capability.CAP_EXP) {
            express(h.text());
        } else if (!cap.extended && cap.id == 0x07) {
            pcixSeen = true;
        } else if (!cap.extended && cap.id == Capability.CAP_SSVID && !subsystemLine
                && h.text().startsWith("Subsystem")) {
            subsystem(h.text().substring("Subsystem".length()).replaceFirst("^:\\s*", ""));
        } else if (cap.extended && cap.id == Acs.EXT_CAP_ID) {
            AcsDTO acs = new AcsDTO();
            acs.offset = cap.offset;
            dev.acs = acs;
        }
    }

    private void express(String text) {
        expressSeen = true;
        Matcher m = EXPRESS.matcher(text);
        String words = m.matches() ? m.group(2) : "";
        PciePortType t = words.startsWith("PCI/PCI-X Bridge") ? PciePortType.PCIE_TO_PCI_BRIDGE
                : PciePortType.fromLspci(words);
        if (t == null) {
            dev.notes.add("Express capability with a device/port type this importer does not know: '" + words + "'");
        } else {
            dev.portType = t.name();
        }
    }

    private void subsystem(String text) {
        Names n = LspciHeaderLine.names(text, header.ids);
        if (n == null && header.ids != Ids.NAMES) {
            throw LspciSyntaxError.of("Subsystem '%s' lacks the [vendor:device] IDs of an lspci -n/-nn listing", text);
        }
        if (n != null) {
            dev.subsystemVendor = n.vendor();
            dev.subsystemDevice = n.device();
        }
    }

    private void nested(String text) {
        if (current == null) {
            return;
        }
        if (current.extended && current.id == Acs.EXT_CAP_ID) {
            if (text.startsWith("ACSCap:")) {
                dev.acs.cap = acsBits(text.substring(7));
            } else if (text.startsWith("ACSCtl:")) {
                dev.acs.ctrl = acsBits(text.substring(7));
            }
        } else if (!current.extended && current.id == Capability.CAP_EXP && expressDevice(text)) {
            return;
        } else if (!current.extended && current.id == Capability.CAP_EXP && text.startsWith("LnkSta:")) {
            Link l = link(text, "LnkSta");
            dev.linkSpeed = l.speed();
            dev.linkWidth = l.width();
        } else if (!current.extended && current.id == Capability.CAP_EXP && text.startsWith("LnkCap:")) {
            // cap_express_link: "LnkCap:\tPort #0, Speed 16GT/s, Width x16, ASPM L1, ..." (LnkCap2 is another line)
            Link l = link(text, "LnkCap");
            dev.linkCapSpeed = l.speed();
            dev.linkCapWidth = l.width();
        }
    }

    /** The Express capability's DevCap/DevCtl/DevSta line being read (its continuation lines follow), or null. */
    private String devLabel;
    private final StringBuilder devText = new StringBuilder();
    private static final Pattern LABEL = Pattern.compile("^[A-Za-z][A-Za-z0-9]*:");

    /**
     * expressDevice - cap_express_dev's lines: "DevCap:", "DevCtl:", "DevSta:" and the unlabelled lines that
     * continue them, read back into the registers. Return: true when {@code text} was one of them.
     */
    private boolean expressDevice(String text) {
        Matcher label = LABEL.matcher(text);
        if (label.find()) {
            String l = label.group();
            devLabel = List.of("DevCap:", "DevCtl:", "DevSta:", "LnkCap:", "LnkSta:").contains(l) ? l : null;
            devText.setLength(0);
            if (devLabel == null) {
                return false;
            }
            devText.append(text.substring(l.length()));
            if (l.startsWith("Lnk")) {
                registers(devText.toString());
                return false; // the link branch reads its speed and width too
            }
        } else if (devLabel != null) {
            devText.append(' ').append(text);
        } else {
            return false;
        }
        registers(devText.toString());
        return true;
    }

    private void registers(String t) {
        switch (devLabel) {
            case "DevCap:" -> dev.devCap = LspciRegisters.devCap(t);
            case "DevCtl:" -> dev.devCtl = LspciRegisters.devCtl(t);
            case "DevSta:" -> dev.devSta = LspciRegisters.flags(t, LspciRegisters.DEVSTA);
            case "LnkCap:" -> dev.lnkCap = LspciRegisters.lnkCap(t);
            default -> dev.lnkSta = LspciRegisters.lnkSta(t);
        }
    }

    /** A link's speed ("8GT/s", null for lspci's "unknown") and width in lanes. */
    private record Link(String speed, int width) {
    }

    /** link - the speed and width of a LnkSta or LnkCap line, the width checked to be 0 (a link that is down) to 32. */
    private static Link link(String text, String what) {
        Matcher s = LNK_SPEED.matcher(text);
        Matcher w = LNK_WIDTH.matcher(text);
        if (!s.find() || !w.find()) {
            throw LspciSyntaxError.of("malformed or truncated %s line '%s'", what, text);
        }
        // x0 is what lspci prints for a port whose link is down
        int width = w.group(1).length() > 2 ? -1 : Integer.parseInt(w.group(1));
        if (width < 0 || width > 32) {
            throw LspciSyntaxError.of("%s link width x%s: PCIe links are x0 (down) to x32", what, w.group(1));
        }
        return new Link(s.group(1).equals("unknown") ? null : s.group(1), width);
    }

    /** A NUMA node number: 0 .. MAX_NUMNODES-1 (1024), or -1 as sysfs prints for none. */
    private static int numaNode(String digits, String text) {
        int n = digits.length() > 5 ? Integer.MAX_VALUE : Integer.parseInt(digits);
        if (n > 1023 && n != -1) {
            throw LspciSyntaxError.of("NUMA node %s in '%s': nodes are 0 to 1023", digits, text);
        }
        return n;
    }

    /** acsBits - an ACSCap/ACSCtl value; all seven flags must be there (a cut line is an error). */
    private static int acsBits(String value) {
        String[] tok = value.strip().split("\\s+");
        if (tok.length < ACS_NAMES.length) {
            throw LspciSyntaxError.of("truncated ACS line '%s': lspci prints all seven flags", value.strip());
        }
        for (int i = 0; i < ACS_NAMES.length; i++) {
            if (!tok[i].equals(ACS_NAMES[i] + "+") && !tok[i].equals(ACS_NAMES[i] + "-")) {
                throw LspciSyntaxError.of("malformed ACS flag '%s' (expected %s+ or %s-)", tok[i], ACS_NAMES[i],
                        ACS_NAMES[i]);
            }
        }
        return Acs.parseLspci(value);
    }

    /** finish - derive what needs the whole record: class code, header type, port type, notes. */
    void finish() {
        Integer cls = header.class16;
        if (cls != null) {
            dev.classCode = (cls << 8) | (header.progIf == null ? 0 : header.progIf);
        } else {
            dev.notes.add("class '" + header.className + "' is not a pci.ids class name: class code unknown");
        }
        if (cls != null && cls == 0x0607) {
            dev.headerType = 2;
        } else if (busLine || (cls != null && (cls == 0x0604 || cls == 0x0609))) {
            dev.headerType = 1;
        } else if (fullRecord) {
            dev.headerType = 0;
        }
        if (impliedBars) {
            dev.notes.add("lspci -v prints BARs without 'Region N:': indices counted in order (64-bit BARs take "
                    + "two), an unused BAR before them would shift them");
        }
        for (BarDTO b : dev.bars) {
            if (b.size == 0) {
                dev.notes.add(String.format("%s: lspci printed no size", b.index == LspciResources.ROM_INDEX
                        ? "expansion ROM" : "BAR " + b.index));
            }
        }
        if (dev.acs != null && (dev.acs.cap == null || dev.acs.ctrl == null)) {
            dev.notes.add("ACS capability listed without ACSCap/ACSCtl lines (lspci -v, not -vv): ACS bits unknown");
        }
        if (accessDenied) {
            dev.extendedCapsKnown = false;
            dev.notes.add("Capabilities: <access denied>: lspci ran without root, so the port type, ACS and "
                    + "extended capabilities are unknown");
        } else if (capsListed) {
            if (!expressSeen) {
                dev.portType = PciePortType.CONVENTIONAL.name();
            }
            dev.extendedCapsKnown = extSeen || (!expressSeen && !pcixSeen);
            if (!dev.extendedCapsKnown) {
                dev.notes.add("no extended capability listed (config space above 0x100 not shown): ACS unknown");
            }
        } else if (statusCapMinus) {
            dev.portType = PciePortType.CONVENTIONAL.name();
            dev.extendedCapsKnown = true;
        } else if (detailLines > 0) {
            dev.notes.add("no capability list in the dump: port type and ACS unknown");
        }
    }
}
