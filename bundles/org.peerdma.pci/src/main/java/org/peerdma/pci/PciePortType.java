package org.peerdma.pci;

/**
 * PCIe device/port type from the Express capability (PCI_EXP_FLAGS_TYPE), plus
 * {@link #CONVENTIONAL} for devices without an Express capability and {@link #UNKNOWN} when the
 * source did not show the capability list.
 */
public enum PciePortType {
    ENDPOINT(0x0, "Endpoint"),
    LEGACY_ENDPOINT(0x1, "Legacy Endpoint"),
    ROOT_PORT(0x4, "Root Port"),
    UPSTREAM_PORT(0x5, "Upstream Port"),
    DOWNSTREAM_PORT(0x6, "Downstream Port"),
    PCIE_TO_PCI_BRIDGE(0x7, "PCI-Express to PCI/PCI-X Bridge"),
    PCI_TO_PCIE_BRIDGE(0x8, "PCI/PCI-X to PCI-Express Bridge"),
    RC_INTEGRATED_ENDPOINT(0x9, "Root Complex Integrated Endpoint"),
    RC_EVENT_COLLECTOR(0xa, "Root Complex Event Collector"),
    CONVENTIONAL(-1, "conventional PCI"),
    /** The dump did not say (lspci -tv, hwloc): p2pdma treats it as not a Root Port. */
    UNKNOWN(-2, "unknown");

    private final int code;
    private final String lspciName;

    PciePortType(int code, String lspciName) {
        this.code = code;
        this.lspciName = lspciName;
    }

    /** @return PCI_EXP_TYPE_* value, or -1 for conventional PCI. */
    public int code() {
        return code;
    }

    /** @return the words lspci prints after "Express (v2)". */
    public String lspciName() {
        return lspciName;
    }

    /** @return true for ports that have a secondary bus (root, switch up/down, PCIe-PCI bridges). */
    public boolean isBridgePort() {
        return this == ROOT_PORT || this == UPSTREAM_PORT || this == DOWNSTREAM_PORT
                || this == PCIE_TO_PCI_BRIDGE || this == PCI_TO_PCIE_BRIDGE;
    }

    /** fromCode - the type for a PCI_EXP_TYPE_* value; CONVENTIONAL for unknown codes. */
    public static PciePortType fromCode(int code) {
        for (PciePortType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return CONVENTIONAL;
    }

    /** fromLspci - the type for lspci's words ("Root Port", "Downstream Port", ...); null if none. */
    public static PciePortType fromLspci(String words) {
        String w = words.strip();
        for (PciePortType t : values()) {
            if (t != CONVENTIONAL && t != UNKNOWN && w.startsWith(t.lspciName)) {
                return t;
            }
        }
        if (w.startsWith("Upstream")) {
            return UPSTREAM_PORT;
        }
        if (w.startsWith("Downstream")) {
            return DOWNSTREAM_PORT;
        }
        return null;
    }
}
