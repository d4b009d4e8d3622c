package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.HostBridgeCheck;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.p2pdma.PathNode;
import org.peerdma.p2pdma.doctor.Alternative;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.DeviceInfo;
import org.peerdma.p2pdma.doctor.Directions;
import org.peerdma.p2pdma.doctor.Hop;
import org.peerdma.p2pdma.doctor.HostBridges;
import org.peerdma.p2pdma.doctor.KernelAnswer;
import org.peerdma.p2pdma.doctor.MachineAudit;
import org.peerdma.p2pdma.doctor.MachineInfo;
import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.Remediation;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.p2pdma.doctor.Verdict;
import org.peerdma.p2pdma.doctor.WhatIfReport;
import org.peerdma.pci.Acs;
import org.peerdma.pci.AcsRules;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.util.Texts;

/**
 * The P2P doctor: p2pdma's explained calculation ({@link Calc}) and its all-pairs form
 * ({@link FastCalc}) turned into reports, with the rule that decided named by an id, the fix for
 * ACS redirects, and the alternatives where a fact the dump lacks could change the answer.
 */
@Component(service = P2pDoctor.class)
public class DoctorImpl implements P2pDoctor {
    @Reference
    PciCore core;

    @Reference
    P2pdma p2pdma;

    /** The IOMMU module's view of groups, for what-ifs of iommu=; absent when the module is not loaded. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    volatile org.peerdma.p2pdma.doctor.IommuGroupView groupView;

    /** Every loaded arch module, so a what-if of another arch asks that module's rules. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.MULTIPLE,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC)
    final List<org.peerdma.dma.spi.ArchPolicy> archs = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** For tests and benchmarks outside OSGi. */
    public static DoctorImpl standalone(PciCore core, P2pdma p2pdma) {
        DoctorImpl d = new DoctorImpl();
        d.core = core;
        d.p2pdma = p2pdma;
        return d;
    }

    /** standalone - as {@link #standalone(PciCore, P2pdma)}, with the IOMMU module's view of groups. */
    public static DoctorImpl standalone(PciCore core, P2pdma p2pdma, org.peerdma.p2pdma.doctor.IommuGroupView groups) {
        DoctorImpl d = standalone(core, p2pdma);
        d.groupView = groups;
        return d;
    }

    Calc.Arch arch() {
        return p2pdma instanceof P2pdmaImpl impl ? impl.archRules() : Calc.MACHINE;
    }

    /**
     * archFor - the rules of arch {@code name}: its loaded module's when there is one, else that arch's
     * defaults (x86: the AMD CPU rule and the whitelist; any other arch: no CPU rule and, as arm64 by
     * default, no whitelist row for its host bridges), so a what-if gives what loading that arch gives.
     */
    Calc.Arch archFor(String name) {
        for (org.peerdma.dma.spi.ArchPolicy p : archs) {
            if (p.arch().equals(name)) {
                return Calc.of(p);
            }
        }
        boolean x86 = name.startsWith("x86") || name.equals("amd64") || name.equals("i386");
        return new Calc.Arch() {
            @Override
            public String name(PciMachine m) {
                return name;
            }

            @Override
            public boolean cpuSupports(PciMachine m) {
                return x86 && m.cpu().isAmd() && m.cpu().family() >= 0x17;
            }

            @Override
            public boolean whitelist() {
                return x86;
            }
        };
    }

    // ------------------------------------------------------------------ rule sets

    @Override
    public RuleSet rulesInForce() {
        return ruleSet(p2pdma.version(), null, "module parameter");
    }

    @Override
    public RuleSet rules(String nameOrRelease, String source) {
        if (nameOrRelease == null || nameOrRelease.isBlank()) {
            return rulesInForce();
        }
        String s = nameOrRelease.strip();
        try {
            return ruleSet(KernelVersion.parse(s), null, source);
        } catch (KernelException notAName) {
            KernelVersion v = KernelVersion.forRelease(s);
            if (v == null) {
                throw KernelException.einval("unknown kernel '%s': give a rule set (newest, v5.x, v5.2, v4.20) or a "
                        + "release (6.8, 5.15.0-91-generic)", Texts.clip(s));
            }
            return ruleSet(v, s, source);
        }
    }

    static RuleSet ruleSet(KernelVersion v, String release, String source) {
        return new RuleSet(v.name(), v.shortName(), v.label(), release, source);
    }

    @Override
    public RuleSet rulesFor(PciMachine m) {
        String release = m == null ? null : m.kernelRelease();
        if (release == null || release.isBlank()) {
            return rulesInForce();
        }
        return releaseRules(release, "capture");
    }

