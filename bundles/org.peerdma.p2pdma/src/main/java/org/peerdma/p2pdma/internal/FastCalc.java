package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.PciePortType;

/**
 * The verdicts of {@link Calc} for many pairs at once (the matrix): the same walk, on upstream
 * chains computed once per device, without building paths or messages. Results must equal
 * Calc's map type and distance for every pair (tested on every real machine).
 */
final class FastCalc {
    /** A device and everything above it, with prefix counts of redirecting devices and switch upstream ports. */
    static final class Chain {
        final PciDevice[] nodes;
        /** redirects[k] = redirecting devices among nodes[0..k-1]. */
        final int[] redirects;
        /** ups[k] = switch upstream ports among nodes[0..k-1]. */
        final int[] ups;
        /** unknown[k] = devices whose ACS state the description lacks among nodes[0..k-1]. */
        final int[] unknown;

        Chain(PciDevice d) {
            List<PciDevice> l = new ArrayList<>();
            List<String> ignored = new ArrayList<>();
            for (PciDevice x = d; x != null; x = Calc.up(x, ignored)) {
                l.add(x);
            }
            nodes = l.toArray(new PciDevice[0]);
            redirects = new int[nodes.length + 1];
            ups = new int[nodes.length + 1];
            unknown = new int[nodes.length + 1];
            for (int k = 0; k < nodes.length; k++) {
                unknown[k + 1] = unknown[k] + (nodes[k].acsUnknown() ? 1 : 0);
                redirects[k + 1] = redirects[k] + (Calc.redirects(nodes[k]) ? 1 : 0);
                ups[k + 1] = ups[k] + (nodes[k].portType() == PciePortType.UPSTREAM_PORT ? 1 : 0);
            }
        }
    }

    private final PciMachine m;
    private final KernelVersion v;
    private final Calc.Arch arch;
    private final boolean cpu;
    private final Map<PciHostBridge, Boolean> whitelistSame = new IdentityHashMap<>();
    private final Map<PciHostBridge, Boolean> whitelistOther = new IdentityHashMap<>();
    private final Map<PciHostBridge, Boolean> rc52 = new IdentityHashMap<>();

    FastCalc(PciMachine m, KernelVersion v, Calc.Arch arch) {
        this.m = m;
        this.v = v;
        this.arch = arch;
        this.cpu = arch.cpuSupports(m);
    }

    /**
     * The result of one pair: map type, distance as Calc reports it, the nvidia-smi class, whether a
     * common upstream device was found and whether a device on the path redirects.
     */
    record Result(MapType type, int distance, String pathClass, boolean common, boolean redirect, MapType ifRedirect) {
        Result(MapType type, int distance, String pathClass) {
            this(type, distance, pathClass, false, false, null);
        }

        Result(MapType type, int distance, String pathClass, boolean common, boolean redirect) {
            this(type, distance, pathClass, common, redirect, null);
        }
    }

    private boolean listed(PciHostBridge h, boolean same) {
        Map<PciHostBridge, Boolean> c = same ? whitelistSame : whitelistOther;
        return c.computeIfAbsent(h, x -> Whitelist.lookup(x, same, v, arch.release()).ok());
    }

    private boolean hostOk(PciDevice p, PciDevice c) {
        if (cpu) {
            return true;
        }
        if (!arch.whitelist()) {
            return false;
        }
        PciHostBridge a = p.hostBridge();
        PciHostBridge b = c.hostBridge();
        return a == b ? listed(a, true) : listed(a, false) && listed(b, false);
    }

