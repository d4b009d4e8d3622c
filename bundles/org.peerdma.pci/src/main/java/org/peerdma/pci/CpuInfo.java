package org.peerdma.pci;

/**
 * The boot CPU as p2pdma's cpu_supports_p2pdma() sees it (cpu_data(0)): vendor string as
 * /proc/cpuinfo prints it ("AuthenticAMD", "GenuineIntel", ...), family and model.
 *
 * @param vendor vendor_id, or "unknown"
 * @param family CPU family (x86), or -1 when unknown
 * @param model CPU model, or -1 when unknown
 * @param modelName human-readable model name, may be empty
 */
public record CpuInfo(String vendor, int family, int model, String modelName) {
    public static final CpuInfo UNKNOWN = new CpuInfo("unknown", -1, -1, "");

    /** @return true for AMD (X86_VENDOR_AMD). */
    public boolean isAmd() {
        return "AuthenticAMD".equals(vendor);
    }

    /** @return true when nothing is known about the CPU. */
    public boolean isUnknown() {
        return "unknown".equals(vendor) && family < 0;
    }
}