    /**
     * releaseRules - the rule set of a machine's own kernel release; never fails: a release this model cannot
     * map gets the newest rules, one before p2pdma the oldest, each with a note saying so.
     */
    static RuleSet releaseRules(String release, String source) {
        String s = release.strip();
        try {
            KernelVersion v = KernelVersion.forRelease(s);
            if (v != null) {
                return ruleSet(v, s, source);
            }
            KernelVersion n = KernelVersion.NEWEST;
            return new RuleSet(n.name(), n.shortName(), n.label(), s, source, "kernel release '" + Texts.clip(s)
                    + "' is not a version number: judged with the newest rules (-k chooses)");
        } catch (KernelException beforeP2pdma) {
            KernelVersion o = KernelVersion.V4_20;
            return new RuleSet(o.name(), o.shortName(), o.label(), s, source, "kernel " + Texts.clip(s)
                    + " predates p2pdma (merged in v4.20): upstream it has no P2P DMA at all; judged with the oldest "
                    + "rules, as for a distribution kernel that backported it (-k chooses)");
        }
    }

    private RuleSet orFor(PciMachine m, RuleSet r) {
        return r == null ? rulesFor(m) : r;
    }

    // ------------------------------------------------------------------ check

    @Override
    public CheckReport check(PciMachine m, PciDevice provider, PciDevice client, RuleSet rules) {
        return check(m, provider, client, rules, Calc.withRelease(arch(), orFor(m, rules).release()));
    }

    CheckReport check(PciMachine m, PciDevice provider, PciDevice client, RuleSet rules, Calc.Arch arch) {
        RuleSet rs = orFor(m, rules);
        KernelVersion v = P2pDoctor.kernelVersion(rs);
        if (provider.isRemoved() || client.isRemoved()) {
            throw KernelException.enodev("%s was removed", provider.isRemoved() ? provider.name() : client.name());
        }
        P2pVerdict r = Calc.calc(m, provider, client, v, arch);
        List<Alternative> alts = alternatives(m, provider, client, v, arch, r);
        boolean depends = alts.stream().anyMatch(a -> a.supported() != r.supported());
        List<KernelAnswer> others = new ArrayList<>();
        for (KernelVersion o : KernelVersion.values()) {
            if (o != v) {
                P2pVerdict x = Calc.calc(m, provider, client, o, arch.plain()); // each rule set's own table
                others.add(new KernelAnswer(o.shortName(), x.mapType().name(), x.distance()));
            }
        }
        Remediation fix = proved(m, provider, client, rs, arch, remediation(r));
        HostBridges hb = hostBridges(r.hostBridgeCheck());
        return new CheckReport(SCHEMA_VERSION, "check", machineInfo(m, arch), rs, device(provider), device(client),
                verdict(r, depends), PathClass.of(r), hops(r), fix, hb,
                assumptions(m, provider, client, r, arch), alts, others, ReadWrite.of(m, provider, client, r),
                LinkMath.of(r), DriverClass.of(m, provider, client, r, PathClass.of(r)),
                Planner.of(provider, client, r.mapType(), fix, hb));
    }

    private static List<String> assumptions(PciMachine m, PciDevice provider, PciDevice client, P2pVerdict r,
            Calc.Arch arch) {
        List<String> out = new ArrayList<>(r.assumptions());
        if (r.hostBridgeCheck() != null && m.cpu().isUnknown() && arch.whitelist()
                && hostBridgeVendor(m, provider, client) == INTEL) {
            out.add("the description does not name the CPU; the host bridges are Intel's (8086), so the CPU is Intel "
                    + "and p2pdma's AMD CPU rule does not apply");
        }
        return List.copyOf(out);
    }

    static Verdict verdict(P2pVerdict r, boolean depends) {
        String answer = depends ? "depends" : r.supported() ? "supported" : "not-supported";
        int exit = depends ? 2 : r.supported() ? 0 : 1;
        return new Verdict(answer, r.supported(), r.mapType().name(), r.mapType().kernelName(), r.distance(), r.hops(),
                r.commonUpstream() == null ? null : r.commonUpstream().name(),
                ruleId(r.version(), r.commonUpstream() != null, !r.acsList().isEmpty(), r.mapType(), r.distance()),
                r.rule(), List.copyOf(r.warnings()), exit);
    }

    /**
     * ruleId - which branch of calc_map_type_and_dist() decided: the same id for the explained and
     * the all-pairs calculation (docs/json.md).
     */
    static String ruleId(KernelVersion v, boolean common, boolean redirect, MapType t, int distance) {
        if (common) {
            if (!redirect) {
                return "common-upstream";
            }
            if (t == MapType.THRU_HOST_BRIDGE) {
                return "acs-redirect-host-bridge";
            }
            return distance == -2 ? "acs-redirect-rejected" : "acs-redirect-refused";
        }
        return switch (v) {
            case V4_20 -> "no-common-upstream";
            case V5_2 -> t == MapType.THRU_HOST_BRIDGE ? "root-complex-whitelist" : "root-complex-refused";
            default -> t == MapType.THRU_HOST_BRIDGE ? "host-bridge" : "host-bridge-refused";
        };
    }