    Result pair(Chain p, Chain c) {
        PciDevice[] pn = p.nodes;
        PciDevice[] cn = c.nodes;
        for (int i = 0; i < pn.length; i++) {
            PciDevice a = pn[i];
            for (int j = 0; j < cn.length; j++) {
                if (a == cn[j]) {
                    return common(p, i, c, j);
                }
            }
        }
        int hops = pn.length + cn.length;
        String cls = noCommonClass(pn[0], cn[0]);
        switch (v) {
            case V4_20 -> {
                return new Result(MapType.NOT_SUPPORTED, -1, cls);
            }
            case V5_2 -> {
                boolean ok = rc52.computeIfAbsent(pn[0].hostBridge(), h -> Whitelist.rootComplexV52(pn[0]).ok())
                        && rc52.computeIfAbsent(cn[0].hostBridge(), h -> Whitelist.rootComplexV52(cn[0]).ok());
                return ok ? new Result(MapType.THRU_HOST_BRIDGE, 0x1000 + hops, cls)
                        : new Result(MapType.NOT_SUPPORTED, -1, cls);
            }
            default -> {
                return hostOk(pn[0], cn[0]) ? new Result(MapType.THRU_HOST_BRIDGE, hops, cls)
                        : new Result(MapType.NOT_SUPPORTED, -1, cls);
            }
        }
    }

    private Result common(Chain p, int i, Chain c, int j) {
        int acs = p.redirects[i + 1] + c.redirects[j];
        int hops = i + j;
        String cls = commonClass(p, i, c, j);
        if (acs == 0) {
            // ports whose ACS the description lacks: as described no redirect; the answer if they do redirect
            boolean unknown = p.unknown[i + 1] + c.unknown[j] > 0;
            return new Result(MapType.BUS_ADDR, hops, cls, true, false, unknown ? redirected(p, c) : null);
        }
        if (v.acsRejects()) {
            return new Result(MapType.NOT_SUPPORTED, -2, cls, true, true);
        }
        return hostOk(p.nodes[0], c.nodes[0]) ? new Result(MapType.THRU_HOST_BRIDGE, hops, cls, true, true)
                : new Result(MapType.NOT_SUPPORTED, -1, cls, true, true);
    }

    /** The map type of a pair with a common upstream device when a port between them redirects. */
    private MapType redirected(Chain p, Chain c) {
        if (v.acsRejects()) {
            return MapType.NOT_SUPPORTED;
        }
        return hostOk(p.nodes[0], c.nodes[0]) ? MapType.THRU_HOST_BRIDGE : MapType.NOT_SUPPORTED;
    }

    /** PathClass for a pair with a common upstream device (same rules as PathClass.of). */
    private static String commonClass(Chain p, int i, Chain c, int j) {
        if (i == 0 && j == 0) {
            return "X";
        }
        if (i == 0 || j == 0) {
            return "PIX";
        }
        int switches = p.ups[i + 1] + c.ups[j];
        return switches <= 1 ? "PIX" : "PXB";
    }

    private static String noCommonClass(PciDevice p, PciDevice c) {
        if (p.hostBridge() == c.hostBridge()) {
            return "PHB";
        }
        int a = p.numaNode() >= 0 ? p.numaNode() : p.hostBridge().numaNode();
        int b = c.numaNode() >= 0 ? c.numaNode() : c.hostBridge().numaNode();
        if (a >= 0 && b >= 0) {
            return a == b ? "NODE" : "SYS";
        }
        return "NODE?";
    }

    /** common - the common upstream device of a pair, or null. */
    static PciDevice common(Chain p, Chain c) {
        for (PciDevice a : p.nodes) {
            for (PciDevice b : c.nodes) {
                if (a == b) {
                    return a;
                }
            }
        }
        return null;
    }

    /**
     * redirecting - the devices whose ACS redirect the kernel lists for a pair, in its order: the
     * provider side upward with the common device, then the client side upward. Empty when the pair has
     * no common upstream device (the kernel then lists none).
     */
    static List<PciDevice> redirecting(Chain p, Chain c) {
        PciDevice common = common(p, c);
        if (common == null) {
            return List.of();
        }
        List<PciDevice> out = new ArrayList<>();
        for (PciDevice a : p.nodes) {
            if (Calc.redirects(a)) {
                out.add(a);
            }
            if (a == common) {
                break;
            }
        }
        for (PciDevice b : c.nodes) {
            if (b == common) {
                break;
            }
            if (Calc.redirects(b)) {
                out.add(b);
            }
        }
        return out;
    }
}
