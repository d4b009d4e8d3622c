package org.peerdma.arch.arm64.internal;

import java.lang.annotation.Annotation;

import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** An arm64 machine built with the real PCI core, and configuration instances. */
final class Arm64Fixtures {
    static final String NVME = "0000:01:00.0";
    static final String NIC = "0001:01:00.0";

    private Arm64Fixtures() {
    }

    private static DeviceDTO dev(String bdf, int vendor, int device, int cls, String type) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.vendor = vendor;
        d.device = device;
        d.classCode = cls;
        d.portType = type;
        d.extendedCapsKnown = true;
        return d;
    }

    private static DeviceDTO rootPort(String bdf) {
        DeviceDTO d = dev(bdf, 0x14e4, 0x2712, 0x060400, "ROOT_PORT");
        d.headerType = 1;
        d.secondaryBus = 1;
        d.subordinateBus = 1;
        return d;
    }

    private static BarDTO bar(int index, long start, long size) {
        BarDTO b = new BarDTO();
        b.index = index;
        b.start = start;
        b.size = size;
        b.mem64 = true;
        return b;
    }

    /**
     * Two PCIe domains as on a BCM2712-class SoC, one root port each: an NVMe drive (driver
     * nvme) at 0000:01:00.0 and a NIC without a driver at 0001:01:00.0. The CPU is described as
     * an AMD Zen to show that arm64 ignores the x86 CPU rule.
     */
    static PciMachine machine() {
        MachineDTO m = new MachineDTO();
        m.name = "arm64-soc";
        m.source = "test";
        m.arch = "arm64";
        m.cpu = new CpuDTO();
        m.cpu.vendor = "AuthenticAMD";
        m.cpu.family = 0x19;
        m.cpu.model = 1;
        for (int domain = 0; domain < 2; domain++) {
            HostBridgeDTO h = new HostBridgeDTO();
            h.domain = domain;
            h.bus = 0;
            m.hostBridges.add(h);
        }
        m.devices.add(rootPort("0000:00:00.0"));
        DeviceDTO nvme = dev(NVME, 0x144d, 0xa80a, 0x010802, "ENDPOINT");
        nvme.driver = "nvme";
        nvme.bars.add(bar(0, 0x1b_0000_0000L, 16 << 10));
        m.devices.add(nvme);
        m.devices.add(rootPort("0001:00:00.0"));
        DeviceDTO nic = dev(NIC, 0x15b3, 0x101b, 0x020000, "ENDPOINT");
        nic.bars.add(bar(0, 0xf000_0000L, 16 << 20));
        m.devices.add(nic);
        return new PciCoreImpl().load(m);
    }

    static PciDevice device(PciMachine m, String bdf) {
        return m.device(Bdf.parse(bdf)).orElseThrow();
    }

    static Arm64DmaConfig dmaConfig(String ranges, String ram) {
        return new Arm64DmaConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return Arm64DmaConfig.class;
            }

            @Override
            public String dma__ranges() {
                return ranges;
            }

            @Override
            public String system__ram() {
                return ram;
            }
        };
    }

    static Arm64DmaConfig dmaConfig(String ranges) {
        return dmaConfig(ranges, Arm64DmaConfig.DEFAULT_SYSTEM_RAM);
    }

    static Arm64PolicyConfig policyConfig(boolean whitelist) {
        return new Arm64PolicyConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return Arm64PolicyConfig.class;
            }

            @Override
            public boolean host__bridge__whitelist() {
                return whitelist;
            }
        };
    }
}