    /**
     * The verdict under each missing fact that could change it: ACS redirect on path devices whose
     * ACS state the dump lacks, and the CPU when the dump does not name it.
     */
    private List<Alternative> alternatives(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v,
            Calc.Arch arch, P2pVerdict r) {
        List<Alternative> out = new ArrayList<>();
        List<PciDevice> unknown = r.path().stream().filter(PathNode::acsUnknown).map(PathNode::device).toList();
        if (!unknown.isEmpty()) {
            Set<PciDevice> set = Set.copyOf(unknown);
            Predicate<PciDevice> redir = d -> set.contains(d) || Calc.redirects(d);
            P2pVerdict x = Calc.calc(m, provider, client, v, arch, redir);
            if (x.mapType() != r.mapType() || x.distance() != r.distance()) {
                String names = String.join(", ", unknown.stream().map(PciDevice::name).toList());
                out.add(new Alternative((unknown.size() == 1 ? names + " has" : names + " have")
                        + " ACS redirect (RR/CR/EC) enabled (the dump does not show ACS)", x.supported(),
                        x.mapType().name(), x.distance(), false, ""));
            }
        }
        HostBridgeCheck hb = r.hostBridgeCheck();
        if (hb != null && m.cpu().isUnknown() && arch.whitelist()) {
            int vendor = hostBridgeVendor(m, provider, client);
            if (vendor == INTEL) {
                return out; // an Intel root complex means an Intel CPU: the AMD rule cannot apply (noted in assumptions)
            }
            for (boolean amdZen : new boolean[] {true, false}) {
                Calc.Arch a = withCpu(arch, amdZen);
                P2pVerdict x = Calc.calc(m, provider, client, v, a);
                if (x.mapType() != r.mapType() || x.distance() != r.distance()) {
                    String why = vendor == Whitelist.AMD ? amdHostBridges(m) : "";
                    out.add(new Alternative(amdZen ? "the CPU is AMD family >= 0x17 (Zen or later)"
                            : "the CPU is not AMD family >= 0x17", x.supported(), x.mapType().name(), x.distance(),
                            amdZen == !why.isEmpty() && !why.isEmpty(), why));
                }
            }
        }
        return out;
    }

    private static final int INTEL = 0x8086;

    /**
     * The vendor of the host-bridge devices of both devices when they agree (the CPU's maker, since the
     * root complex is part of the CPU), else -1.
     */
    static int hostBridgeVendor(PciMachine m, PciDevice provider, PciDevice client) {
        int vendor = -1;
        for (var h : List.of(provider.hostBridge(), client.hostBridge())) {
            var f = h.firstDevice();
            if (f.isEmpty()) {
                return -1;
            }
            if (vendor >= 0 && vendor != f.get().vendor()) {
                return -1;
            }
            vendor = f.get().vendor();
        }
        return vendor;
    }

    /** "host bridge device 1022:14a4 is AMD" when every host bridge's first device is AMD's, else "". */
    private static String amdHostBridges(PciMachine m) {
        List<String> ids = new ArrayList<>();
        for (var h : m.hostBridges()) {
            var f = h.firstDevice();
            if (f.isEmpty() || f.get().vendor() != Whitelist.AMD) {
                return "";
            }
            ids.add(String.format(Locale.ROOT, "%04x:%04x", f.get().vendor(), f.get().device()));
        }
        return ids.isEmpty() ? "" : "the host bridges' devices (" + String.join(", ", new LinkedHashSet<>(ids))
                + ") are AMD's, so the CPU is most likely AMD";
    }

    private static Calc.Arch withCpu(Calc.Arch arch, boolean supports) {
        return new Calc.Arch() {
            @Override
            public String name(PciMachine m) {
                return arch.name(m);
            }

            @Override
            public boolean cpuSupports(PciMachine m) {
                return supports;
            }

            @Override
            public boolean whitelist() {
                return arch.whitelist();
            }
        };
    }

    static MachineInfo machineInfo(PciMachine m, Calc.Arch arch) {
        return new MachineInfo(m.name(), m.source(), arch.name(m), Calc.cpuText(m, arch), m.devices().size(),
                m.hostBridges().size(), List.copyOf(m.notes()));
    }

    MachineInfo machineInfo(PciMachine m) {
        return machineInfo(m, arch());
    }

    static DeviceInfo device(PciDevice d) {
        return new DeviceInfo(d.name(), d.vendorKnown() ? String.format(Locale.ROOT, "%04x", d.vendor()) : null,
                d.deviceKnown() ? String.format(Locale.ROOT, "%04x", d.device()) : null, d.vendorName(), d.deviceName(),
                d.classKnown() ? String.format(Locale.ROOT, "%06x", d.classCode()) : null, kind(d));
    }

