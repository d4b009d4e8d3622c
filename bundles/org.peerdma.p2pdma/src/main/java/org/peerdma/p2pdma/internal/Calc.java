package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;

import org.peerdma.p2pdma.HostBridgeCheck;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.PathNode;
import org.peerdma.pci.Acs;
import org.peerdma.pci.CpuInfo;
import org.peerdma.pci.PciBus;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciMachine;

/**
 * calc_map_type_and_dist() (reference §C3) and its v4.20/v5.2 forms, recording the path, the
 * ACS list in the kernel's order and the host-bridge check, so the verdict can be explained.
 */
final class Calc {
    /** seq_buf of 128 bytes holding the ACS list in the newest kernel. */
    static final int ACS_LIST_BUF = 128;

    private Calc() {
    }

    /** pci_upstream_bridge(), walking over buses whose bridge the dump did not show. */
    static PciDevice up(PciDevice x, List<String> assumptions) {
        PciDevice u = x.upstreamBridge();
        if (u != null) {
            return u;
        }
        PciDevice base = x.physfn().orElse(x);
        PciBus b = base.bus();
        if (b != null && b.isElided()) {
            for (PciBus p = b.parent(); p != null; p = p.parent()) {
                if (p.self() != null) {
                    note(assumptions, "the bridges between " + p.self().name() + " and bus " + b
                            + " are not in the dump: hop counts are a lower bound and their ACS state is unknown");
                    return p.self();
                }
                if (p.isRoot()) {
                    break;
                }
            }
        }
        return null;
    }

    static boolean redirects(PciDevice d) {
        return d.hasAcs() && (d.acsCtrl() & Acs.REDIRECT_BITS) != 0;
    }

    /** The arch hooks p2pdma calls: from the loaded arch module, or the machine's own arch when none is. */
    interface Arch {
        String name(PciMachine m);

        boolean cpuSupports(PciMachine m);

        boolean whitelist();

        /**
         * @return the kernel release whose whitelist rows apply ("6.8": the rows added up to it), or null for
         *         every row of the rule set's table
         */
        default String release() {
            return null;
        }

        /** @return these rules with every row of the rule set's table (no release) */
        default Arch plain() {
            return this;
        }
    }

    /** withRelease - {@code a}, with the whitelist rows of kernel {@code release} (null: the rule set's table). */
    static Arch withRelease(Arch a, String release) {
        if (release == null || release.isBlank() || Whitelist.releaseCode(release) < 0) {
            return a;
        }
        return new Arch() {
            @Override
            public String name(PciMachine m) {
                return a.name(m);
            }

            @Override
            public boolean cpuSupports(PciMachine m) {
                return a.cpuSupports(m);
            }

            @Override
            public boolean whitelist() {
                return a.whitelist();
            }

            @Override
            public String release() {
                return release;
            }

            @Override
            public Arch plain() {
                return a.plain();
            }
        };
    }

    /** The machine's arch and CPU as the dump describes them: x86 AMD family &gt;= 0x17. */
    static final Arch MACHINE = new Arch() {
        @Override
        public String name(PciMachine m) {
            return m.arch();
        }

        @Override
        public boolean cpuSupports(PciMachine m) {
            CpuInfo c = m.cpu();
            boolean x86 = m.arch().startsWith("x86") || m.arch().equals("amd64") || m.arch().equals("i386");
            return x86 && c.isAmd() && c.family() >= 0x17;
        }

        @Override
        public boolean whitelist() {
            return true;
        }
    };

    /** An arch module's policy. */
    static Arch of(org.peerdma.dma.spi.ArchPolicy p) {
        if (p == null) {
            return MACHINE;
        }
        return new Arch() {
            @Override
            public String name(PciMachine m) {
                return p.arch();
            }

            @Override
            public boolean cpuSupports(PciMachine m) {
                return p.cpuSupportsP2pdma(m);
            }

            @Override
            public boolean whitelist() {
                return p.hostBridgeWhitelist();
            }
        };
    }

    static boolean cpuSupports(PciMachine m) {
        return MACHINE.cpuSupports(m);
    }

    static String cpuText(PciMachine m, Arch arch) {
        CpuInfo c = m.cpu();
        if (c.isUnknown()) {
            return "CPU unknown (" + arch.name(m) + ")";
        }
        return String.format("%s family %#x (%s)", c.vendor(), c.family(), arch.name(m));
    }

    private static void note(List<String> l, String s) {
        if (!l.contains(s)) {
            l.add(s);
        }
    }

    static P2pVerdict calc(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v) {
        return calc(m, provider, client, v, MACHINE);
    }

    static P2pVerdict calc(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v, Arch arch) {
        return calc(m, provider, client, v, arch, Calc::redirects);
    }

