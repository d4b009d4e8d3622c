package org.peerdma.pci.internal;

import java.util.ArrayList;

import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CapabilityDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.WindowDTO;

/** Deep copies, so the live model never shares mutable DTOs with callers. */
final class Dtos {
    private Dtos() {
    }

    /**
     * driverTopology - the live form of a description's nvidia-smi matrix, checked: as many rows as names, as
     * many cells in each row, and devices named by address.
     * Errors: EINVAL naming what is wrong.
     */
    static org.peerdma.pci.DriverTopology driverTopology(org.peerdma.pci.dto.DriverTopologyDTO d) {
        if (d == null) {
            return null;
        }
        if (d.names != null && d.names.stream().anyMatch(java.util.Objects::isNull)) {
            throw org.peerdma.errno.KernelException.einval("driverTopology: a name is missing");
        }
        java.util.List<String> names = d.names == null ? java.util.List.of() : java.util.List.copyOf(d.names);
        java.util.List<java.util.List<String>> cells = new ArrayList<>();
        if (d.cells == null || d.cells.size() != names.size()) {
            throw org.peerdma.errno.KernelException.einval("driverTopology: %d names but %d rows", names.size(),
                    d.cells == null ? 0 : d.cells.size());
        }
        for (java.util.List<String> row : d.cells) {
            if (row == null || row.size() != names.size() || row.stream().anyMatch(java.util.Objects::isNull)) {
                throw org.peerdma.errno.KernelException.einval("driverTopology: a row of %d cells for %d names",
                        row == null ? 0 : row.size(), names.size());
            }
            cells.add(java.util.List.copyOf(row));
        }
        java.util.Map<String, String> devices = new java.util.LinkedHashMap<>();
        if (d.devices != null) {
            d.devices.forEach((k, v) -> {
                if (k == null || v == null || !names.contains(k)) {
                    throw org.peerdma.errno.KernelException.einval("driverTopology: device of '%s', not a name of the "
                            + "matrix", org.peerdma.util.Texts.clip(String.valueOf(k)));
                }
                devices.put(k, org.peerdma.pci.Bdf.parse(v).toString());
            });
        }
        java.util.List<String> p2pNames = d.p2pNames == null ? java.util.List.of() : java.util.List.copyOf(d.p2pNames);
        return new org.peerdma.pci.DriverTopology(d.tool == null ? "nvidia-smi topo -m" : d.tool, names,
                java.util.List.copyOf(cells), java.util.Collections.unmodifiableMap(devices),
                d.notes == null ? java.util.List.of() : java.util.List.copyOf(d.notes), p2pNames,
                square(d.p2pRead, p2pNames, "p2pRead"), square(d.p2pWrite, p2pNames, "p2pWrite"),
                affinity(d.cpuAffinity, names, "cpuAffinity"), affinity(d.numaAffinity, names, "numaAffinity"));
    }