    /** kind - what a function is: see {@link Kinds}. */
    static String kind(PciDevice d) {
        return Kinds.of(d);
    }

    @Override
    public String kindOf(PciDevice d) {
        return Kinds.of(d);
    }

    private static List<Hop> hops(P2pVerdict r) {
        List<Hop> out = new ArrayList<>();
        for (PathNode n : r.path()) {
            Hop.Acs acs = new Hop.Acs(n.hasAcs(), !n.acsUnknown(), hex4(n.acsCap()), hex4(n.acsCtrl()),
                    Acs.names(n.acsCap()), Acs.names(n.acsCtrl()));
            out.add(new Hop(n.device().name(), n.side(), n.device().portType().lspciName(), acs, n.redirects()));
        }
        return out;
    }

    private static String hex4(int v) {
        return String.format(Locale.ROOT, "%04x", v);
    }

    static Remediation remediation(P2pVerdict r) {
        if (r.acsList().isEmpty()) {
            return null;
        }
        List<Remediation.PortFix> ports = new ArrayList<>();
        for (PathNode n : r.path()) {
            if (n.redirects()) {
                int bits = n.acsCtrl() & Acs.REDIRECT_BITS;
                ports.add(new Remediation.PortFix(n.device().name(), Acs.names(bits), String.format(Locale.ROOT,
                        "setpci -s %s ECAP_ACS+6.w=0000:%04x", n.device().name(), bits)));
            }
        }
        String opt = r.disableAcsRedirParam();
        List<String> entries = new ArrayList<>();
        for (PathNode n : r.path()) {
            if (n.redirects()) {
                entries.add(configAcsBits(n.acsCtrl() & ~Acs.REDIRECT_BITS & Acs.ALL) + "@" + n.device().name());
            }
        }
        return new Remediation(opt, "rmmod -f pci ; modprobe pci \"" + opt + "\"", ports,
                "pci=config_acs=" + String.join(";", entries));
    }

    /**
     * proved - the remediation with what the rules' kernel release does with each option and, for each, the
     * verdict after booting a copy of the machine with it (the dump's ACS state taken as the firmware's).
     */
    Remediation proved(PciMachine m, PciDevice provider, PciDevice client, RuleSet rs, Calc.Arch arch,
            Remediation fix) {
        if (fix == null) {
            return null;
        }
        String release = rs.release();
        AcsRules.Semantics rules;
        try {
            rules = release != null ? AcsRules.of(release)
                    : rs.id().equals("V4_20") || rs.id().equals("V5_2") ? AcsRules.Semantics.BEFORE_6_11 : null;
        } catch (KernelException odd) {
            rules = null;
        }
        List<String> notes = kernelNotes(fix, rules, release);
        List<Remediation.Proof> proofs = new ArrayList<>();
        MachineDTO dto = machineDto(m);
        if (dto != null) {
            for (String option : new String[] {fix.bootOption(), fix.configAcs()}) {
                if (option == null || rules == AcsRules.Semantics.BEFORE_6_11 && option.startsWith("pci=config_acs=")) {
                    continue;
                }
                PciMachine booted;
                try {
                    booted = core.detached(dto, new org.peerdma.pci.Boot(option.substring(4), null,
                            release != null ? release : rules == AcsRules.Semantics.BEFORE_6_11 ? "5.15" : null));
                } catch (KernelException cannot) {
                    continue; // a machine that does not enumerate again on its own: no proof rather than a guess
                }
                P2pVerdict after = Calc.calc(booted, Doctor.dev(booted, provider.name()),
                        Doctor.dev(booted, client.name()), P2pDoctor.kernelVersion(rs), arch);
                List<String> ports = new ArrayList<>();
                for (Remediation.PortFix pf : fix.ports()) {
                    booted.device(Bdf.parse(pf.bdf())).ifPresent(d -> ports.add(pf.bdf() + " "
                            + String.format(Locale.ROOT, "%#06x", d.acsCtrl())));
                }
                org.peerdma.p2pdma.doctor.IommuGroupView view = groupView;
                Integer before = null;
                Integer groups = null;
                List<String> pg = List.of();
                if (view != null) {
                    before = view.groups(m).size();
                    List<org.peerdma.p2pdma.doctor.IommuGroupView.Group> gs = view.groups(booted);
                    groups = gs.size();
                    pg = gs.stream().filter(g -> g.members().contains(provider.name())).findFirst()
                            .map(org.peerdma.p2pdma.doctor.IommuGroupView.Group::members).orElse(List.of());
                }
                proofs.add(new Remediation.Proof(option, after.mapType().name(), ports, before, groups, pg));
            }
        }
        return fix.with(notes, proofs);
    }

