package org.peerdma.pci.imports.lspci;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.dto.CapabilityDTO;

/**
 * "Capabilities: [xx] Name ..." (standard, offset below 0x100) and "Capabilities: [1xx vN] Name"
 * (extended) header lines, with lspci's names mapped back to capability IDs
 * (include/uapi/linux/pci_regs.h PCI_CAP_ID_* and PCI_EXT_CAP_ID_*).
 */
final class LspciCapabilities {
    /** "[xx]" or "[xxx vN]"; lspci prints the version only with -vv. */
    private static final Pattern HEADER = Pattern.compile("Capabilities: \\[([0-9a-fA-F]{2,3})(?: v(\\d+))?\\] (.+)");
    private static final Pattern STD_UNKNOWN = Pattern.compile("#([0-9a-fA-F]{2}) \\[[0-9a-fA-F]{4}\\].*");
    private static final Pattern EXT_UNKNOWN = Pattern.compile("Extended Capability ID (?:0x)?([0-9a-fA-F]+).*");
    /** What lspci's own "Capabilities:" line says when it could not read config space. */
    static final String ACCESS_DENIED = "Capabilities: <access denied>";

    private static final Map<String, Integer> STD = Map.ofEntries(
            Map.entry("Power Management", 0x01), Map.entry("AGP version", 0x02), Map.entry("AGP3", 0x0e),
            Map.entry("Vital Product Data", 0x03), Map.entry("Slot ID", 0x04), Map.entry("MSI", 0x05),
            Map.entry("CompactPCI hot-swap", 0x06), Map.entry("PCI-X", 0x07), Map.entry("HyperTransport", 0x08),
            Map.entry("Vendor Specific Information", 0x09), Map.entry("Debug port", 0x0a),
            Map.entry("CompactPCI central resource control", 0x0b), Map.entry("Hot-plug capable", 0x0c),
            Map.entry("Subsystem", 0x0d), Map.entry("Secure device", 0x0f), Map.entry("Express", 0x10),
            Map.entry("MSI-X", 0x11), Map.entry("SATA HBA", 0x12), Map.entry("PCI Advanced Features", 0x13),
            Map.entry("Enhanced Allocation", 0x14), Map.entry("Flattening Portal Bridge", 0x15));

    private static final Map<String, Integer> EXT = Map.ofEntries(
            Map.entry("Null", 0x00), Map.entry("Advanced Error Reporting", 0x01), Map.entry("Virtual Channel", 0x02),
            Map.entry("Device Serial Number", 0x03), Map.entry("Power Budgeting", 0x04),
            Map.entry("Root Complex Link", 0x05), Map.entry("Root Complex Internal Link", 0x06),
            Map.entry("Root Complex Event Collector", 0x07), Map.entry("Multi-Function Virtual Channel", 0x08),
            Map.entry("Root Complex Register Block", 0x0a), Map.entry("Vendor Specific Information", 0x0b),
            Map.entry("Configuration Access Correlation", 0x0c), Map.entry("Access Control Services", 0x0d),
            Map.entry("Alternative Routing-ID Interpretation", 0x0e),
            Map.entry("Address Translation Service", 0x0f),
            Map.entry("Single Root I/O Virtualization", 0x10), Map.entry("Multi-Root I/O Virtualization", 0x11),
            Map.entry("Multicast", 0x12), Map.entry("Page Request Interface", 0x13),
            Map.entry("Physical Resizable BAR", 0x15), Map.entry("Resizable BAR", 0x15),
            Map.entry("Dynamic Power Allocation", 0x16), Map.entry("Transaction Processing Hints", 0x17),
            Map.entry("TPH Requester", 0x17), Map.entry("Latency Tolerance Reporting", 0x18),
            Map.entry("Secondary PCI Express", 0x19), Map.entry("Protocol Multiplexing", 0x1a),
            Map.entry("Process Address Space ID", 0x1b), Map.entry("LN Requester", 0x1c),
            Map.entry("Downstream Port Containment", 0x1d), Map.entry("L1 PM Substates", 0x1e),
            Map.entry("Precision Time Measurement", 0x1f), Map.entry("PCI Express over M_PHY", 0x20),
            Map.entry("FRS Queueing", 0x21), Map.entry("Readiness Time Reporting", 0x22),
            Map.entry("Designated Vendor-Specific", 0x23), Map.entry("VF Resizable BAR", 0x24),
            Map.entry("Data Link Feature", 0x25), Map.entry("Physical Layer 16.0 GT/s", 0x26),
            Map.entry("Lane Margining at the Receiver", 0x27), Map.entry("Hierarchy ID", 0x28),
            Map.entry("Native PCIe Enclosure Management", 0x29), Map.entry("Physical Layer 32.0 GT/s", 0x2a),
            Map.entry("Alternate Protocol", 0x2b), Map.entry("System Firmware Intermediary", 0x2c),
            Map.entry("Data Object Exchange", 0x2e), Map.entry("Integrity and Data Encryption", 0x30),
            Map.entry("Physical Layer 64.0 GT/s", 0x31));

    private static final List<String> STD_NAMES = longestFirst(STD);
    private static final List<String> EXT_NAMES = longestFirst(EXT);

    /** A parsed header: the capability and the text after its name-bearing brackets. */
    record Header(CapabilityDTO cap, String text) {
    }

    private LspciCapabilities() {
    }

    /**
     * header - read a "Capabilities: [..] ..." line (not the access-denied form).
     * Return: the capability with id -1 when lspci's name is not one this table knows, and the
     * text after the brackets. Errors: LspciSyntaxError for a malformed or truncated header.
     */
    static Header header(String line) {
        Matcher m = HEADER.matcher(line);
        if (!m.matches()) {
            throw LspciSyntaxError.of("malformed or truncated capability header '%s' "
                    + "(expected 'Capabilities: [offset] name' or 'Capabilities: [offset vN] name')", line);
        }
        CapabilityDTO cap = new CapabilityDTO();
        cap.offset = Integer.parseInt(m.group(1), 16);
        cap.extended = cap.offset >= 0x100;
        cap.version = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        String text = m.group(3).strip();
        cap.id = cap.extended ? extId(text) : stdId(text);
        return new Header(cap, text);
    }

    /** stdId - the PCI_CAP_ID_* for lspci's text after "[xx] ", or -1. */
    static int stdId(String text) {
        Matcher m = STD_UNKNOWN.matcher(text);
        if (m.matches()) {
            return Integer.parseInt(m.group(1), 16);
        }
        return lookup(text, STD_NAMES, STD);
    }

    /** extId - the PCI_EXT_CAP_ID_* for lspci's text after "[xxx vN] ", or -1. */
    static int extId(String text) {
        Matcher m = EXT_UNKNOWN.matcher(text);
        if (m.matches() && m.group(1).length() <= 4) {
            return Integer.parseInt(m.group(1), 16);
        }
        return lookup(text, EXT_NAMES, EXT);
    }

    private static int lookup(String text, List<String> names, Map<String, Integer> ids) {
        for (String n : names) {
            if (text.startsWith(n) && (text.length() == n.length() || !isNameChar(text.charAt(n.length())))) {
                return ids.get(n);
            }
        }
        return -1;
    }

    /** A character that would continue a name ("MSI" must not match "MSI-X"). */
    private static boolean isNameChar(char c) {
        return Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '/';
    }

    private static List<String> longestFirst(Map<String, Integer> m) {
        return m.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()
                .thenComparing(Comparator.naturalOrder())).toList();
    }
}
