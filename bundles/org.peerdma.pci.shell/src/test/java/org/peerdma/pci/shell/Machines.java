package org.peerdma.pci.shell;

import org.peerdma.pci.Acs;
import org.peerdma.pci.Capability;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CapabilityDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;

/** Machine descriptions for the shell tests. */
final class Machines {
    static final String PLX = "PLX Technology, Inc.";
    static final String PEX = "PEX 8747 48-Lane, 5-Port PCI Express Gen 3 (8.0 GT/s) Switch";

    private Machines() {
    }

    static DeviceDTO dev(String bdf, int vendor, int device, int cls, String type, String vname, String dname) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.vendor = vendor;
        d.device = device;
        d.classCode = cls;
        d.portType = type;
        d.vendorName = vname;
        d.deviceName = dname;
        d.extendedCapsKnown = true;
        return d;
    }

    static DeviceDTO bridge(String bdf, int vendor, int device, int sec, int sub, String type) {
        DeviceDTO d = dev(bdf, vendor, device, 0x060400, type, null, null);
        d.headerType = 1;
        d.secondaryBus = sec;
        d.subordinateBus = sub;
        d.driver = "pcieport";
        return d;
    }

    static CapabilityDTO cap(boolean ext, int id, int offset, int version) {
        CapabilityDTO c = new CapabilityDTO();
        c.extended = ext;
        c.id = id;
        c.offset = offset;
        c.version = version;
        return c;
    }

    static AcsDTO acs(int offset, int cap, int ctrl) {
        AcsDTO a = new AcsDTO();
        a.offset = offset;
        a.cap = cap;
        a.ctrl = ctrl;
        return a;
    }

    static BarDTO bar(int index, long start, long size, boolean pref, boolean mem64) {
        BarDTO b = new BarDTO();
        b.index = index;
        b.start = start;
        b.size = size;
        b.prefetchable = pref;
        b.mem64 = mem64;
        return b;
    }

    static HostBridgeDTO host(int domain, int bus, Integer end) {
        HostBridgeDTO h = new HostBridgeDTO();
        h.domain = domain;
        h.bus = bus;
        h.busEnd = end;
        return h;
    }

    /**
     * Host bridge 00:00.0 (Sky Lake-E), root port 00:01.0 -> PLX switch 01:00.0 with downstream
     * ports 02:08.0 (ACS listed, redirect on) and 02:10.0 (ACS not in the capability list);
     * GPU 03:00.0 with a 64G prefetchable BAR, NVMe 04:00.0; on root bus 80 a root port 80:02.0
     * with an InfiniBand NIC 81:00.0, and a nameless device 80:05.0 of an unnamed sub-class.
     */
    static MachineDTO small() {
        MachineDTO m = new MachineDTO();
        m.name = "small";
        m.source = "test";
        m.hostBridges.add(host(0, 0, 0x7f));
        m.hostBridges.add(host(0, 0x80, null));
        DeviceDTO hb = dev("0000:00:00.0", 0x8086, 0x2020, 0x060000, "ROOT_PORT", "Intel Corporation",
                "Sky Lake-E DMI3 Registers");
        hb.revision = 4;
        hb.numaNode = 0;
        hb.capabilities.add(cap(false, Capability.CAP_EXP, 0x90, 2));
        m.devices.add(hb);

        DeviceDTO rp = bridge("0000:00:01.0", 0x8086, 0x2030, 1, 4, "ROOT_PORT");
        rp.revision = 4;
        rp.numaNode = 0;
        rp.capabilities.add(cap(false, Capability.CAP_EXP, 0x40, 2));
        rp.capabilities.add(cap(true, Capability.EXT_ACS, 0x110, 1));
        rp.acs = acs(0x110, Acs.SV | Acs.RR | Acs.CR | Acs.UF, 0);
        WindowDTO mem = new WindowDTO();
        mem.cpuStart = 0xf000_0000L;
        mem.size = 0x110_0000L;
        WindowDTO pref = new WindowDTO();
        pref.cpuStart = 0x3800_0000_0000L;
        pref.size = 0x11_0000_0000L;
        pref.prefetchable = true;
        rp.bridgeWindows.add(pref);
        rp.bridgeWindows.add(mem);
        m.devices.add(rp);

        DeviceDTO up = bridge("0000:01:00.0", 0x10b5, 0x8747, 2, 4, "UPSTREAM_PORT");
        up.revision = 0xca;
        up.vendorName = PLX;
        up.deviceName = PEX;
        up.capabilities.add(cap(false, Capability.CAP_EXP, 0x68, 2));
        m.devices.add(up);

        DeviceDTO dsp1 = bridge("0000:02:08.0", 0x10b5, 0x8747, 3, 3, "DOWNSTREAM_PORT");
        dsp1.revision = 0xca;
        dsp1.capabilities.add(cap(false, Capability.CAP_EXP, 0x68, 2));
        dsp1.capabilities.add(cap(true, Capability.EXT_ACS, 0x148, 1));
        dsp1.acs = acs(0x148, Acs.ALL, Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        m.devices.add(dsp1);

        DeviceDTO dsp2 = bridge("0000:02:10.0", 0x10b5, 0x8747, 4, 4, "DOWNSTREAM_PORT");
        dsp2.revision = 0xca;
        dsp2.capabilities.add(cap(false, Capability.CAP_EXP, 0x68, 2));
        dsp2.acs = acs(0x148, Acs.ALL, Acs.SV);
        m.devices.add(dsp2);

        DeviceDTO gpu = dev("0000:03:00.0", 0x10de, 0x1db6, 0x030200, "ENDPOINT", "NVIDIA Corporation",
                "GV100GL [Tesla V100 PCIe 32GB]");
        gpu.revision = 0xa1;
        gpu.subsystemVendor = 0x10de;
        gpu.subsystemDevice = 0x124a;
        gpu.numaNode = 0;
        gpu.driver = "nvidia";
        gpu.bars.add(bar(0, 0xf000_0000L, 16 << 20, false, false));
        gpu.bars.add(bar(1, 0x3800_0000_0000L, 64L << 30, true, true));
        gpu.capabilities.add(cap(false, Capability.CAP_PM, 0x60, 0));
        gpu.capabilities.add(cap(false, Capability.CAP_MSI, 0x68, 0));
        gpu.capabilities.add(cap(false, Capability.CAP_EXP, 0x78, 2));
        gpu.capabilities.add(cap(true, Capability.EXT_VC, 0x100, 1));
        gpu.capabilities.add(cap(true, Capability.EXT_LTR, 0x250, 1));
        m.devices.add(gpu);

        DeviceDTO nvme = dev("0000:04:00.0", 0x144d, 0xa808, 0x010802, "ENDPOINT", "Samsung Electronics Co Ltd",
                "NVMe SSD Controller SM981/PM981/PM983");
        nvme.subsystemVendor = 0x144d;
        nvme.subsystemDevice = 0xa801;
        nvme.driver = "nvme";
        nvme.bars.add(bar(0, 0xf100_0000L, 16 << 10, false, true));
        m.devices.add(nvme);

        DeviceDTO rp2 = bridge("0000:80:02.0", 0x8086, 0x2032, 0x81, 0x81, "ROOT_PORT");
        rp2.revision = 4;
        rp2.numaNode = 1;
        m.devices.add(rp2);
        DeviceDTO odd = dev("0000:80:05.0", 0x1d17, 0x1003, 0x08ff00, null, null, null);
        odd.extendedCapsKnown = null;
        m.devices.add(odd);
        DeviceDTO nic = dev("0000:81:00.0", 0x15b3, 0x101b, 0x020700, "ENDPOINT", "Mellanox Technologies",
                "MT28908 Family [ConnectX-6]");
        nic.numaNode = 1;
        nic.driver = "mlx5_core";
        m.devices.add(nic);
        return m;
    }

    /**
     * The partial lspci -tv of intel-b70-rocketlake-pex880xx-acs (configuration B): the bridges to
     * buses 0e and 12 are not in the dump.
     */
    static MachineDTO elided() {
        MachineDTO m = new MachineDTO();
        m.name = "elided";
        m.source = "test";
        m.hostBridges.add(host(0, 0, null));
        m.devices.add(dev("0000:00:00.0", 0x8086, 0x4c43, 0x060000, null, "Intel Corporation",
                "Rocket Lake-S Host Bridge"));
        m.devices.add(bridge("0000:00:01.0", 0x8086, 0x4c01, 1, 0x18, null));
        m.devices.add(bridge("0000:01:00.0", 0x1000, 0xc030, 2, 0x18, null));
        m.devices.add(dev("0000:0e:00.0", 0x8086, 0xe223, 0x030000, null, "Intel Corporation", "Battlemage G31"));
        m.devices.add(dev("0000:12:00.0", 0x8086, 0xe223, 0x030000, null, null, null));
        m.devices.add(bridge("0000:02:1c.0", 0x1000, 0xc030, 0x18, 0x18, null));
        m.devices.add(dev("0000:18:00.0", 0x1000, 0x00b2, 0x058000, null, "Broadcom / LSI",
                "PEX880xx PCIe Gen 4 Switch"));
        return m;
    }
}