    /** The machine description to boot again: the core's snapshot when {@code m} is the loaded machine. */
    private MachineDTO machineDto(PciMachine m) {
        return m == core.machine() ? core.snapshot() : null;
    }

    /** What the release's pci_enable_acs() does with the advised options ({@code rules} null: release unknown). */
    static List<String> kernelNotes(Remediation fix, AcsRules.Semantics rules, String release) {
        String k = release == null ? "" : "kernel " + release + ": ";
        List<String> out = new ArrayList<>();
        if (rules == AcsRules.Semantics.BEFORE_6_11) {
            out.add(k + "config_acs= needs kernel 6.11 or later (before, \"PCI: Unknown option\"); "
                    + "disable_acs_redir= clears RR CR EC after the kernel's default ACS, the other bits stay");
        } else if (rules == AcsRules.Semantics.V6_11_UNFIXED) {
            out.add(k + "6.11 before the fix 9cf8a952d57b (in 6.15, 6.12.23, 6.13.11, 6.14.2) takes the bits an "
                    + "option names from the firmware and sets the rest: neither disable_acs_redir= nor config_acs= "
                    + "clears a redirect bit the firmware set (" + String.join(" ", fix.ports().stream()
                            .map(p -> p.bdf() + " " + String.join(" ", p.clearBits())).toList())
                    + "), and a config_acs= list is read only up to its first entry (\"PCI: Can't parse ACS "
                    + "command line parameter\"); use setpci after boot or a fixed kernel");
        } else {
            out.add((rules == null ? "kernel 6.11 and later" : k.isEmpty() ? "6.11 and later" : k + "as 6.15")
                    + ": a port an option names gets its firmware ACSCtl with the option's bits, so with an IOMMU "
                    + "driver (pci_request_acs) disable_acs_redir= also drops the SV and UF the kernel would enable "
                    + "(a QEMU root port stays at 0x0000); config_acs= gives every bit, so isolation stays");
            if (rules == null) {
                out.add("on 6.11 up to 6.12.22, 6.13.10 or 6.14.1 neither option clears a redirect bit the firmware "
                        + "set (fixed by 9cf8a952d57b): check uname -r, or use setpci after boot");
            }
        }
        return out;
    }

    /** The seven characters of a config_acs= entry that set ACSCtl to {@code ctrl}: DT first, SV last. */
    static String configAcsBits(int ctrl) {
        StringBuilder sb = new StringBuilder(7);
        for (int bit = 6; bit >= 0; bit--) {
            sb.append((ctrl >> bit & 1) == 1 ? '1' : '0');
        }
        return sb.toString();
    }

    static HostBridges hostBridges(HostBridgeCheck hb) {
        if (hb == null) {
            return null;
        }
        return new HostBridges(hb.sameHostBridge(), hb.cpuSupports(), hb.cpu(), hb.passed(), hb.bridges().stream()
                .map(e -> new HostBridges.Row(e.hostBridge(), e.device(), e.whitelisted(), e.why() + later(e))).toList());
    }

    private static final java.util.regex.Pattern IDS = java.util.regex.Pattern.compile("\\[([0-9a-f]{4}):([0-9a-f]{4})\\]");

    /**
     * later - for a host bridge these rules refuse but a newer kernel's whitelist names: which release added
     * it (the kernel to upgrade to), else "".
     */
    static String later(HostBridgeCheck.Entry e) {
        java.util.regex.Matcher m = IDS.matcher(e.device());
        if (e.whitelisted() || !m.find() || !e.why().startsWith("Host bridge not in P2PDMA whitelist")) {
            return "";
        }
        Whitelist.Row r = Whitelist.rowFor(Integer.parseInt(m.group(1), 16), Integer.parseInt(m.group(2), 16));
        return r == null ? "" : "; a newer kernel whitelists it: " + r.describe();
    }

    // ------------------------------------------------------------------ matrix

    @Override
    public List<PciDevice> endpoints(PciMachine m) {
        return Doctor.endpoints(m);
    }

    @Override
    public MatrixReport matrix(PciMachine m, List<PciDevice> devices, RuleSet rules, Set<String> classes) {
        return matrix(m, devices, rules, classes, MatrixReport.Options.NONE);
    }

