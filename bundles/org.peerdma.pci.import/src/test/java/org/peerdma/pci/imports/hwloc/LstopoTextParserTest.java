package org.peerdma.pci.imports.hwloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.pci.imports.hwloc.Dumps.dev;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

class LstopoTextParserTest {
    private static final String SKL = "hwloc-skylake-sp-multi-root-bus-3rc.txt";
    private final LstopoTextParser parser = new LstopoTextParser();

    @Test
    void threeRootBusesWithTheirRanges() {
        MachineDTO m = parser.parse(Dumps.load(SKL));
        assertThat(m.format).isEqualTo("lstopo-v");
        assertThat(m.hostBridges).extracting(h -> h.name, h -> h.bus, h -> h.busEnd, h -> h.numaNode)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("pci0000:00", 0x00, 0x04, 0),
                        org.assertj.core.groups.Tuple.tuple("pci0000:17", 0x17, 0x1a, 0),
                        org.assertj.core.groups.Tuple.tuple("pci0000:5d", 0x5d, 0x5e, 0));
    }

    @Test
    void skylakeRootPortsAndDevices() {
        MachineDTO m = parser.parse(Dumps.load(SKL));
        DeviceDTO rp = dev(m, "0000:17:00.0");
        assertThat(List.of(rp.vendor, rp.device, rp.classCode, rp.headerType, rp.secondaryBus, rp.subordinateBus))
                .containsExactly(0x8086, 0x2030, 0x060400, 1, 0x18, 0x18);
        assertThat(rp.className).isEqualTo("PCI_B");
        assertThat(rp.deviceName).isEqualTo("Sky Lake-E PCI Express Root Port 1A");
        assertThat(rp.vendorName).isEqualTo("Intel Corporation");
        DeviceDTO rp5d = dev(m, "0000:5d:00.0");
        assertThat(List.of(rp5d.device, rp5d.secondaryBus, rp5d.subordinateBus)).containsExactly(0x2030, 0x5e, 0x5e);
        DeviceDTO nvme = dev(m, "0000:5e:00.0");
        assertThat(List.of(nvme.vendor, nvme.device, nvme.classCode, nvme.headerType, nvme.numaNode))
                .containsExactly(0x1c58, 0x0023, 0x010800, 0, 0);
        assertThat(nvme.className).isEqualTo("NVMExp");
        for (int fn = 0; fn < 4; fn++) {
            DeviceDTO x710 = dev(m, "0000:19:00." + fn);
            assertThat(List.of(x710.vendor, x710.device, x710.classCode)).containsExactly(0x8086, 0x1572, 0x020000);
            assertThat(x710.multifunction).isTrue();
            assertThat(x710.deviceName).isEqualTo("Ethernet Controller X710 for 10GbE SFP+");
        }
        assertThat(List.of(dev(m, "0000:17:02.0").secondaryBus, dev(m, "0000:17:02.0").subordinateBus))
                .containsExactly(0x19, 0x1a);
        DeviceDTO pilot = dev(m, "0000:03:00.0");
        assertThat(List.of(pilot.vendor, pilot.device, pilot.secondaryBus, pilot.subordinateBus))
                .containsExactly(0x19a2, 0x0120, 0x04, 0x04);
        assertThat(dev(m, "0000:04:00.0").deviceName).isEqualTo("MGA G200e [Pilot] ServerEngines (SEP1)");
        // 6 PCI bridges + 11 PCI devices, as the summary at the end of the dump counts them
        assertThat(m.devices).hasSize(17);
        assertThat(m.notes).noneMatch(n -> n.contains("listed below") || n.contains("not below"));
    }

    @Test
    void cpuFromPackages() {
        MachineDTO m = parser.parse(Dumps.load(SKL));
        assertThat(m.cpu.vendor).isEqualTo("GenuineIntel");
        assertThat(m.cpu.family).isEqualTo(6);
        assertThat(m.cpu.model).isEqualTo(85);
        assertThat(m.cpu.modelName).isEqualTo("Intel(R) Xeon(R) Gold 6132 CPU @ 2.60GHz");
        assertThat(m.cpu.sockets).isEqualTo(2);
        assertThat(m.arch).isEqualTo("x86_64");
        assertThat(m.name).isEqualTo("ln-sv-infr01");
        assertThat(m.notes).anyMatch(n -> n.contains("no BARs, port types, ACS state"));
    }

    @Test
    void busIdThatIsNotAnAddressNamesTheLine() {
        int line = Dumps.lineOf(Dumps.load(SKL), "busid=0000:5e:00.0");
        TopologySource src = Dumps.edited(SKL, lines -> {
            lines.set(line - 1, lines.get(line - 1).replace("busid=0000:5e:00.0", "busid=0000:5e:zz.0"));
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(src)).isInstanceOfSatisfying(TopologyFormatException.class, e -> {
            assertThat(e.file()).isEqualTo(src.name());
            assertThat(e.line()).isEqualTo(line);
            assertThat(e.getMessage()).contains(src.name() + ":" + line + ":").contains("0000:5e:zz.0");
        });
    }

    @Test
    void truncatedLineAndMissingObjectAreErrors() {
        int line = Dumps.lineOf(Dumps.load(SKL), "busid=0000:19:00.2");
        TopologySource cut = Dumps.edited(SKL, lines -> {
            List<String> head = lines.subList(0, line);
            head.set(line - 1, head.get(line - 1).substring(0, 80));
            return head;
        });
        assertThatThrownBy(() -> parser.parse(cut)).isInstanceOfSatisfying(TopologyFormatException.class, e -> {
            assertThat(e.line()).isEqualTo(line);
            assertThat(e.getMessage()).contains("unterminated attribute list");
        });
        int summary = Dumps.lineOf(Dumps.load(SKL), "Special depth -4");
        TopologySource lost = Dumps.edited(SKL, lines -> {
            lines.set(line - 1, "");
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(lost)).isInstanceOfSatisfying(TopologyFormatException.class, e -> {
            assertThat(e.line()).isEqualTo(summary);
            assertThat(e.getMessage()).contains("counts 11 PCI device objects but the tree lists 10");
        });
    }

    @Test
    void badBusRangeAndDuplicateAddress() {
        int hb = Dumps.lineOf(Dumps.load(SKL), "buses=0000:[17-1a]");
        TopologySource range = Dumps.edited(SKL, lines -> {
            lines.set(hb - 1, lines.get(hb - 1).replace("[17-1a]", "[1a-17]"));
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(range))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(hb));
        int fn3 = Dumps.lineOf(Dumps.load(SKL), "busid=0000:19:00.3");
        TopologySource dup = Dumps.edited(SKL, lines -> {
            lines.set(fn3 - 1, lines.get(fn3 - 1).replace("busid=0000:19:00.3", "busid=0000:19:00.2"));
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(dup)).isInstanceOfSatisfying(TopologyFormatException.class, e -> {
            assertThat(e.line()).isEqualTo(fn3);
            assertThat(e.getMessage()).contains("duplicate PCI address 0000:19:00.2");
        });
    }

    @Test
    void hwloc2SyntaxWithMemoryChildren() {
        String text = """
                Machine (P#0 total=65536KB Architecture=x86_64 hwlocVersion=2.9.0)
                  Package L#0 (P#0 CPUVendor=AuthenticAMD CPUFamilyNumber=25 CPUModelNumber=1 CPUModel="AMD EPYC 7313 16-Core Processor")
                    NUMANode L#0 (P#0 local=32768KB total=32768KB)
                    L3Cache L#0 (size=32768KB linesize=64 ways=16)
                    HostBridge L#0 (buses=0000:[00-03])
                      PCIBridge L#1 (busid=0000:00:01.1 id=1022:1483 class=0604(PCIBridge) link=7.88GB/s buses=0000:[01-01] PCIVendor="Advanced Micro Devices, Inc. [AMD]")
                        PCI L#0 (busid=0000:01:00.0 id=144d:a80a class=0108(NVMExp) link=7.88GB/s PCIVendor="Samsung Electronics Co Ltd")
                          Block(Disk) L#0 (Size=1000204886KB SectorSize=512) "nvme0n1"
                  Package L#1 (P#1 CPUVendor=AuthenticAMD CPUFamilyNumber=25 CPUModelNumber=1)
                    NUMANode L#1 (P#1 local=32768KB total=32768KB)
                    HostBridge L#2 (buses=0000:[40-41])
                      PCI L#1 (busid=0000:40:00.2 id=1022:164f class=0806(IOMMU))
                depth 0:           1 Machine (type #0)
                Special depth -4:  3 Bridge (type #9)
                Special depth -5:  2 PCIDev (type #10)
                """;
        MachineDTO m = parser.parse(TopologySource.ofText("epyc.txt", text));
        assertThat(m.hostBridges).extracting(h -> h.numaNode).containsExactly(0, 1);
        DeviceDTO nvme = dev(m, "0000:01:00.0");
        assertThat(List.of(nvme.vendor, nvme.device, nvme.classCode, nvme.numaNode)).containsExactly(0x144d, 0xa80a, 0x010800, 0);
        assertThat(nvme.linkSpeed).isEqualTo("7.88GB/s");
        DeviceDTO rp = dev(m, "0000:00:01.1");
        assertThat(List.of(rp.headerType, rp.secondaryBus, rp.subordinateBus)).containsExactly(1, 1, 1);
        assertThat(dev(m, "0000:40:00.2").numaNode).isEqualTo(1);
        assertThat(m.cpu.vendor).isEqualTo("AuthenticAMD");
        assertThat(m.cpu.family).isEqualTo(25);
        assertThat(m.cpu.sockets).isEqualTo(2);
    }

    @Test
    void probe() {
        assertThat(parser.probe(Dumps.load(SKL))).isEqualTo(95);
        assertThat(parser.probe(Dumps.load("hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt"))).isZero();
        assertThat(parser.probe(Dumps.load("dgx-a100-nccl-topo-xml-nccl1505.txt"))).isZero();
    }
}
