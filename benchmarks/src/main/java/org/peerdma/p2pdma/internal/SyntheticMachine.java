package org.peerdma.p2pdma.internal;

import org.peerdma.pci.Acs;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;

/**
 * A large synthetic machine: {@code hosts} host bridges (Skylake-E 8086:2020 at 00.0), each with 7
 * root ports, each root port with a PCIe switch of {@code ports} downstream ports, one endpoint
 * below each; every third switch has ACS redirect on its downstream ports.
 */
public final class SyntheticMachine {
    private SyntheticMachine() {
    }

    private static DeviceDTO dev(int domain, int bus, int slot, int cls) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = String.format("%04x:%02x:%02x.0", domain, bus, slot);
        d.vendor = 0x10b5;
        d.device = 0x8747;
        d.classCode = cls;
        d.extendedCapsKnown = true;
        return d;
    }

    /** hosts host bridges of 7 x ports endpoints each; 10 hosts x 7 x 29 ports = 2030 endpoints. */
    public static MachineDTO build(int hosts, int ports) {
        MachineDTO m = new MachineDTO();
        m.name = "synthetic " + hosts + "x7x" + ports;
        m.cpu = new CpuDTO();
        m.cpu.vendor = "GenuineIntel";
        m.cpu.family = 6;
        long bar = 0x40000000000L;
        for (int h = 0; h < hosts; h++) {
            int domain = h; // one PCI segment per host bridge keeps bus numbers in range
            HostBridgeDTO hb = new HostBridgeDTO();
            hb.domain = domain;
            hb.bus = 0;
            hb.numaNode = h % 2;
            m.hostBridges.add(hb);
            DeviceDTO root = dev(domain, 0, 0, 0x060000);
            root.vendor = 0x8086;
            root.device = 0x2020;
            root.portType = "ROOT_PORT";
            m.devices.add(root);
            int bus = 1;
            for (int r = 0; r < 7; r++) {
                int usBus = bus;
                int last = usBus + 1 + ports;
                DeviceDTO rp = dev(domain, 0, r + 1, 0x060400);
                rp.portType = "ROOT_PORT";
                rp.secondaryBus = usBus;
                rp.subordinateBus = last;
                m.devices.add(rp);
                DeviceDTO us = dev(domain, usBus, 0, 0x060400);
                us.portType = "UPSTREAM_PORT";
                us.secondaryBus = usBus + 1;
                us.subordinateBus = last;
                m.devices.add(us);
                boolean redirect = r % 3 == 0;
                for (int p = 0; p < ports; p++) {
                    int epBus = usBus + 2 + p;
                    DeviceDTO ds = dev(domain, usBus + 1, p, 0x060400);
                    ds.portType = "DOWNSTREAM_PORT";
                    ds.secondaryBus = epBus;
                    ds.subordinateBus = epBus;
                    ds.acs = new AcsDTO();
                    ds.acs.offset = 0x148;
                    ds.acs.cap = Acs.SV | Acs.RR | Acs.CR | Acs.UF | Acs.EC;
                    ds.acs.ctrl = redirect ? Acs.SV | Acs.RR | Acs.CR | Acs.UF : 0;
                    m.devices.add(ds);
                    DeviceDTO ep = dev(domain, epBus, 0, 0x030200);
                    ep.vendor = 0x10de;
                    ep.device = 0x20b0;
                    ep.portType = "ENDPOINT";
                    BarDTO b = new BarDTO();
                    b.index = 2;
                    b.start = bar;
                    b.size = 1 << 20;
                    b.prefetchable = true;
                    b.mem64 = true;
                    bar += 1 << 20;
                    ep.bars.add(b);
                    m.devices.add(ep);
                }
                bus = last + 1;
            }
        }
        return m;
    }
}
