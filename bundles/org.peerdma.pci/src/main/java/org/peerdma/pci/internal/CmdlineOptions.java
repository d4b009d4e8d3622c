package org.peerdma.pci.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.peerdma.pci.AcsRules;

/**
 * The pci= kernel command line option as pci_setup() (drivers/pci/pci.c) splits it: options
 * separated by ',', each either known, known-but-not-modelled, or unknown ("PCI: Unknown
 * option"). disable_acs_redir= and config_acs= change the model.
 */
final class CmdlineOptions {
    /** Options the kernel accepts that this model records but does not act on. */
    private static final Set<String> NOT_MODELLED = Set.of("nomsi", "noaer", "nommconf", "nomio", "noacpi",
            "norom", "nobar", "assign-busses", "realloc", "realloc=on", "realloc=off", "nocrs", "use_crs",
            "earlydump", "noari", "pcie_scan_all", "pcie_bus_tune_off", "pcie_bus_safe", "pcie_bus_perf",
            "pcie_bus_peer2peer", "nodomains", "noioapicquirk", "ioapicreroute", "noioapicreroute",
            "bfsort", "nobfsort", "routeirq", "hpiosize", "hpmemsize", "hpmmiosize", "hpmmioprefsize", "hpbussize",
            "big_root_window", "skip_isa_align", "check_enable_amd_mmconf", "noearly", "lastbus", "irqmask",
            "resource_alignment", "ecrc", "cbiosize", "cbmemsize", "fastboot", "bios", "conf1", "conf2",
            "nopcie", "dump");

    final String raw;
    /** The value of disable_acs_redir= (the last one given wins, as in the kernel), or null. */
    final String disableAcsRedir;
    /** The value of config_acs= (the last one given wins), or null. */
    final String configAcs;
    /** Kernel-style log lines produced while parsing. */
    final List<String> log;

    private CmdlineOptions(String raw, String disableAcsRedir, String configAcs, List<String> log) {
        this.raw = raw;
        this.disableAcsRedir = disableAcsRedir;
        this.configAcs = configAcs;
        this.log = List.copyOf(log);
    }

    /**
     * forRelease - these options as a kernel of {@code s} sees them: before 6.11 config_acs= is an unknown option
     * and does nothing.
     */
    CmdlineOptions forRelease(AcsRules.Semantics s) {
        if (s != AcsRules.Semantics.BEFORE_6_11 || configAcs == null) {
            return this;
        }
        List<String> l = new ArrayList<>();
        for (String line : log) {
            l.add(line.startsWith("pci=config_acs=") && line.contains(": ACS control of matching devices")
                    ? "PCI: Unknown option `" + line.substring(4, line.indexOf(": ACS control")) + "'" : line);
        }
        return new CmdlineOptions(raw, disableAcsRedir, null, l);
    }

    static CmdlineOptions parse(String pci) {
        String raw = pci == null ? "" : pci.strip();
        if (raw.startsWith("pci=")) {
            raw = raw.substring(4);
        }
        List<String> log = new ArrayList<>();
        String acs = null;
        String config = null;
        for (String opt : raw.split(",", -1)) {
            if (opt.isEmpty()) {
                continue;
            }
            if (opt.startsWith("disable_acs_redir=")) {
                acs = opt.substring("disable_acs_redir=".length());
                log.add("pci=" + opt + ": ACS redirect will be disabled on matching devices at enumeration");
            } else if (opt.startsWith("config_acs=")) {
                config = opt.substring("config_acs=".length());
                log.add("pci=" + opt + ": ACS control of matching devices will be configured at enumeration");
            } else if (NOT_MODELLED.contains(opt) || NOT_MODELLED.contains(opt.split("=", 2)[0])) {
                log.add("pci=" + opt + ": accepted by the kernel, not modelled by peerdma");
            } else {
                log.add("PCI: Unknown option `" + opt + "'");
            }
        }
        return new CmdlineOptions(raw, acs, config, log);
    }
}
