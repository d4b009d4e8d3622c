package org.peerdma.iommu.internal;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.peerdma.iommu.IommuGroup;
import org.peerdma.pci.Acs;
import org.peerdma.pci.PciBus;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.PciePortType;

/**
 * IOMMU groups of a machine, computed the way drivers/iommu/iommu.c pci_device_group() puts each
 * device in a group when it is probed, devices probed in for_each_pci_dev order:
 * <ol>
 * <li>pci_for_each_dma_alias (drivers/pci/search.c): walking up, a PCIe-to-PCI/PCI-X bridge, a
 * PCI/PCI-X-to-PCIe bridge or a conventional bridge takes over the requester ID of what is below
 * it; if that bridge already has a group, the device joins it.</li>
 * <li>From the bus of the topmost alias, go up: the first bus whose bridge has ACS
 * SV|RR|CR|UF on the whole path to the root (pci_acs_path_enabled) stops the walk; otherwise the
 * bridge becomes the device to group with, and if it has a group the device joins it.</li>
 * <li>get_pci_alias_group: DMA alias quirks (none are modelled).</li>
 * <li>get_pci_function_alias_group: a multifunction device without ACS isolation joins the group
 * of another function of the same slot that has none either.</li>
 * <li>Otherwise a new group (iommu_group_alloc: the next free id).</li>
 * </ol>
 * pci_acs_enabled (drivers/pci/pci.c) decides per device type: conventional PCI never isolates;
 * PCIe-to-PCI bridges, PCI-to-PCIe bridges and RC event collectors never do; root and downstream
 * ports need the flags in ACS control (flags the ACS capability does not implement count as
 * hard-wired on, except EC); endpoints, legacy endpoints, upstream ports and RC integrated
 * endpoints need them only when multifunction, and a single-function one counts as isolated.
 * Device-specific ACS quirks (pci_dev_specific_acs_enabled) are not modelled.
 */
final class Grouping {
    /** REQ_ACS_FLAGS of drivers/iommu/iommu.c. */
    static final int REQ_ACS_FLAGS = Acs.SV | Acs.RR | Acs.CR | Acs.UF;

    private Grouping() {
    }

    /** The groups of a machine and each device's group. */
    record Result(List<IommuGroup> groups, Map<PciDevice, IommuGroup> byDevice) {
    }

    /** A group while devices are being probed into it. */
    private static final class Builder {
        final int id;
        final List<PciDevice> members = new ArrayList<>();
        final String allocReason;
        final Set<String> joinReasons = new LinkedHashSet<>();

        Builder(int id, String allocReason) {
            this.id = id;
            this.allocReason = allocReason;
        }

        String reason() {
            return joinReasons.isEmpty() ? allocReason : String.join("; ", joinReasons);
        }
    }

    /** compute - probe every present device of {@code m} in for_each_pci_dev order. */
    static Result compute(PciMachine m) {
        List<PciDevice> devices = m.devices();
        Map<PciDevice, Builder> groupOf = new HashMap<>();
        List<Builder> groups = new ArrayList<>();
        for (PciDevice d : devices) {
            deviceGroup(d, devices, groupOf, groups);
        }
        Map<PciDevice, IommuGroup> byDevice = new HashMap<>();
        List<IommuGroup> out = new ArrayList<>();
        for (Builder b : groups) {
            IommuGroup g = new IommuGroup(b.id, b.members, b.reason());
            out.add(g);
            for (PciDevice d : b.members) {
                byDevice.put(d, g);
            }
        }
        return new Result(List.copyOf(out), Map.copyOf(byDevice));
    }

