package org.peerdma.pci.internal;

import java.lang.annotation.Annotation;

import org.peerdma.pci.Acs;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;

/** Small machine descriptions for core tests. */
final class Fixtures {
    private Fixtures() {
    }

    static DeviceDTO dev(String bdf, int vendor, int device, int cls, String type) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.vendor = vendor;
        d.device = device;
        d.classCode = cls;
        d.portType = type;
        d.extendedCapsKnown = true;
        return d;
    }

    static DeviceDTO bridge(String bdf, int sec, int sub, String type, Integer acsCtrl) {
        DeviceDTO d = dev(bdf, 0x10b5, 0x8747, 0x060400, type);
        d.headerType = 1;
        d.secondaryBus = sec;
        d.subordinateBus = sub;
        if (acsCtrl != null) {
            d.acs = new AcsDTO();
            d.acs.offset = 0x148;
            d.acs.cap = Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF | Acs.EC | Acs.DT;
            d.acs.ctrl = acsCtrl;
        }
        return d;
    }

    static BarDTO bar(int index, long start, long size, boolean pref) {
        BarDTO b = new BarDTO();
        b.index = index;
        b.start = start;
        b.size = size;
        b.prefetchable = pref;
        b.mem64 = pref;
        return b;
    }

    /**
     * One host bridge (00:00.0 Skylake-E 8086:2020), root port 00:01.0 -> switch 01:00.0 with two
     * downstream ports 02:08.0 (ACS RR|CR) and 02:10.0 (no redirect); GPU 03:00.0, NVMe 04:00.0;
     * a second root bus 80 with a NIC 81:00.0 behind root port 80:02.0.
     */
    static MachineDTO small() {
        MachineDTO m = new MachineDTO();
        m.name = "small";
        m.source = "test";
        HostBridgeDTO h0 = new HostBridgeDTO();
        h0.domain = 0;
        h0.bus = 0;
        h0.busEnd = 0x7f;
        HostBridgeDTO h1 = new HostBridgeDTO();
        h1.domain = 0;
        h1.bus = 0x80;
        m.hostBridges.add(h0);
        m.hostBridges.add(h1);
        m.devices.add(dev("0000:00:00.0", 0x8086, 0x2020, 0x060000, "ROOT_PORT"));
        m.devices.add(bridge("0000:00:01.0", 1, 4, "ROOT_PORT", 0));
        m.devices.add(bridge("0000:01:00.0", 2, 4, "UPSTREAM_PORT", null));
        m.devices.add(bridge("0000:02:08.0", 3, 3, "DOWNSTREAM_PORT", Acs.SV | Acs.RR | Acs.CR | Acs.UF));
        m.devices.add(bridge("0000:02:10.0", 4, 4, "DOWNSTREAM_PORT", Acs.SV));
        DeviceDTO gpu = dev("0000:03:00.0", 0x10de, 0x20b0, 0x030200, "ENDPOINT");
        gpu.bars.add(bar(0, 0xf000_0000L, 16 << 20, false));
        gpu.bars.add(bar(1, 0x380_0000_0000L, 64L << 30, true));
        m.devices.add(gpu);
        DeviceDTO nvme = dev("0000:04:00.0", 0x1de5, 0x1000, 0x010802, "ENDPOINT");
        nvme.bars.add(bar(0, 0xf100_0000L, 16 << 10, false));
        nvme.bars.add(bar(2, 0x381_0000_0000L, 256 << 20, true));
        m.devices.add(nvme);
        m.devices.add(dev("0000:80:00.0", 0x8086, 0x2020, 0x060000, "ROOT_PORT"));
        m.devices.add(bridge("0000:80:02.0", 0x81, 0x81, "ROOT_PORT", 0));
        m.devices.add(dev("0000:81:00.0", 0x15b3, 0x101b, 0x020700, "ENDPOINT"));
        return m;
    }

    static PciCmdlineConfig cmdline(String pci) {
        return cmdline(pci, "off", "");
    }

    static PciCmdlineConfig cmdline(String pci, String iommu, String release) {
        return new PciCmdlineConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return PciCmdlineConfig.class;
            }

            @Override
            public String pci() {
                return pci;
            }

            @Override
            public String iommu() {
                return iommu;
            }

            @Override
            public String release() {
                return release;
            }
        };
    }

    static PciCoreImpl core(String pci) {
        return core(pci, "off", "");
    }

    /** core - a core booted with pci= options, an IOMMU state (on, pt, off) and a kernel release ("" newest). */
    static PciCoreImpl core(String pci, String iommu, String release) {
        PciCoreImpl c = new PciCoreImpl();
        c.activate(cmdline(pci, iommu, release));
        return c;
    }
}
