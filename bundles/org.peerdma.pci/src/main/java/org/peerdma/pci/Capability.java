package org.peerdma.pci;

/**
 * One entry of a device's capability list (config space 0x34 chain) or extended capability
 * list (0x100 chain).
 *
 * @param extended true for PCIe extended capabilities
 * @param id capability ID (PCI_CAP_ID_* or PCI_EXT_CAP_ID_*)
 * @param offset config-space offset
 * @param version extended capability version (0 for standard ones)
 */
public record Capability(boolean extended, int id, int offset, int version) {
    public static final int CAP_PM = 0x01;
    public static final int CAP_MSI = 0x05;
    public static final int CAP_VNDR = 0x09;
    public static final int CAP_SSVID = 0x0d;
    public static final int CAP_EXP = 0x10;
    public static final int CAP_MSIX = 0x11;
    public static final int EXT_AER = 0x01;
    public static final int EXT_VC = 0x02;
    public static final int EXT_DSN = 0x03;
    public static final int EXT_VNDR = 0x0b;
    public static final int EXT_ACS = 0x0d;
    public static final int EXT_ARI = 0x0e;
    public static final int EXT_ATS = 0x0f;
    public static final int EXT_SRIOV = 0x10;
    public static final int EXT_LTR = 0x18;
    public static final int EXT_SECPCI = 0x19;
    public static final int EXT_L1SS = 0x1e;
    public static final int EXT_PTM = 0x1f;
    public static final int EXT_DPC = 0x1d;
    public static final int EXT_REBAR = 0x15;
    public static final int EXT_PASID = 0x1b;
    public static final int EXT_DLF = 0x25;
    public static final int EXT_PL_16GT = 0x26;

    /** @return lspci's name for this capability, or "Capability ID 0x.." when unknown. */
    public String name() {
        return extended ? extName(id) : stdName(id);
    }

    /** stdName - lspci's name for a standard capability ID. */
    public static String stdName(int id) {
        return switch (id) {
            case 0x01 -> "Power Management";
            case 0x02 -> "AGP";
            case 0x03 -> "Vital Product Data";
            case 0x04 -> "Slot ID";
            case 0x05 -> "MSI";
            case 0x06 -> "CompactPCI hot-swap";
            case 0x07 -> "PCI-X";
            case 0x08 -> "HyperTransport";
            case 0x09 -> "Vendor Specific Information";
            case 0x0a -> "Debug port";
            case 0x0b -> "CompactPCI central resource control";
            case 0x0c -> "Hot-plug capable";
            case 0x0d -> "Subsystem";
            case 0x0e -> "AGP3";
            case 0x0f -> "Secure device";
            case 0x10 -> "Express";
            case 0x11 -> "MSI-X";
            case 0x12 -> "SATA HBA";
            case 0x13 -> "PCI Advanced Features";
            case 0x14 -> "Enhanced Allocation";
            case 0x15 -> "Flattening Portal Bridge";
            default -> String.format("Capability ID %#04x", id);
        };
    }

    /** extName - lspci's name for an extended capability ID. */
    public static String extName(int id) {
        return switch (id) {
            case 0x01 -> "Advanced Error Reporting";
            case 0x02, 0x09 -> "Virtual Channel";
            case 0x03 -> "Device Serial Number";
            case 0x04 -> "Power Budgeting";
            case 0x05 -> "Root Complex Link";
            case 0x06 -> "Root Complex Internal Link";
            case 0x07 -> "Root Complex Event Collector";
            case 0x08 -> "Multi-Function Virtual Channel";
            case 0x0a -> "Root Complex Register Block";
            case 0x0b -> "Vendor Specific Information";
            case 0x0c -> "Configuration Access Correlation";
            case 0x0d -> "Access Control Services";
            case 0x0e -> "Alternative Routing-ID Interpretation (ARI)";
            case 0x0f -> "Address Translation Service (ATS)";
            case 0x10 -> "Single Root I/O Virtualization (SR-IOV)";
            case 0x11 -> "Multi-Root I/O Virtualization (MR-IOV)";
            case 0x12 -> "Multicast";
            case 0x13 -> "Page Request Interface (PRI)";
            case 0x15 -> "Physical Resizable BAR";
            case 0x16 -> "Dynamic Power Allocation";
            case 0x17 -> "TPH Requester";
            case 0x18 -> "Latency Tolerance Reporting";
            case 0x19 -> "Secondary PCI Express";
            case 0x1a -> "Protocol Multiplexing";
            case 0x1b -> "Process Address Space ID (PASID)";
            case 0x1c -> "LN Requester";
            case 0x1d -> "Downstream Port Containment";
            case 0x1e -> "L1 PM Substates";
            case 0x1f -> "Precision Time Measurement";
            case 0x23 -> "Designated Vendor-Specific";
            case 0x25 -> "Data Link Feature";
            case 0x26 -> "Physical Layer 16.0 GT/s";
            case 0x27 -> "Lane Margining at the Receiver";
            case 0x2a -> "Physical Layer 32.0 GT/s";
            default -> String.format("Extended Capability ID %#x", id);
        };
    }
}
