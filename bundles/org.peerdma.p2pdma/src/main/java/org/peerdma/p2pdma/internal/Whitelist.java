package org.peerdma.p2pdma.internal;

import java.util.List;

import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciePortType;

/**
 * pci_p2pdma_whitelist[] and __host_bridge_whitelist() (reference §C1, §C2), for the newest
 * kernel and for v5.x, plus v5.2's root_complex_whitelist.
 */
final class Whitelist {
    static final int ANY = -1;
    static final int REQ_SAME_HOST_BRIDGE = 1;

    /**
     * One row, with the kernel release that added it (from the linux-pci "applied for vX.Y" mails and the
     * PCI pull requests; docs/p2pdma.md lists the sources).
     */
    record Row(int vendor, int device, int flags, String comment, String since) {
        String describe() {
            return String.format("%04x:%s%s (%s; since %s)", vendor, device == ANY ? "PCI_ANY_ID"
                    : String.format("%04x", device), (flags & REQ_SAME_HOST_BRIDGE) != 0 ? " REQ_SAME_HOST_BRIDGE" : "",
                    comment, since);
        }
    }

    /** The newest table's row for a host-bridge device, or null. */
    static Row rowFor(int vendor, int device) {
        for (Row r : NEWEST) {
            if (r.vendor() == vendor && (r.device() == ANY || r.device() == device)) {
                return r;
            }
        }
        return null;
    }

    private static final int INTEL = 0x8086;
    private static final int GOOGLE = 0x1ae0;
    private static final int NVIDIA = 0x10de;
    private static final int ZHAOXIN = 0x1d17;
    static final int AMD = 0x1022;

    /** P-NEW, verbatim order. */
    static final List<Row> NEWEST = List.of(
            new Row(INTEL, 0x3c00, REQ_SAME_HOST_BRIDGE, "Intel Xeon E5/Core i7", "v5.4"),
            new Row(INTEL, 0x3c01, REQ_SAME_HOST_BRIDGE, "Intel Xeon E5/Core i7", "v5.4"),
            new Row(INTEL, 0x2f00, REQ_SAME_HOST_BRIDGE, "Intel Xeon E7 v3/Xeon E5 v3/Core i7", "v5.4"),
            new Row(INTEL, 0x2f01, REQ_SAME_HOST_BRIDGE, "Intel Xeon E7 v3/Xeon E5 v3/Core i7", "v5.4"),
            new Row(INTEL, 0x2030, 0, "Intel Skylake-E", "v5.6"),
            new Row(INTEL, 0x2031, 0, "Intel Skylake-E", "v5.7"),
            new Row(INTEL, 0x2032, 0, "Intel Skylake-E", "v5.7"),
            new Row(INTEL, 0x2033, 0, "Intel Skylake-E", "v5.7"),
            new Row(INTEL, 0x2020, 0, "Intel Skylake-E", "v5.6"),
            new Row(INTEL, 0x09a2, 0, "Intel Ice Lake and later Xeons", "v5.18"),
            new Row(INTEL, 0x0b25, 0, "Intel DSA SPR0", "v7.2"),
            new Row(INTEL, 0x0cfe, 0, "Intel IAX SPR0", "v7.2"),
            new Row(INTEL, 0x11fb, 0, "Intel DSA GNRD", "v7.2"),
            new Row(INTEL, 0x1212, 0, "Intel DSA DMR", "v7.2"),
            new Row(INTEL, 0x1216, 0, "Intel IAA DMR", "v7.2"),
            new Row(INTEL, 0x4940, 0, "Intel QAT 4xxx", "v7.2"),
            new Row(INTEL, 0x4942, 0, "Intel QAT 401xx", "v7.2"),
            new Row(INTEL, 0x4944, 0, "Intel QAT 402xx", "v7.2"),
            new Row(INTEL, 0x4946, 0, "Intel QAT 420xx", "v7.2"),
            new Row(INTEL, 0x4948, 0, "Intel QAT 6xxx", "v7.2"),
            new Row(GOOGLE, ANY, 0, "Google SoCs", "v7.1"),
            new Row(NVIDIA, 0x2f95, 0, "Nvidia CPUs", "v7.3"),
            new Row(NVIDIA, 0x2f96, 0, "Nvidia CPUs", "v7.3"),
            new Row(NVIDIA, 0x2f97, 0, "Nvidia CPUs", "v7.3"),
            new Row(NVIDIA, 0x2f98, 0, "Nvidia CPUs", "v7.3"),
            new Row(ZHAOXIN, 0x1003, REQ_SAME_HOST_BRIDGE, "Zhaoxin KX-6000/KH-40000/KX-6000G/KX-7000/KH-50000",
                    "pci/next, for v7.4"),
            new Row(ZHAOXIN, 0x1005, REQ_SAME_HOST_BRIDGE, "Zhaoxin", "pci/next, for v7.4"),
            new Row(ZHAOXIN, 0x1006, REQ_SAME_HOST_BRIDGE, "Zhaoxin", "pci/next, for v7.4"),
            new Row(ZHAOXIN, 0x1007, REQ_SAME_HOST_BRIDGE, "Zhaoxin", "pci/next, for v7.4"),
            new Row(ZHAOXIN, 0x1008, 0, "Zhaoxin", "pci/next, for v7.4"));