    @Override
    public MatrixReport matrix(PciMachine m, List<PciDevice> devices, RuleSet rules, Set<String> classes,
            MatrixReport.Options options) {
        MatrixReport.Options o = options == null ? MatrixReport.Options.NONE : options;
        if (o.p2p() != null && !o.p2p().equals("read") && !o.p2p().equals("write")) {
            throw KernelException.einval("--p2p takes r (read) or w (write), not '%s'", Texts.clip(o.p2p()));
        }
        boolean directions = o.directions() || o.p2p() != null;
        RuleSet rs = orFor(m, rules);
        Set<String> keep = normalizeClasses(classes);
        Calc.Arch arch = Calc.withRelease(arch(), rs.release());
        FastCalc fast = new FastCalc(m, P2pDoctor.kernelVersion(rs), arch);
        int n = devices.size();
        FastCalc.Chain[] chains = new FastCalc.Chain[n];
        for (int k = 0; k < n; k++) {
            chains[k] = new FastCalc.Chain(devices.get(k));
        }
        String[] names = new String[n];
        for (int k = 0; k < n; k++) {
            names[k] = devices.get(k).name();
        }
        long total = (long) n * (n - 1);
        if (total > Integer.MAX_VALUE / 2) {
            throw KernelException.einval("%d devices make %d pairs: too many for one matrix", n, total);
        }
        int cap = (int) total;
        int[] index = keep.isEmpty() ? null : new int[cap]; // every pair kept: their order says which
        byte[] code = new byte[cap];
        short[] dist = new short[cap];
        byte[] write = directions ? new byte[cap] : null;
        byte[] read = directions ? new byte[cap] : null;
        boolean[] keepClass = new boolean[CompactPairs.CLASSES.length];
        for (int c = 0; c < keepClass.length; c++) {
            keepClass[c] = keep.isEmpty() || keep.contains(CompactPairs.CLASSES[c]);
        }
        int size = MatrixGroups.fill(fast, chains, keepClass, index, code, dist);
        if (directions) {
            // the platform table needs the explained path (common upstream, host bridges)
            for (int k = 0; k < size; k++) {
                int at = index != null ? index[k] : CompactPairs.dense(k, n);
                PciDevice p = devices.get(at / n);
                PciDevice c = devices.get(at % n);
                Directions d = ReadWrite.of(m, p, c, Calc.calc(m, p, c, P2pDoctor.kernelVersion(rs), arch));
                write[k] = CompactPairs.answerIndex(d.write());
                read[k] = CompactPairs.answerIndex(d.read());
            }
        }
        CompactPairs pairs = new CompactPairs(names, index, code, dist, size, directions ? write : null,
                directions ? read : null);
        List<MatrixReport.Affinity> affinity = new ArrayList<>();
        if (o.affinity()) {
            for (PciDevice d : devices) {
                PciHostBridge hb = d.hostBridge();
                int node = d.numaNode() >= 0 ? d.numaNode() : hb == null ? -1 : hb.numaNode();
                String cpus = m.driverTopology().flatMap(t -> t.cpuAffinityOf(d)).orElse(null);
                affinity.add(new MatrixReport.Affinity(d.name(), hb == null ? null : hb.name(),
                        node >= 0 ? node : null, cpus));
            }
        }
        return new MatrixReport(SCHEMA_VERSION, "matrix", machineInfo(m), rs,
                devices.stream().map(DoctorImpl::device).toList(), List.copyOf(keep), pairs, o.p2p(), affinity);
    }

    /** The classes --class takes: nvidia-smi's, and NODE? (between host bridges whose NUMA nodes the dump lacks). */
    private static final List<String> CLASSES = List.of("PIX", "PXB", "PHB", "NODE", "SYS", "NODE?");

    private static Set<String> normalizeClasses(Set<String> classes) {
        Set<String> out = new LinkedHashSet<>();
        for (String c : classes == null ? Set.<String>of() : classes) {
            String u = c.strip().toUpperCase(Locale.ROOT);
            if (u.isEmpty()) {
                continue;
            }
            if (!CLASSES.contains(u)) {
                throw KernelException.einval("unknown nvidia-smi class '%s' (PIX, PXB, PHB, NODE, SYS, or NODE? for "
                        + "NODE-or-SYS when the dump lacks NUMA nodes)", Texts.clip(c));
            }
            out.add(u);
            if (u.equals("NODE")) {
                out.add("NODE?");
            }
        }
        return out;
    }

    static boolean supported(MapType t) {
        return t == MapType.BUS_ADDR || t == MapType.THRU_HOST_BRIDGE;
    }

    // ------------------------------------------------------------------ what-if