    /** An affinity column: names of the matrix to short texts. Errors: EINVAL for another name or a null. */
    private static java.util.Map<String, String> affinity(java.util.Map<String, String> m,
            java.util.List<String> names, String what) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        if (m != null) {
            m.forEach((k, v) -> {
                if (k == null || v == null || !names.contains(k)) {
                    throw org.peerdma.errno.KernelException.einval("driverTopology: %s of '%s', not a name of the "
                            + "matrix", what, org.peerdma.util.Texts.clip(String.valueOf(k)));
                }
                out.put(k, org.peerdma.util.Texts.clip(v));
            });
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** A p2p status matrix: null when absent, else a row of as many cells per name. Errors: EINVAL. */
    private static java.util.List<java.util.List<String>> square(java.util.List<java.util.List<String>> m,
            java.util.List<String> names, String what) {
        if (m == null) {
            return null;
        }
        if (m.size() != names.size()) {
            throw org.peerdma.errno.KernelException.einval("driverTopology: %s has %d rows for %d p2pNames", what,
                    m.size(), names.size());
        }
        java.util.List<java.util.List<String>> out = new ArrayList<>();
        for (java.util.List<String> row : m) {
            if (row == null || row.size() != names.size() || row.stream().anyMatch(java.util.Objects::isNull)) {
                throw org.peerdma.errno.KernelException.einval("driverTopology: %s has a row of %d cells for %d names",
                        what, row == null ? 0 : row.size(), names.size());
            }
            out.add(java.util.List.copyOf(row));
        }
        return java.util.List.copyOf(out);
    }

    static org.peerdma.pci.dto.DriverTopologyDTO dto(org.peerdma.pci.DriverTopology t) {
        if (t == null) {
            return null;
        }
        org.peerdma.pci.dto.DriverTopologyDTO d = new org.peerdma.pci.dto.DriverTopologyDTO();
        d.tool = t.tool();
        d.names = new ArrayList<>(t.names());
        t.cells().forEach(r -> d.cells.add(new ArrayList<>(r)));
        d.devices = new java.util.LinkedHashMap<>(t.devices());
        d.notes = new ArrayList<>(t.notes());
        if (!t.p2pNames().isEmpty()) {
            d.p2pNames = new ArrayList<>(t.p2pNames());
        }
        d.p2pRead = copy(t.p2pRead());
        d.p2pWrite = copy(t.p2pWrite());
        return d;
    }

    private static java.util.List<java.util.List<String>> copy(java.util.List<java.util.List<String>> m) {
        if (m == null) {
            return null;
        }
        java.util.List<java.util.List<String>> out = new ArrayList<>();
        m.forEach(r -> out.add(new ArrayList<>(r)));
        return out;
    }

    static DeviceDTO copy(DeviceDTO s) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = s.bdf;
        d.vendor = s.vendor;
        d.device = s.device;
        d.subsystemVendor = s.subsystemVendor;
        d.subsystemDevice = s.subsystemDevice;
        d.classCode = s.classCode;
        d.revision = s.revision;
        d.headerType = s.headerType;
        d.multifunction = s.multifunction;
        d.portType = s.portType;
        d.secondaryBus = s.secondaryBus;
        d.subordinateBus = s.subordinateBus;
        d.vendorName = s.vendorName;
        d.deviceName = s.deviceName;
        d.className = s.className;
        d.numaNode = s.numaNode;
        d.physfn = s.physfn;
        d.driver = s.driver;
        d.linkSpeed = s.linkSpeed;
        d.linkWidth = s.linkWidth;
        d.linkCapSpeed = s.linkCapSpeed;
        d.linkCapWidth = s.linkCapWidth;
        d.command = s.command;
        d.status = s.status;
        d.devCap = s.devCap;
        d.devCtl = s.devCtl;
        d.devSta = s.devSta;
        d.lnkCap = s.lnkCap;
        d.lnkSta = s.lnkSta;
        d.extendedCapsKnown = s.extendedCapsKnown;
        d.bars = new ArrayList<>();
        if (s.bars != null) {
            for (BarDTO b : s.bars) {
                BarDTO c = new BarDTO();
                c.index = b.index;
                c.start = b.start;
                c.size = b.size;
                c.busStart = b.busStart;
                c.io = b.io;
                c.prefetchable = b.prefetchable;
                c.mem64 = b.mem64;
                c.disabled = b.disabled;
                d.bars.add(c);
            }
        }
        d.bridgeWindows = new ArrayList<>();
        if (s.bridgeWindows != null) {
            for (WindowDTO w : s.bridgeWindows) {
                d.bridgeWindows.add(copy(w));
            }
        }
        d.capabilities = new ArrayList<>();
        if (s.capabilities != null) {
            for (CapabilityDTO c : s.capabilities) {
                CapabilityDTO n = new CapabilityDTO();
                n.extended = c.extended;
                n.id = c.id;
                n.offset = c.offset;
                n.version = c.version;
                d.capabilities.add(n);
            }
        }
        if (s.acs != null) {
            d.acs = new AcsDTO();
            d.acs.offset = s.acs.offset;
            d.acs.cap = s.acs.cap;
            d.acs.ctrl = s.acs.ctrl;
        }
        d.notes = s.notes == null ? new ArrayList<>() : new ArrayList<>(s.notes);
        return d;
    }

    static WindowDTO copy(WindowDTO w) {
        WindowDTO c = new WindowDTO();
        c.cpuStart = w.cpuStart;
        c.size = w.size;
        c.offset = w.offset;
        c.io = w.io;
        c.prefetchable = w.prefetchable;
        return c;
    }
}