    /**
     * v5.x (P-5x): the Intel rows of that era, no AMD rows (the CPU rule replaced them). Rows
     * added later (Ice Lake 0x09a2, DSA/IAA/QAT, Google, NVIDIA, Zhaoxin) are not in it.
     */
    static final List<Row> V5X = NEWEST.subList(0, 9);

    private Whitelist() {
    }

    /** The outcome of one host bridge's look-up. */
    record Result(boolean ok, String device, String why) {
    }

    /** __host_bridge_whitelist(host, same_host_bridge) with the rule set's table. */
    static Result lookup(PciHostBridge host, boolean sameHostBridge, KernelVersion v) {
        return lookup(host, sameHostBridge, v, null);
    }

    private static final java.util.regex.Pattern RELEASE =
            java.util.regex.Pattern.compile("^v?(\\d{1,2})\\.(\\d{1,3})(?:[.\\-+~_].*)?$");
    private static final java.util.regex.Pattern SINCE = java.util.regex.Pattern.compile("v(\\d{1,2})\\.(\\d{1,3})");

    /** releaseCode - major * 1000 + minor of "6.8", "v5.18", "6.8.0-45-generic"; -1 when it is none. */
    static int releaseCode(String release) {
        java.util.regex.Matcher m = RELEASE.matcher(release == null ? "" : release.strip());
        return m.matches() ? Integer.parseInt(m.group(1)) * 1000 + Integer.parseInt(m.group(2)) : -1;
    }

    /** The release a row's {@code since} names ("v5.18", "pci/next, for v7.4") as a code, or MAX. */
    static int sinceCode(Row r) {
        java.util.regex.Matcher m = SINCE.matcher(r.since());
        return m.find() ? Integer.parseInt(m.group(1)) * 1000 + Integer.parseInt(m.group(2)) : Integer.MAX_VALUE;
    }

    /**
     * The table a kernel consults: for the v5.x and newest rule sets with a known release, every row added up
     * to that release (a 6.8 kernel has Ice Lake's 0x09a2, added in v5.18; a 7.0 kernel not Google's v7.1 row);
     * without one, the rule set's own table.
     */
    static List<Row> table(KernelVersion v, String release) {
        int code = release == null ? -1 : releaseCode(release);
        if (code < 0 || v != KernelVersion.NEWEST && v != KernelVersion.V5_X) {
            return v == KernelVersion.NEWEST ? NEWEST : V5X;
        }
        return NEWEST.stream().filter(r -> sinceCode(r) <= code).toList();
    }

    /** __host_bridge_whitelist(host, same_host_bridge) of kernel {@code release} (null: the rule set's table). */
    static Result lookup(PciHostBridge host, boolean sameHostBridge, KernelVersion v, String release) {
        List<org.peerdma.pci.PciDevice> devs = host.rootBus().devices();
        if (devs.isEmpty()) {
            return new Result(false, "none", "no device on root bus " + host.rootBus());
        }
        PciDevice root = devs.get(0);
        String name = String.format("%s [%04x:%04x]", root.name(), root.vendor(), root.device());
        boolean rootPortOk = v == KernelVersion.NEWEST && root.portType() == PciePortType.ROOT_PORT;
        if (!(root.bdf().devfn() == 0 || rootPortOk)) {
            return new Result(false, name, v == KernelVersion.NEWEST
                    ? "first device on the root bus is neither 00.0 nor a Root Port"
                    : "first device on the root bus is not 00.0 (" + v.label() + " accepts only devfn 00.0)");
        }
        List<Row> table = table(v, release);
        for (Row r : table) {
            if (root.vendor() != r.vendor()) {
                continue;
            }
            if (r.device() != ANY && root.device() != r.device()) {
                continue;
            }
            if ((r.flags() & REQ_SAME_HOST_BRIDGE) != 0 && !sameHostBridge) {
                return new Result(false, name, "whitelisted only within one host bridge: " + r.describe());
            }
            return new Result(true, name, "whitelisted: " + r.describe());
        }
        return new Result(false, name, String.format("Host bridge not in P2PDMA whitelist: %04x:%04x", root.vendor(),
                root.device()));
    }

    /** v5.2 root_complex_whitelist(dev): slot 00.0 of the host bridge's bus is AMD 0x1450. */
    static Result rootComplexV52(PciDevice dev) {
        PciHostBridge h = dev.hostBridge();
        for (PciDevice d : h.rootBus().devices()) {
            if (d.bdf().devfn() == 0) {
                String name = String.format("%s [%04x:%04x]", d.name(), d.vendor(), d.device());
                boolean ok = d.vendor() == AMD && d.device() == 0x1450;
                return new Result(ok, name, ok ? "AMD ZEN root complex 1022:1450" : "not AMD 1022:1450");
            }
        }
        return new Result(false, "none", "no device at 00.0 on root bus " + h.rootBus());
    }
}