    @Override
    public WhatIfReport whatIf(String provider, String client, List<String> changes, RuleSet rules) {
        PciMachine m = core.machine();
        RuleSet before = orFor(m, rules);
        PciDevice p = Doctor.dev(m, provider);
        PciDevice c = Doctor.dev(m, client);
        MachineDTO dto = core.snapshot();
        RuleSet after = before;
        Calc.Arch arch = arch();
        Calc.Arch archAfter = arch;
        List<String> done = new ArrayList<>();
        String pci = null;
        String iommu = null;
        String release = null;
        for (String change : changes == null ? List.<String>of() : changes) {
            done.add(WhatIf.apply(dto, change));
            if (change.startsWith("kernel=")) {
                after = rules(change.substring(7), "what-if");
                release = change.substring(7);
            }
            if (change.startsWith("arch=")) {
                archAfter = archFor(dto.arch);
            }
            if (change.startsWith("iommu=")) {
                iommu = change.substring(6);
            }
            if (change.startsWith("pci=")) {
                pci = pci == null ? change.substring(4) : pci + "," + change.substring(4);
            }
        }
        // a reboot when the change is one of boot: pci_enable_acs() runs again on the copy, the dump's ACS
        // state taken as the firmware's
        boolean reboot = pci != null || iommu != null || release != null;
        PciMachine changed = reboot ? core.detached(dto, new org.peerdma.pci.Boot(pci, iommu, release))
                : core.detached(dto);
        arch = Calc.withRelease(arch, before.release());
        archAfter = Calc.withRelease(archAfter, after.release());
        for (String note : changed.notes()) {
            if (note.startsWith("booted: ")) {
                done.add(note);
            }
        }
        P2pVerdict b = Calc.calc(m, p, c, P2pDoctor.kernelVersion(before), arch);
        CheckReport a = check(changed, Doctor.dev(changed, provider), Doctor.dev(changed, client), after, archAfter);
        return new WhatIfReport(SCHEMA_VERSION, "whatif", done, verdict(b, false), a,
                iommu == null ? null : iommuView(iommu, m, changed, provider, client, a.verdict().mapType()));
    }

    /**
     * iommuView - what booting with {@code mode} does to the IOMMU groups (from the IOMMU module, when it is
     * loaded) and to the DMA address the client uses for the provider's memory.
     */
    WhatIfReport.Iommu iommuView(String mode, PciMachine before, PciMachine after, String provider, String client,
            String mapType) {
        org.peerdma.p2pdma.doctor.IommuGroupView view = groupView;
        Integer nBefore = null;
        Integer nAfter = null;
        List<String> pg = List.of();
        List<String> cg = List.of();
        boolean same = false;
        String p = Doctor.dev(after, provider).name();
        String c = Doctor.dev(after, client).name();
        if (view != null) {
            nBefore = view.groups(before).size();
            if (mode.equals("off")) {
                nAfter = 0;
            } else {
                List<org.peerdma.p2pdma.doctor.IommuGroupView.Group> gs = view.groups(after);
                nAfter = gs.size();
                for (var g : gs) {
                    if (g.members().contains(p)) {
                        pg = g.members();
                    }
                    if (g.members().contains(c)) {
                        cg = g.members();
                    }
                }
                same = !pg.isEmpty() && pg.equals(cg);
            }
        }
        String dma;
        if (mapType.equals("BUS_ADDR")) {
            dma = "PCI bus addresses (pci_p2pdma_bus_addr_map): the switch routes the TLPs and the IOMMU never "
                    + "sees them, whatever its mode";
        } else if (mapType.equals("NOT_SUPPORTED")) {
            dma = "none: p2pdma refuses the pair";
        } else if (mode.equals("on")) {
            dma = "IOVAs: dma_map_sg() maps the provider's BAR pages into the client's DMA domain, and the root "
                    + "complex translates them (an IOTLB miss costs a page walk)";
        } else if (mode.equals("pt")) {
            dma = "the BAR's CPU physical addresses: the client's identity domain leaves them untranslated";
        } else {
            dma = "the BAR's CPU physical addresses (dma-direct): nothing translates or isolates the DMA";
        }
        return new WhatIfReport.Iommu(mode, nBefore, nAfter, pg, cg, same, dma);
    }

    // ------------------------------------------------------------------ audit

