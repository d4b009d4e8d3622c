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
