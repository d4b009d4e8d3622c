package org.peerdma.iommu.internal;

import java.lang.annotation.Annotation;

import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** Machine descriptions for the IOMMU tests, loaded through the real PCI core (pattern of the pci bundle's Fixtures). */
final class Machines {
    static final int ISOLATED = Acs.SV | Acs.RR | Acs.CR | Acs.UF;
    static final long WIN32 = 0xe000_0000L;
    static final long WIN32_SIZE = 0x1000_0000L;
    static final long WIN64 = 0x380_0000_0000L;
    static final long WIN64_SIZE = 0x10_0000_0000L;
    static final long GPU_BAR0 = 0xe000_0000L;
    static final long GPU_BAR1 = 0x380_0000_0000L;
    static final long NVME_BAR0 = 0xe100_0000L;

    private Machines() {
    }

    static DeviceDTO dev(String bdf, int cls, String type) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.vendor = 0x10de;
        d.device = 0x1234;
        d.classCode = cls;
        d.portType = type;
        d.extendedCapsKnown = true;
        return d;
    }

    static DeviceDTO bridge(String bdf, int sec, int sub, String type, Integer acsCtrl) {
        DeviceDTO d = dev(bdf, 0x060400, type);
        d.vendor = 0x10b5;
        d.device = 0x8747;
        d.headerType = 1;
        d.secondaryBus = sec;
        d.subordinateBus = sub;
        if (acsCtrl != null) {
            acs(d, Acs.ALL, acsCtrl);
        }
        return d;
    }

    static DeviceDTO acs(DeviceDTO d, int cap, int ctrl) {
        d.acs = new AcsDTO();
        d.acs.offset = 0x148;
        d.acs.cap = cap;
        d.acs.ctrl = ctrl;
        return d;
    }

    static BarDTO bar(int index, long start, long size, boolean mem64) {
        BarDTO b = new BarDTO();
        b.index = index;
        b.start = start;
        b.size = size;
        b.prefetchable = mem64;
        b.mem64 = mem64;
        return b;
    }

    static MachineDTO empty(String name) {
        MachineDTO m = new MachineDTO();
        m.name = name;
        m.source = "test";
        m.arch = "x86_64";
        HostBridgeDTO h = new HostBridgeDTO();
        h.domain = 0;
        h.bus = 0;
        h.busEnd = 0xff;
        h.windows.add(window(WIN32, WIN32_SIZE));
        h.windows.add(window(WIN64, WIN64_SIZE));
        m.hostBridges.add(h);
        m.devices.add(dev("0000:00:00.0", 0x060000, "RC_INTEGRATED_ENDPOINT"));
        return m;
    }

    static WindowDTO window(long start, long size) {
        WindowDTO w = new WindowDTO();
        w.cpuStart = start;
        w.size = size;
        return w;
    }

    /**
     * Root port 00:01.0 (ACS control {@code rp}, null = no ACS capability) -&gt; switch upstream
     * port 01:00.0 (no ACS) -&gt; downstream ports 02:00.0 (ACS {@code a}) and 02:01.0 (ACS
     * {@code b}) -&gt; GPU 03:00.0 and NVMe 04:00.0.
     */
    static MachineDTO switchBox(Integer rp, Integer a, Integer b) {
        MachineDTO m = empty("switch");
        m.devices.add(bridge("0000:00:01.0", 1, 4, "ROOT_PORT", rp));
        m.devices.add(bridge("0000:01:00.0", 2, 4, "UPSTREAM_PORT", null));
        m.devices.add(bridge("0000:02:00.0", 3, 3, "DOWNSTREAM_PORT", a));
        m.devices.add(bridge("0000:02:01.0", 4, 4, "DOWNSTREAM_PORT", b));
        DeviceDTO gpu = dev("0000:03:00.0", 0x030200, "ENDPOINT");
        gpu.bars.add(bar(0, GPU_BAR0, 16 << 20, false));
        gpu.bars.add(bar(1, GPU_BAR1, 256 << 20, true));
        m.devices.add(gpu);
        DeviceDTO nvme = dev("0000:04:00.0", 0x010802, "ENDPOINT");
        nvme.bars.add(bar(0, NVME_BAR0, 16 << 10, false));
        m.devices.add(nvme);
        return m;
    }

    static PciCoreImpl load(MachineDTO m) {
        PciCoreImpl core = new PciCoreImpl();
        core.load(m);
        return core;
    }

    static PciDevice get(PciCoreImpl core, String bdf) {
        return core.get(Bdf.parse(bdf));
    }

    static IommuConfig config(String mode, int bits, boolean forcedac, int maxSeg) {
        return new IommuConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return IommuConfig.class;
            }

            @Override
            public String mode() {
                return mode;
            }

            @Override
            public int iova__bits() {
                return bits;
            }

            @Override
            public boolean forcedac() {
                return forcedac;
            }

            @Override
            public int max__seg__size() {
                return maxSeg;
            }
        };
    }

    static IommuImpl iommu(PciCoreImpl core, String mode, int bits) {
        return iommu(core, config(mode, bits, false, 65536));
    }

    static IommuImpl iommu(PciCoreImpl core, IommuConfig c) {
        IommuImpl i = new IommuImpl();
        i.core = core;
        i.activate(c);
        return i;
    }
}
