package org.peerdma.p2pdma;

/**
 * The p2pdma.c rule sets this model implements (shared/reference/kernel-behaviors.md §A1, §C).
 */
public enum KernelVersion {
    /**
     * v4.20, the first merged p2pdma: no common upstream bridge gives -1, any ACS redirect on the
     * path -2. No whitelist, no map-type cache.
     */
    V4_20("v4.20", false),
    /**
     * v5.2: no common bridge gives 0x1000 + dist_a + dist_b when both devices' root complexes are
     * AMD 0x1450 (root_complex_whitelist, slot 00.0 of the host bus), else -1; ACS redirect still -2.
     */
    V5_2("v5.2", false),
    /**
     * v5.1x: ACS redirect means THRU_HOST_BRIDGE subject to the host-bridge whitelist (exact
     * vendor and device, the device at 00.0 only) or the AMD family &gt;= 0x17 CPU rule; map types
     * cached by (domain &lt;&lt; 16) | (bus &lt;&lt; 8) | devfn; a cache miss is returned as UNKNOWN.
     */
    V5_X("v5.1x", false),
    /**
     * Newest (around v7.0/7.1): the whitelist matches PCI_ANY_ID wildcards and accepts a Root Port
     * as the first device of the root bus; map type NONE exists; a cache miss is computed.
     */
    NEWEST("newest (v7.x)", true);

    private final String label;
    private final boolean mapTypeNone;

    KernelVersion(String label, boolean mapTypeNone) {
        this.label = label;
        this.mapTypeNone = mapTypeNone;
    }

    public String label() {
        return label;
    }

    /** @return whether this version's enum has PCI_P2PDMA_MAP_NONE. */
    public boolean hasMapTypeNone() {
        return mapTypeNone;
    }

    /**
     * @return whether bus-address mapping of P2P pages has the sign bug fixed in 2021 ("PCI/P2PDMA: fix the
     *         wrong dma address calculation when map sg"): dma = phys - bus_offset instead of + bus_offset.
     */
    public boolean busOffsetSignBug() {
        return this != NEWEST;
    }

    /** @return whether ACS redirect is a rejection (-2) rather than a reason to go through the host bridge. */
    public boolean acsRejects() {
        return this == V4_20 || this == V5_2;
    }

    /** @return the short name: newest, v5.1x, v5.2, v4.20. */
    public String shortName() {
        return switch (this) {
            case NEWEST -> "newest";
            case V5_X -> "v5.1x";
            case V5_2 -> "v5.2";
            case V4_20 -> "v4.20";
        };
    }

    /**
     * forRelease - the rule set a kernel release follows: 4.20-5.1 the first p2pdma (v4.20), 5.2-5.3
     * root_complex_whitelist (v5.2), 5.4-6.x map types through the host bridge with the exact-ID
     * whitelist (v5.1x), 7.0 and later the newest. The boundaries are those of the rule sets this model
     * has; a release between two of them follows the older one.
     * @param release "6.8", "v5.15", "6.8.0-45-generic", "5.10.0-28-amd64"
     * Return: the rule set, or null when the text is not a release number.
     * Errors: EINVAL for a release before v4.20 (no p2pdma).
     */
    public static KernelVersion forRelease(String release) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^v?(\\d{1,2})\\.(\\d{1,3})(?:[.\\-+~_].*)?$")
                .matcher(release.strip());
        if (!m.matches()) {
            return null;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        int v = major * 1000 + minor;
        if (v < 4020) {
            throw org.peerdma.errno.KernelException.einval(
                    "kernel %s has no p2pdma (it was merged in v4.20)", release.strip());
        }
        if (v < 5002) {
            return V4_20;
        }
        if (v < 5004) {
            return V5_2;
        }
        if (v < 7000) {
            return V5_X;
        }
        return NEWEST;
    }

    /** parse - "newest", "v5.x", "5.2", "4.20", case-insensitive. */
    public static KernelVersion parse(String s) {
        String t = s.strip().toLowerCase(java.util.Locale.ROOT).replaceFirst("^v", "");
        return switch (t) {
            case "newest", "7", "7.x", "7.0", "7.1", "latest" -> NEWEST;
            case "5.x", "5.10", "6.x", "5.1x", "6" -> V5_X;
            case "5.2" -> V5_2;
            case "4.20" -> V4_20;
            default -> throw org.peerdma.errno.KernelException.einval(
                    "unknown kernel version '%s' (newest, v5.x, v5.2, v4.20)", s);
        };
    }
}