    /**
     * calc - as above, with {@code redir} deciding which devices redirect: the doctor asks what the
     * verdict would be if a device whose ACS state the dump lacks did redirect.
     */
    static P2pVerdict calc(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v, Arch arch,
            java.util.function.Predicate<PciDevice> redir) {
        List<String> assumptions = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        List<PathNode> path = new ArrayList<>();
        StringBuilder acs = new StringBuilder();
        int acsCnt = 0;
        int distA = 0;
        int distB = 0;
        PciDevice common = null;
        for (PciDevice a = provider; a != null; a = up(a, assumptions)) {
            distB = 0;
            boolean found = false;
            for (PciDevice bb = client; bb != null; bb = up(bb, assumptions)) {
                if (a == bb) {
                    found = true;
                    break;
                }
                distB++;
            }
            path.add(node(a, found ? "common" : "provider", assumptions, redir));
            if (redir.test(a)) {
                acs.append(a.name()).append(';');
                acsCnt++;
            }
            if (found) {
                common = a;
                break;
            }
            distA++;
        }
        if (common == null) {
            // no common upstream device: dist_b is from the last outer iteration
            int hops = distA + distB;
            List<PathNode> clientSide = new ArrayList<>();
            for (PciDevice bb = client; bb != null; bb = up(bb, assumptions)) {
                clientSide.add(0, node(bb, "client", assumptions, redir));
            }
            path.addAll(clientSide);
            return noCommon(m, provider, client, v, hops, path, warnings, assumptions, arch);
        }
        List<PathNode> clientSide = new ArrayList<>();
        for (PciDevice bb = client; bb != null; bb = up(bb, assumptions)) {
            if (bb == common) {
                break;
            }
            clientSide.add(node(bb, "client", assumptions, redir));
            if (redir.test(bb)) {
                acs.append(bb.name()).append(';');
                acsCnt++;
            }
        }
        // path: provider .. common, then client side from the common device down to the client
        for (int i = clientSide.size() - 1; i >= 0; i--) {
            path.add(clientSide.get(i));
        }
        int hops = distA + distB;
        String acsList = acs.length() == 0 ? "" : acs.substring(0, acs.length() - 1);
        if (acsCnt == 0) {
            return new P2pVerdict(provider, client, v, MapType.BUS_ADDR, hops, hops, common, path, "", null,
                    "no ACS redirect between the devices and their common upstream device " + common.name()
                            + ": transactions stay below it (distance " + hops + ")",
                    warnings, assumptions);
        }
        String shown = v == KernelVersion.NEWEST ? truncated(acs.toString()) : acsList;
        warnings.add(client.name() + ": ACS redirect is set between the client and provider (" + provider.name() + ")");
        warnings.add(client.name() + ": to disable ACS redirect for this path, add the kernel parameter: "
                + "pci=disable_acs_redir=" + shown);
        if (v.acsRejects()) {
            return new P2pVerdict(provider, client, v, MapType.NOT_SUPPORTED, -2, hops, common, path, acsList, null,
                    "ACS redirect on " + acsList.replace(";", ", ") + ": " + v.label()
                            + " rejects any redirect on the path (-2)",
                    warnings, assumptions);
        }
        HostBridgeCheck hb = hostBridgeCheck(m, provider, client, v, true, warnings, arch);
        if (!hb.passed()) {
            warnings.add(client.name() + ": cannot be used for peer-to-peer DMA as the client and provider ("
                    + provider.name() + ") do not share an upstream bridge or whitelisted host bridge");
            return new P2pVerdict(provider, client, v, MapType.NOT_SUPPORTED, -1, hops, common, path, acsList, hb,
                    "ACS redirect on " + acsList.replace(";", ", ") + " sends the traffic up to the host bridge, "
                            + "which is " + whyNot(hb),
                    warnings, assumptions);
        }
        return new P2pVerdict(provider, client, v, MapType.THRU_HOST_BRIDGE, hops, hops, common, path, acsList, hb,
                "ACS redirect on " + acsList.replace(";", ", ") + " sends the traffic through the host bridge, "
                        + "which is allowed: " + whyOk(hb),
                warnings, assumptions);
    }

