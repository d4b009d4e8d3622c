package org.peerdma.p2pdma.doctor;

import java.util.List;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/**
 * The P2P doctor service: the same p2pdma rules as {@link org.peerdma.p2pdma.P2pdma}, answered as
 * reports that explain themselves. The shell's p2p: commands and the one-shot command line both
 * use it, so text and JSON always say the same thing.
 */
@ProviderType
public interface P2pDoctor {
    /** Version of the JSON documents ({@code schemaVersion}); the major part changes only for incompatible changes. */
    String SCHEMA_VERSION = "1.4";

    /**
     * check - calc_map_type_and_dist(provider, client) explained, with the answers of the other rule
     * sets and the alternatives where the verdict rests on a fact the machine description lacks.
     * @param rules the rule set, or null for the one in force
     * Errors: ENODEV when a device was removed.
     */
    CheckReport check(PciMachine machine, PciDevice provider, PciDevice client, RuleSet rules);

    /**
     * matrix - every ordered pair of {@code devices}.
     * @param classes nvidia-smi classes to keep (PIX, PXB, PHB, NODE, SYS), empty for all
     */
    MatrixReport matrix(PciMachine machine, List<PciDevice> devices, RuleSet rules, Set<String> classes);

    /**
     * matrix - as {@link #matrix(PciMachine, List, RuleSet, Set)}, with the hardware's write and read per pair
     * and the devices' NUMA affinity when {@code options} ask for them.
     * Errors: EINVAL for a p2p direction other than read or write.
     */
    MatrixReport matrix(PciMachine machine, List<PciDevice> devices, RuleSet rules, Set<String> classes,
            MatrixReport.Options options);

    /**
     * whatIf - check on a changed copy of the loaded machine (it is never touched). Changes:
     * {@code acs:BDF=HEX|+BIT|-BIT[,...]}, {@code redirect=off}, {@code cpu=VENDOR[/FAMILY]},
     * {@code arch=ARCH}, {@code kernel=VERSION}, {@code iommu=on|pt|off}, {@code pci=OPTIONS}; the last three
     * reboot the copy (pci_enable_acs as that release does it) and add its lines to the changes.
     * Errors: EINVAL for an unknown or malformed change, ENODEV for a device not in the machine.
     */
    WhatIfReport whatIf(String provider, String client, List<String> changes, RuleSet rules);

    /** audit - one machine of a fleet: devices by kind, pairs by map type, redirecting ports and the fix. */
    MachineAudit audit(PciMachine machine, RuleSet rules);

    /** @return the endpoints the matrix covers: functions that are not bridges or host-bridge devices. */
    List<PciDevice> endpoints(PciMachine machine);

    /**
     * @return the device's kind as reports name it: gpu, nic, nvme, storage, accelerator, bridge, other, or
     *         unknown (from the class code, else the pciutils name)
     */
    String kindOf(PciDevice device);

    /** @return the rule set in force (module parameter kernel_version of p2pdma), as a report part. */
    RuleSet rulesInForce();

    /**
     * rulesFor - the rule set for a machine when none is asked for: its own kernel release (a capture's
     * uname -r) mapped as {@link #rules} does, else the rule set in force. Never fails: a release that cannot
     * be mapped gives a rule set with a {@link RuleSet#note() note} saying what was assumed.
     */
    RuleSet rulesFor(PciMachine machine);

    /**
     * rules - a rule set named on a command line: newest, v5.x, v5.2, v4.20, or a kernel release such as
     * 6.8 or 6.8.0-45-generic, mapped to the rule set that release follows.
     * Errors: EINVAL naming the accepted forms.
     */
    RuleSet rules(String nameOrRelease, String source);

    /** text - the report as the shell prints it. */
    String text(Object report);

    /** json - the report as one JSON document (pretty-printed), per docs/json.md. */
    String json(Object report);

    /** kernelVersion - the rule set of a report part. */
    static KernelVersion kernelVersion(RuleSet r) {
        return KernelVersion.valueOf(r.id());
    }
}
