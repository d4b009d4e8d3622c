package org.peerdma.p2pdma.internal;

import org.peerdma.pci.Acs;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;

/** Synthetic machines for the p2pdma rules. */
final class Machines {
    private Machines() {
    }

    static DeviceDTO ep(String bdf) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.vendor = 0x10de;
        d.device = 0x20b0;
        d.classCode = 0x030200;
        d.portType = "ENDPOINT";
        d.extendedCapsKnown = true;
        return d;
    }

    static DeviceDTO host(String bdf, int vendor, int device) {
        DeviceDTO d = ep(bdf);
        d.vendor = vendor;
        d.device = device;
        d.classCode = 0x060000;
        d.portType = "CONVENTIONAL";
        return d;
    }

    static DeviceDTO bridge(String bdf, String type, int sec, int sub, Integer ctrl) {
        DeviceDTO d = ep(bdf);
        d.vendor = 0x10b5;
        d.device = 0x8747;
        d.classCode = 0x060400;
        d.headerType = 1;
        d.portType = type;
        d.secondaryBus = sec;
        d.subordinateBus = sub;
        if (ctrl != null) {
            d.acs = new AcsDTO();
            d.acs.offset = 0x148;
            d.acs.cap = Acs.SV | Acs.RR | Acs.CR | Acs.UF | Acs.EC | Acs.DT;
            d.acs.ctrl = ctrl;
        }
        return d;
    }

    static HostBridgeDTO hb(int bus, int end) {
        HostBridgeDTO h = new HostBridgeDTO();
        h.bus = bus;
        h.busEnd = end;
        return h;
    }

    /**
     * Host bridge 00:00.0 (vendor:device given), root port 00:01.0 -> switch 01:00.0 with
     * downstream ports 02:00.0 (03:00.0 and 03:00.1), 02:01.0 (04:00.0, ACS ctrl given), and
     * 02:02.0 -> a second switch 05:00.0 -> 06:00.0 -> 07:00.0; a second root port 00:02.0 with 08:00.0.
     */
    static MachineDTO switches(int hostVendor, int hostDevice, int dspCtrl) {
        MachineDTO m = new MachineDTO();
        m.name = "switches";
        m.hostBridges.add(hb(0, 0x7f));
        m.devices.add(host("0000:00:00.0", hostVendor, hostDevice));
        m.devices.add(bridge("0000:00:01.0", "ROOT_PORT", 1, 7, 0));
        m.devices.add(bridge("0000:00:02.0", "ROOT_PORT", 8, 8, 0));
        m.devices.add(bridge("0000:01:00.0", "UPSTREAM_PORT", 2, 7, null));
        m.devices.add(bridge("0000:02:00.0", "DOWNSTREAM_PORT", 3, 3, 0));
        m.devices.add(bridge("0000:02:01.0", "DOWNSTREAM_PORT", 4, 4, dspCtrl));
        m.devices.add(bridge("0000:02:02.0", "DOWNSTREAM_PORT", 5, 7, 0));
        m.devices.add(bridge("0000:05:00.0", "UPSTREAM_PORT", 6, 7, null));
        m.devices.add(bridge("0000:06:00.0", "DOWNSTREAM_PORT", 7, 7, 0));
        m.devices.add(ep("0000:03:00.0"));
        m.devices.add(ep("0000:03:00.1"));
        m.devices.add(ep("0000:04:00.0"));
        m.devices.add(ep("0000:07:00.0"));
        m.devices.add(ep("0000:08:00.0"));
        return m;
    }

    /** Two host bridges (buses 00 and 80), root-bus first devices given, a GPU below a root port on each. */
    static MachineDTO twoHosts(DeviceDTO first0, DeviceDTO first80) {
        MachineDTO m = new MachineDTO();
        m.name = "two-hosts";
        m.hostBridges.add(hb(0, 0x7f));
        m.hostBridges.add(hb(0x80, 0xff));
        m.devices.add(first0);
        m.devices.add(first80);
        m.devices.add(bridge("0000:00:03.0", "ROOT_PORT", 1, 1, 0));
        m.devices.add(bridge("0000:00:04.0", "ROOT_PORT", 2, 2, 0));
        m.devices.add(bridge("0000:80:03.0", "ROOT_PORT", 0x81, 0x81, 0));
        m.devices.add(ep("0000:01:00.0"));
        m.devices.add(ep("0000:02:00.0"));
        m.devices.add(ep("0000:81:00.0"));
        return m;
    }

    static CpuDTO cpu(String vendor, int family) {
        CpuDTO c = new CpuDTO();
        c.vendor = vendor;
        c.family = family;
        return c;
    }
}