    private static P2pVerdict noCommon(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v, int hops,
            List<PathNode> path, List<String> warnings, List<String> assumptions, Arch arch) {
        switch (v) {
            case V4_20 -> {
                warnings.add(client.name() + ": cannot be used for peer-to-peer DMA as the client and provider ("
                        + provider.name() + ") do not share an upstream bridge");
                return new P2pVerdict(provider, client, v, MapType.NOT_SUPPORTED, -1, hops, null, path, "", null,
                        "no common upstream bridge: v4.20 returns -1", warnings, assumptions);
            }
            case V5_2 -> {
                Whitelist.Result a = Whitelist.rootComplexV52(provider);
                Whitelist.Result b = Whitelist.rootComplexV52(client);
                List<HostBridgeCheck.Entry> entries = List.of(
                        new HostBridgeCheck.Entry(provider.hostBridge().name(), a.device(), a.ok(), a.why()),
                        new HostBridgeCheck.Entry(client.hostBridge().name(), b.device(), b.ok(), b.why()));
                boolean ok = a.ok() && b.ok();
                HostBridgeCheck hb = new HostBridgeCheck(false, cpuText(m, arch),
                        provider.hostBridge() == client.hostBridge(), entries, ok);
                if (ok) {
                    int d = 0x1000 + hops;
                    return new P2pVerdict(provider, client, v, MapType.THRU_HOST_BRIDGE, d, hops, null, path, "", hb,
                            "no common upstream bridge, both root complexes are AMD 1022:1450: 0x1000 + " + hops,
                            warnings, assumptions);
                }
                warnings.add(client.name() + ": cannot be used for peer-to-peer DMA as the client and provider ("
                        + provider.name() + ") do not share an upstream bridge");
                return new P2pVerdict(provider, client, v, MapType.NOT_SUPPORTED, -1, hops, null, path, "", hb,
                        "no common upstream bridge and root_complex_whitelist refuses: " + whyNot(hb), warnings,
                        assumptions);
            }
            default -> {
                HostBridgeCheck hb = hostBridgeCheck(m, provider, client, v, false, warnings, arch);
                if (!hb.passed()) {
                    warnings.add(client.name() + ": cannot be used for peer-to-peer DMA as the client and provider ("
                            + provider.name() + ") do not share an upstream bridge or whitelisted host bridge");
                    return new P2pVerdict(provider, client, v, MapType.NOT_SUPPORTED, -1, hops, null, path, "", hb,
                            "no common upstream bridge, so the traffic crosses the host bridge, which is "
                                    + whyNot(hb),
                            warnings, assumptions);
                }
                return new P2pVerdict(provider, client, v, MapType.THRU_HOST_BRIDGE, hops, hops, null, path, "", hb,
                        "no common upstream bridge; crossing the host bridge is allowed: " + whyOk(hb), warnings,
                        assumptions);
            }
        }
    }

    /** The CPU rule, then host_bridge_whitelist(provider, client, warn). */
    static HostBridgeCheck hostBridgeCheck(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v,
            boolean warn, List<String> warnings, Arch arch) {
        boolean cpu = arch.cpuSupports(m);
        PciHostBridge ha = provider.hostBridge();
        PciHostBridge hb = client.hostBridge();
        boolean same = ha == hb;
        List<HostBridgeCheck.Entry> entries = new ArrayList<>();
        boolean listed;
        if (same) {
            Whitelist.Result r = Whitelist.lookup(ha, true, v, arch.release());
            entries.add(new HostBridgeCheck.Entry(ha.name(), r.device(), r.ok(), r.why()));
            listed = r.ok();
        } else {
            Whitelist.Result a = Whitelist.lookup(ha, false, v, arch.release());
            entries.add(new HostBridgeCheck.Entry(ha.name(), a.device(), a.ok(), a.why()));
            listed = a.ok();
            Whitelist.Result b = Whitelist.lookup(hb, false, v, arch.release());
            entries.add(new HostBridgeCheck.Entry(hb.name(), b.device(), b.ok(), b.why()));
            listed = listed && b.ok();
        }
        if (!arch.whitelist()) {
            listed = false;
            entries.replaceAll(e -> new HostBridgeCheck.Entry(e.hostBridge(), e.device(), false,
                    "the " + arch.name(m) + " arch has no host-bridge whitelist"));
        }
        if (!cpu && warn && arch.whitelist()) {
            // __host_bridge_whitelist warns only for the bridge that failed the look-up (and stops at the first)
            for (HostBridgeCheck.Entry e : entries) {
                if (!e.whitelisted() && e.why().startsWith("Host bridge not in P2PDMA whitelist")) {
                    warnings.add(e.device().split(" ")[0] + ": " + e.why());
                    break;
                }
            }
        }
        return new HostBridgeCheck(cpu, cpuText(m, arch), same, entries, cpu || listed);
    }

    private static String whyOk(HostBridgeCheck hb) {
        if (hb.cpuSupports()) {
            return "the CPU rule (" + hb.cpu() + ", AMD family >= 0x17) bypasses the whitelist";
        }
        return String.join("; ", hb.bridges().stream().map(e -> e.hostBridge() + " " + e.why()).toList());
    }

    private static String whyNot(HostBridgeCheck hb) {
        List<String> bad = hb.bridges().stream().filter(e -> !e.whitelisted())
                .map(e -> e.hostBridge() + " (" + e.device() + "): " + e.why()).toList();
        return "not allowed: " + String.join("; ", bad) + "; the CPU rule does not apply (" + hb.cpu() + ")";
    }

    /** The ACS list as the newest kernel prints it: a 128-byte seq_buf, then the last ';' dropped. */
    static String truncated(String withTrailingSemicolon) {
        String s = withTrailingSemicolon.length() > ACS_LIST_BUF - 1
                ? withTrailingSemicolon.substring(0, ACS_LIST_BUF - 1) : withTrailingSemicolon;
        return s.substring(0, s.length() - 1);
    }

    private static PathNode node(PciDevice d, String side, List<String> assumptions,
            java.util.function.Predicate<PciDevice> redir) {
        boolean r = redir.test(d);
        if (d.acsUnknown()) {
            note(assumptions, d.name() + ": ACS state not in the dump; assumed to " + (r ? "redirect" : "have no ACS redirect"));
        }
        return new PathNode(d, side, d.hasAcs(), d.acsCap(), d.acsCtrl(), r, d.acsUnknown());
    }
}