    @Override
    public MachineAudit audit(PciMachine m, RuleSet rules) {
        RuleSet rs = orFor(m, rules);
        KernelVersion v = P2pDoctor.kernelVersion(rs);
        List<PciDevice> eps = Doctor.endpoints(m);
        Map<String, Integer> kinds = new TreeMap<>();
        for (PciDevice d : eps) {
            kinds.merge(kind(d), 1, Integer::sum);
        }
        FastCalc fast = new FastCalc(m, v, Calc.withRelease(arch(), rs.release()));
        int n = eps.size();
        FastCalc.Chain[] chains = new FastCalc.Chain[n];
        String[] kind = new String[n];
        for (int k = 0; k < n; k++) {
            chains[k] = new FastCalc.Chain(eps.get(k));
            kind[k] = kind(eps.get(k));
        }
        Map<String, Integer> pairs = new LinkedHashMap<>();
        for (MapType t : List.of(MapType.BUS_ADDR, MapType.THRU_HOST_BRIDGE, MapType.NOT_SUPPORTED)) {
            pairs.put(t.name(), 0);
        }
        Map<String, Integer> causes = new TreeMap<>();
        List<MachineAudit.AuditPair> devicePairs = new ArrayList<>();
        Set<PciDevice> redirecting = new java.util.TreeSet<>(java.util.Comparator.comparing(PciDevice::bdf));
        int uncertain = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i == j) {
                    continue;
                }
                FastCalc.Result r = fast.pair(chains[i], chains[j]);
                pairs.merge(r.type().name(), 1, Integer::sum);
                if (r.ifRedirect() != null) {
                    uncertain++;
                }
                String rule = ruleId(v, r.common(), r.redirect(), r.type(), r.distance());
                if (r.type() != MapType.BUS_ADDR) {
                    causes.merge(rule, 1, Integer::sum);
                }
                List<PciDevice> red = r.redirect() ? FastCalc.redirecting(chains[i], chains[j]) : List.of();
                redirecting.addAll(red);
                if (interesting(kind[i]) && interesting(kind[j])) {
                    PciDevice common = FastCalc.common(chains[i], chains[j]);
                    boolean sameSwitch = common != null && (common.portType() == PciePortType.DOWNSTREAM_PORT
                            || common.portType() == PciePortType.UPSTREAM_PORT);
                    devicePairs.add(new MachineAudit.AuditPair(eps.get(i).name(), kind[i], eps.get(j).name(), kind[j],
                            r.type().name(), r.distance(), r.pathClass(), rule,
                            String.join(";", red.stream().map(PciDevice::name).toList()), sameSwitch,
                            r.ifRedirect() == null ? null : r.ifRedirect().name()));
                }
            }
        }
        String fix = redirecting.isEmpty() ? ""
                : "pci=disable_acs_redir=" + String.join(";", redirecting.stream().map(PciDevice::name).toList());
        List<String> unknownKinds = new ArrayList<>();
        List<String> unknownIntegrated = new ArrayList<>();
        Map<String, Integer> guessed = new TreeMap<>();
        for (int k = 0; k < n; k++) {
            if (kind[k].equals(Kinds.UNKNOWN)) {
                // on a root bus: a function of the chipset or CPU; below a port: a slot, where GPUs, NICs and drives are
                (eps.get(k).upstreamBridge() == null ? unknownIntegrated : unknownKinds).add(eps.get(k).name());
            } else if (Kinds.guessed(eps.get(k))) {
                guessed.merge(kind[k], 1, Integer::sum);
            }
        }
        List<String> notes = new ArrayList<>();
        if (rs.note() != null) {
            notes.add(rs.note());
        }
        if (!guessed.isEmpty()) {
            notes.add("no class codes for " + guessed.values().stream().mapToInt(Integer::intValue).sum()
                    + " endpoint(s): kinds read from their names (" + String.join(", ", guessed.entrySet().stream()
                            .map(e -> e.getValue() + " " + e.getKey()).toList()) + ")");
        }
        if (!unknownKinds.isEmpty()) {
            notes.add(unknownKinds.size() + " endpoint(s) below ports of unknown kind (no class code, a name that does "
                    + "not tell), e.g. " + unknownKinds.get(0) + ": lspci -nn or -vvv output has class codes");
        }
        if (!unknownIntegrated.isEmpty()) {
            notes.add(unknownIntegrated.size() + " function(s) on root buses of unknown kind (chipset or CPU functions, "
                    + "e.g. " + unknownIntegrated.get(0) + "): not taken for GPUs, NICs or drives");
        }
        if (uncertain > 0) {
            notes.add(uncertain + " pair(s) depend on ACS state the description lacks (lspci -vvv as root shows it): "
                    + "as described they are BUS_ADDR");
        }
        return new MachineAudit(machineInfo(m), rs, kinds, pairs, redirecting.stream().map(PciDevice::name).toList(),
                fix, causes, devicePairs, uncertain, List.copyOf(unknownKinds), List.copyOf(notes));
    }

    private static boolean interesting(String kind) {
        return kind.equals("gpu") || kind.equals("nic") || kind.equals("nvme") || kind.equals("accelerator");
    }

    // ------------------------------------------------------------------ output

    @Override
    public String text(Object report) {
        if (report instanceof CheckReport r) {
            return DoctorText.check(r);
        }
        if (report instanceof MatrixReport r) {
            return DoctorText.matrix(r);
        }
        if (report instanceof WhatIfReport r) {
            return DoctorText.whatIf(r);
        }
        if (report instanceof MachineAudit r) {
            return DoctorText.audit(r);
        }
        throw KernelException.einval("not a doctor report: %s", report == null ? "null" : report.getClass().getSimpleName());
    }

    @Override
    public String json(Object report) {
        return DoctorJson.write(report);
    }
}
