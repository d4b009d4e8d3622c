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
        Boolean ok = c.get(h);
        if (ok == null) {
            ok = Whitelist.lookup(h, same, v, arch.release()).ok();
            c.put(h, ok);
        }
        return ok;
    }

    /** The last host bridge pair asked about and its answer: a matrix row asks about few pairs. */
    private PciHostBridge lastA;
    private PciHostBridge lastB;
    private boolean lastOk;

    private boolean hostOk(PciDevice p, PciDevice c) {
        if (cpu) {
            return true;
        }
        if (!arch.whitelist()) {
            return false;
        }
        PciHostBridge a = p.hostBridge();
        PciHostBridge b = c.hostBridge();
        if (a == lastA && b == lastB && a != null) {
            return lastOk;
        }
        boolean ok = a == b ? listed(a, true) : listed(a, false) && listed(b, false);
        lastA = a;
        lastB = b;
        lastOk = ok;
        return ok;
    }

    Result pair(Chain p, Chain c) {
        long r = packed(p, c);
        int ifr = (int) (r >>> IF_SHIFT) & 0xf;
        return new Result(TYPES[(int) (r >>> TYPE_SHIFT) & 0xf], distance(r), CompactPairs.CLASSES[classIndex(r)],
                (r & COMMON) != 0, (r & REDIRECT) != 0, ifr == 0 ? null : TYPES[ifr - 1]);
    }

    private static final MapType[] TYPES = MapType.values();
    private static final int TYPE_SHIFT = 32;
    private static final int CLASS_SHIFT = 36;
    private static final long COMMON = 1L << 40;
    private static final long REDIRECT = 1L << 41;
    private static final int IF_SHIFT = 42;

    /** The map type's ordinal of a packed result. */
    static int typeOrdinal(long r) {
        return (int) (r >>> TYPE_SHIFT) & 0xf;
    }

    /** The nvidia-smi class of a packed result, as an index into CompactPairs.CLASSES. */
    static int classIndex(long r) {
        return (int) (r >>> CLASS_SHIFT) & 0xf;
    }

    static int distance(long r) {
        return (int) r;
    }

    private static long pack(MapType t, int distance, int cls, boolean common, boolean redirect, MapType ifRedirect) {
        return (distance & 0xffffffffL) | (long) t.ordinal() << TYPE_SHIFT | (long) cls << CLASS_SHIFT
                | (common ? COMMON : 0) | (redirect ? REDIRECT : 0)
                | (long) (ifRedirect == null ? 0 : ifRedirect.ordinal() + 1) << IF_SHIFT;
    }

    /**
     * packed - the result of one pair in one long, allocating nothing: the distance in the low 32 bits,
     * then the map type, the class, whether a common upstream device was found, whether a device on
     * the path redirects and the map type if ports whose ACS is unknown did redirect.
     */
    long packed(Chain p, Chain c) {
        PciDevice[] pn = p.nodes;
        PciDevice[] cn = c.nodes;
        // both chains end at their root-bus device; a common upstream device means the same one, and from
        // there down they are the same until the lowest common device
        int i = pn.length - 1;
        int j = cn.length - 1;
        if (pn[i] == cn[j]) {
            while (i > 0 && j > 0 && pn[i - 1] == cn[j - 1]) {
                i--;
                j--;
            }
            return common(p, i, c, j);
        }
        int hops = pn.length + cn.length;
        int cls = noCommonClass(pn[0], cn[0]);
        switch (v) {
            case V4_20 -> {
                return pack(MapType.NOT_SUPPORTED, -1, cls, false, false, null);
            }
            case V5_2 -> {
                boolean ok = rc52(pn[0]) && rc52(cn[0]);
                return ok ? pack(MapType.THRU_HOST_BRIDGE, 0x1000 + hops, cls, false, false, null)
                        : pack(MapType.NOT_SUPPORTED, -1, cls, false, false, null);
            }
            default -> {
                return hostOk(pn[0], cn[0]) ? pack(MapType.THRU_HOST_BRIDGE, hops, cls, false, false, null)
                        : pack(MapType.NOT_SUPPORTED, -1, cls, false, false, null);
            }
        }
    }

    private boolean rc52(PciDevice d) {
        Boolean ok = rc52.get(d.hostBridge());
        if (ok == null) {
            ok = Whitelist.rootComplexV52(d).ok();
            rc52.put(d.hostBridge(), ok);
        }
        return ok;
    }

    private long common(Chain p, int i, Chain c, int j) {
        int acs = p.redirects[i + 1] + c.redirects[j];
        int hops = i + j;
        int cls = commonClass(p, i, c, j);
        if (acs == 0) {
            // ports whose ACS the description lacks: as described no redirect; the answer if they do redirect
            boolean unknown = p.unknown[i + 1] + c.unknown[j] > 0;
            return pack(MapType.BUS_ADDR, hops, cls, true, false, unknown ? redirected(p, c) : null);
        }
        if (v.acsRejects()) {
            return pack(MapType.NOT_SUPPORTED, -2, cls, true, true, null);
        }
        return hostOk(p.nodes[0], c.nodes[0]) ? pack(MapType.THRU_HOST_BRIDGE, hops, cls, true, true, null)
                : pack(MapType.NOT_SUPPORTED, -1, cls, true, true, null);
    }

    /** The map type of a pair with a common upstream device when a port between them redirects. */
    private MapType redirected(Chain p, Chain c) {
        if (v.acsRejects()) {
            return MapType.NOT_SUPPORTED;
        }
        return hostOk(p.nodes[0], c.nodes[0]) ? MapType.THRU_HOST_BRIDGE : MapType.NOT_SUPPORTED;
    }

    private static final int X = 6;

    /** PathClass for a pair with a common upstream device (same rules as PathClass.of); X is index 6. */
    private static int commonClass(Chain p, int i, Chain c, int j) {
        if (i == 0 && j == 0) {
            return X;
        }
        if (i == 0 || j == 0) {
            return 0; // PIX
        }
        int switches = p.ups[i + 1] + c.ups[j];
        return switches <= 1 ? 0 : 1; // PIX : PXB
    }

    private static int noCommonClass(PciDevice p, PciDevice c) {
        if (p.hostBridge() == c.hostBridge()) {
            return 2; // PHB
        }
        int a = p.numaNode() >= 0 ? p.numaNode() : p.hostBridge().numaNode();
        int b = c.numaNode() >= 0 ? c.numaNode() : c.hostBridge().numaNode();
        if (a >= 0 && b >= 0) {
            return a == b ? 3 : 4; // NODE : SYS
        }
        return 5; // NODE?
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