    /** pci_device_group + iommu_group_add_device for one device. */
    private static void deviceGroup(PciDevice dev, List<PciDevice> all, Map<PciDevice, Builder> groupOf,
            List<Builder> groups) {
        // pci_for_each_dma_alias(pdev, get_pci_alias_or_group): the last alias seen, or a group
        PciDevice pdev = dev;
        for (PciBus bus = dev.bus(); bus != null && !bus.isRoot(); bus = bus.parent()) {
            PciDevice tmp = bus.self();
            if (tmp == null) {
                continue; // virtual (or, here, elided) bus
            }
            if (!aliasesBelow(tmp)) {
                continue;
            }
            pdev = tmp;
            Builder g = groupOf.get(tmp);
            if (g != null) {
                join(g, dev, groupOf, "requester ID of devices below " + tmp.name() + " is the bridge's ("
                        + aliasKind(tmp) + ")");
                return;
            }
        }
        // continue upstream to the point where ACS isolates
        String why = null;
        String isolatedBy = null;
        for (PciBus bus = pdev.bus(); bus != null && !bus.isRoot(); bus = bus.parent()) {
            PciDevice self = bus.self();
            if (self == null) {
                continue;
            }
            String failure = acsPathFailure(self);
            if (failure == null) {
                isolatedBy = self.name();
                break;
            }
            pdev = self;
            why = failure;
            Builder g = groupOf.get(pdev);
            if (g != null) {
                join(g, dev, groupOf, failure);
                return;
            }
        }
        // get_pci_alias_group: DMA alias quirks are not modelled, so only pdev's own group counts
        BitSet devfns = new BitSet(256);
        devfns.set(pdev.bdf().devfn());
        Builder g = groupOf.get(pdev);
        if (g != null) {
            join(g, dev, groupOf, why == null ? "alias of " + pdev.name() : why);
            return;
        }
        // get_pci_function_alias_group
        if (pdev.isMultifunction() && !acsEnabled(pdev)) {
            for (PciDevice tmp : all) {
                if (tmp == pdev || !sameBus(tmp, pdev) || tmp.bdf().device() != pdev.bdf().device()
                        || acsEnabled(tmp)) {
                    continue;
                }
                if (devfns.get(tmp.bdf().devfn())) {
                    continue;
                }
                devfns.set(tmp.bdf().devfn());
                Builder fg = groupOf.get(tmp);
                if (fg != null) {
                    join(fg, dev, groupOf, "multifunction " + pdev.name() + " and " + tmp.name()
                            + " share a slot without ACS isolation (" + acsFailure(pdev) + ")");
                    return;
                }
            }
        }
        String alloc;
        if (why != null) {
            alloc = why;
        } else if (isolatedBy != null) {
            alloc = "ACS " + String.join(" ", Acs.names(REQ_ACS_FLAGS)) + " isolation from " + isolatedBy
                    + " up to the root";
        } else {
            alloc = "on root bus " + String.format("%04x:%02x", dev.bus().domain(), dev.bus().number());
        }
        Builder n = new Builder(groups.size(), alloc);
        groups.add(n);
        n.members.add(dev);
        groupOf.put(dev, n);
    }

    private static void join(Builder g, PciDevice dev, Map<PciDevice, Builder> groupOf, String reason) {
        g.members.add(dev);
        g.joinReasons.add(reason);
        groupOf.put(dev, g);
    }

    private static boolean sameBus(PciDevice a, PciDevice b) {
        return a.bus().domain() == b.bus().domain() && a.bus().number() == b.bus().number();
    }

    /** Whether a bridge takes over the requester ID of the devices below it (search.c). */
    private static boolean aliasesBelow(PciDevice bridge) {
        if (bridge.isPcie()) {
            PciePortType t = bridge.portType();
            return t == PciePortType.PCIE_TO_PCI_BRIDGE || t == PciePortType.PCI_TO_PCIE_BRIDGE;
        }
        return true; // conventional (or undescribed) bridge
    }

    private static String aliasKind(PciDevice bridge) {
        return switch (bridge.portType()) {
            case PCIE_TO_PCI_BRIDGE -> "PCIe-to-PCI bridge";
            case PCI_TO_PCIE_BRIDGE -> "PCI-to-PCIe bridge";
            case UNKNOWN -> "bridge of unknown type, treated as conventional PCI";
            default -> "conventional PCI bridge";
        };
    }

    /**
     * pci_acs_path_enabled(start, NULL, REQ_ACS_FLAGS). Return: null when every device from
     * {@code start} up to the root bus passes pci_acs_enabled, otherwise why the first one fails.
     */
    static String acsPathFailure(PciDevice start) {
        PciDevice pdev = start;
        while (true) {
            if (!acsEnabled(pdev)) {
                return acsFailure(pdev);
            }
            PciBus bus = pdev.bus();
            if (bus == null || bus.isRoot()) {
                return null;
            }
            PciDevice parent = bus.self();
            if (parent == null) {
                return "the bridge above bus " + String.format("%04x:%02x", bus.domain(), bus.number())
                        + " is not in the dump (its ACS is unknown)";
            }
            pdev = parent;
        }
    }

    /** pci_acs_enabled(pdev, REQ_ACS_FLAGS) without device-specific quirks. */
    static boolean acsEnabled(PciDevice pdev) {
        if (!pdev.isPcie()) {
            return false;
        }
        return switch (pdev.portType()) {
            case PCI_TO_PCIE_BRIDGE, PCIE_TO_PCI_BRIDGE, RC_EVENT_COLLECTOR -> false;
            case DOWNSTREAM_PORT, ROOT_PORT -> flagsEnabled(pdev, REQ_ACS_FLAGS);
            case ENDPOINT, UPSTREAM_PORT, LEGACY_ENDPOINT, RC_INTEGRATED_ENDPOINT ->
                !pdev.isMultifunction() || flagsEnabled(pdev, REQ_ACS_FLAGS);
            default -> true;
        };
    }

    /**
     * pci_acs_flags_enabled: an ACS capability must exist; flags it does not implement are taken as
     * hard-wired on ("capabilities are either required or only required if controllable"),
     * except EC.
     */
    static boolean flagsEnabled(PciDevice pdev, int flags) {
        if (!pdev.hasAcs()) {
            return false;
        }
        int need = flags & (pdev.acsCap() | Acs.EC);
        return (pdev.acsCtrl() & need) == need;
    }

    /** Why pci_acs_enabled(pdev, REQ_ACS_FLAGS) is false, in words. */
    static String acsFailure(PciDevice pdev) {
        if (!pdev.isPcie()) {
            return pdev.portType() == PciePortType.UNKNOWN
                    ? "no ACS isolation on " + pdev.name() + " (port type not in the dump, treated as conventional PCI)"
                    : "no ACS isolation on " + pdev.name() + " (conventional PCI: the bus is shared)";
        }
        switch (pdev.portType()) {
            case PCI_TO_PCIE_BRIDGE, PCIE_TO_PCI_BRIDGE, RC_EVENT_COLLECTOR:
                return "no ACS isolation on " + pdev.name() + " (" + pdev.portType().lspciName()
                        + ": ACS never applies)";
            default:
                break;
        }
        String mf = pdev.portType() == PciePortType.ROOT_PORT || pdev.portType() == PciePortType.DOWNSTREAM_PORT
                ? "" : "multifunction, ";
        if (!pdev.hasAcs()) {
            return "no ACS isolation on " + pdev.name() + " (" + mf
                    + (pdev.acsUnknown() ? "ACS not in the dump" : "no ACS capability") + ")";
        }
        int need = REQ_ACS_FLAGS & (pdev.acsCap() | Acs.EC);
        int missing = need & ~pdev.acsCtrl();
        return "no ACS isolation on " + pdev.name() + " (" + mf + "ACSCtl lacks " + String.join(" ", Acs.names(missing))
                + (pdev.acsUnknown() ? "; ACSCtl not in the dump" : "") + ")";
    }
}
