package org.peerdma.pci.imports.hwloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.pci.imports.hwloc.Dumps.dev;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

class HwlocXmlParserTest {
    private static final String K80 = "hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt";
    private final HwlocXmlParser parser = new HwlocXmlParser();

    @Test
    void hostBridgesOfBothRootComplexes() {
        MachineDTO m = parser.parse(Dumps.load(K80));
        assertThat(m.format).isEqualTo("hwloc-xml");
        assertThat(m.hostBridges).hasSize(2);
        HostBridgeDTO a = m.hostBridges.get(0);
        HostBridgeDTO b = m.hostBridges.get(1);
        assertThat(List.of(a.name, a.domain, a.bus, a.busEnd, a.numaNode)).containsExactly("pci0000:00", 0, 0x00, 0x0a, 0);
        assertThat(List.of(b.name, b.domain, b.bus, b.busEnd, b.numaNode)).containsExactly("pci0000:80", 0, 0x80, 0x85, 1);
    }

    @Test
    void k80CardAOnRootComplex0() {
        MachineDTO m = parser.parse(Dumps.load(K80));
        assertBridge(dev(m, "0000:00:03.0"), 0x8086, 0x2f08, 0x04, 0x07);
        DeviceDTO usp = dev(m, "0000:04:00.0");
        assertBridge(usp, 0x10b5, 0x8747, 0x05, 0x07);
        assertThat(usp.revision).isEqualTo(0xca);
        assertThat(usp.deviceName).isEqualTo("PEX 8747 48-Lane, 5-Port PCI Express Gen 3 (8.0 GT/s) Switch");
        assertBridge(dev(m, "0000:05:08.0"), 0x10b5, 0x8747, 0x06, 0x06);
        assertBridge(dev(m, "0000:05:10.0"), 0x10b5, 0x8747, 0x07, 0x07);
        for (String gpu : List.of("0000:06:00.0", "0000:07:00.0")) {
            assertGpu(dev(m, gpu), 0);
        }
    }

    @Test
    void k80CardBOnRootComplex1() {
        MachineDTO m = parser.parse(Dumps.load(K80));
        assertBridge(dev(m, "0000:80:03.0"), 0x8086, 0x2f08, 0x82, 0x85);
        assertBridge(dev(m, "0000:82:00.0"), 0x10b5, 0x8747, 0x83, 0x85);
        assertBridge(dev(m, "0000:83:08.0"), 0x10b5, 0x8747, 0x84, 0x84);
        assertBridge(dev(m, "0000:83:10.0"), 0x10b5, 0x8747, 0x85, 0x85);
        assertGpu(dev(m, "0000:84:00.0"), 1);
        assertGpu(dev(m, "0000:85:00.0"), 1);
        DeviceDTO cx3 = dev(m, "0000:81:00.0");
        assertThat(List.of(cx3.vendor, cx3.device, cx3.classCode, cx3.subsystemVendor, cx3.subsystemDevice))
                .containsExactly(0x15b3, 0x1003, 0x028000, 0x15b3, 0x0051);
    }

    @Test
    void allFunctionsCpuAndNotes() {
        MachineDTO m = parser.parse(Dumps.load(K80));
        // 15 functions below bus 00 (7 bridges, 8 others) + 8 below bus 80 (5 bridges, 3 others).
        assertThat(m.devices).hasSize(23);
        assertThat(m.devices.stream().filter(d -> Integer.valueOf(1).equals(d.headerType))).hasSize(12);
        assertThat(m.devices).allSatisfy(d -> assertThat(d.bdf).matches("0000:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]"));
        assertThat(dev(m, "0000:02:00.1").multifunction).isTrue();
        assertThat(dev(m, "0000:02:00.0").multifunction).isTrue();
        assertThat(dev(m, "0000:06:00.0").multifunction).isNull();
        assertThat(dev(m, "0000:00:1f.2").classCode).isEqualTo(0x010600);
        assertThat(dev(m, "0000:00:1f.2").numaNode).isEqualTo(0);
        assertThat(m.cpu.vendor).isEqualTo("GenuineIntel");
        assertThat(m.cpu.family).isEqualTo(6);
        assertThat(m.cpu.model).isEqualTo(63);
        assertThat(m.cpu.modelName).isEqualTo("Intel(R) Xeon(R) CPU E5-2667 v3 @ 3.20GHz");
        assertThat(m.cpu.sockets).isEqualTo(2);
        assertThat(m.arch).isEqualTo("x86_64");
        assertThat(m.name).isEqualTo("test-gpu-node");
        assertThat(m.notes).contains("hwloc XML gives no BARs, port types or ACS state.");
        assertThat(m.notes).noneMatch(n -> n.contains("listed below") || n.contains("not below"));
        assertThat(m.devices).allSatisfy(d -> assertThat(d.linkSpeed).isNull()); // pci_link_speed 0
    }

    @Test
    void hwloc2LayoutWithNodesetsAndMemoryChildren() {
        String xml = """
                <?xml version="1.0" encoding="UTF-8"?>
                <!DOCTYPE topology SYSTEM "hwloc2.dtd">
                <topology version="2.0">
                  <object type="Machine" os_index="0" cpuset="0xff" nodeset="0x00000003" gp_index="1">
                    <info name="Architecture" value="x86_64"/>
                    <object type="Package" os_index="0" cpuset="0x0f" nodeset="0x00000001" gp_index="2">
                      <info name="CPUVendor" value="AuthenticAMD"/>
                      <info name="CPUFamilyNumber" value="23"/>
                      <info name="CPUModelNumber" value="49"/>
                      <object type="NUMANode" os_index="0" cpuset="0x0f" nodeset="0x00000001" gp_index="3"/>
                      <object type="Bridge" gp_index="4" bridge_type="0-1" depth="0" bridge_pci="0000:[00-0f]">
                        <object type="Bridge" gp_index="5" bridge_type="1-1" depth="1" bridge_pci="0000:[01-01]" pci_busid="0000:00:01.1" pci_type="0604 [1022:1483] [0000:0000] 00" pci_link_speed="0.000000">
                          <object type="PCIDev" gp_index="6" pci_busid="0000:01:00.0" pci_type="0108 [144d:a808] [144d:a801] 00" pci_link_speed="3.938462"/>
                        </object>
                      </object>
                    </object>
                    <object type="Package" os_index="1" cpuset="0xf0" nodeset="0x00000002" gp_index="7">
                      <info name="CPUVendor" value="AuthenticAMD"/>
                      <object type="NUMANode" os_index="1" cpuset="0xf0" nodeset="0x00000002" gp_index="8"/>
                      <object type="Bridge" gp_index="9" bridge_type="0-1" depth="0" bridge_pci="0001:[40-41]">
                        <object type="PCIDev" gp_index="10" pci_busid="0001:40:00.0" pci_type="0200 [8086:1572] [8086:0000] 01" pci_link_speed="0.000000"/>
                      </object>
                    </object>
                  </object>
                </topology>
                """;
        MachineDTO m = parser.parse(TopologySource.ofText("amd.xml", xml));
        assertThat(m.hostBridges).extracting(h -> h.numaNode).containsExactly(0, 1);
        assertThat(m.hostBridges.get(1).domain).isEqualTo(1);
        DeviceDTO nvme = dev(m, "0000:01:00.0");
        assertThat(List.of(nvme.vendor, nvme.device, nvme.classCode, nvme.numaNode, nvme.headerType))
                .containsExactly(0x144d, 0xa808, 0x010800, 0, 0);
        assertThat(nvme.linkSpeed).isEqualTo("3.94GB/s");
        assertThat(dev(m, "0001:40:00.0").numaNode).isEqualTo(1);
        assertThat(dev(m, "0000:00:01.1").subsystemVendor).isNull();
        assertThat(m.cpu.vendor).isEqualTo("AuthenticAMD");
        assertThat(m.cpu.family).isEqualTo(23);
        assertThat(m.cpu.sockets).isEqualTo(2);
    }

    @Test
    void externalDtdAndEntitiesAreNotFetched() {
        String xml = """
                <?xml version="1.0"?>
                <!DOCTYPE topology SYSTEM "file:///nonexistent-peerdma/hwloc.dtd" [
                  <!ENTITY ext SYSTEM "file:///nonexistent-peerdma/secret">
                ]>
                <topology>&ext;
                  <object type="Machine" os_index="0"/>
                </topology>
                """;
        MachineDTO m = parser.parse(TopologySource.ofText("xxe.xml", xml));
        assertThat(m.devices).isEmpty();
        assertThat(m.notes).contains("The dump lists no host bridge (no PCI objects).");
    }

    @Test
    void xmlCutInTheMiddleOfATagNamesFileAndLine() {
        TopologySource full = Dumps.load(K80);
        int cut = Dumps.lineOf(full, "pci_busid=\"0000:04:00.0\"");
        TopologySource src = Dumps.edited(K80, lines -> {
            List<String> head = lines.subList(0, cut);
            head.set(cut - 1, head.get(cut - 1).substring(0, 60));
            return head;
        });
        assertThatThrownBy(() -> parser.parse(src))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.file()).isEqualTo(src.name());
                    assertThat(e.line()).isEqualTo(cut);
                    assertThat(e.getMessage()).contains(src.name() + ":" + cut + ":").contains("malformed hwloc XML");
                });
    }

    @Test
    void brokenTagInsideTheDocumentNamesItsLine() {
        TopologySource full = Dumps.load(K80);
        int bad = Dumps.lineOf(full, "pci_busid=\"0000:81:00.0\"");
        TopologySource src = Dumps.edited(K80, lines -> {
            lines.set(bad - 1, "          <object type=\"PCIDev\" pci_busid=\"0000:81:00.0 <info name=\"x\"/>");
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(src))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(bad));
    }

    @Test
    void badBusIdAndDuplicateAddressAreErrors() {
        TopologySource full = Dumps.load(K80);
        int gpu = Dumps.lineOf(full, "pci_busid=\"0000:85:00.0\"");
        TopologySource badId = Dumps.edited(K80, lines -> {
            lines.set(gpu - 1, lines.get(gpu - 1).replace("0000:85:00.0", "0000:85:gg.0"));
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(badId))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.line()).isEqualTo(gpu);
                    assertThat(e.getMessage()).contains("0000:85:gg.0");
                });
        TopologySource dup = Dumps.edited(K80, lines -> {
            lines.set(gpu - 1, lines.get(gpu - 1).replace("0000:85:00.0", "0000:84:00.0"));
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(dup))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.line()).isEqualTo(gpu);
                    assertThat(e.getMessage()).contains("duplicate PCI address 0000:84:00.0");
                });
        TopologySource badType = Dumps.edited(K80, lines -> {
            lines.set(gpu - 1, lines.get(gpu - 1).replace("0302 [10de:102d]", "0302 [10de-102d]"));
            return lines;
        });
        assertThatThrownBy(() -> parser.parse(badType))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(gpu));
    }

    @Test
    void notHwlocXml() {
        assertThatThrownBy(() -> parser.parse(TopologySource.ofText("x.xml", "<?xml version=\"1.0\"?>\n<system/>")))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("root element <system>");
                });
    }

    @Test
    void probe() {
        assertThat(parser.probe(Dumps.load(K80))).isEqualTo(95);
        assertThat(parser.probe(Dumps.load("hwloc-skylake-sp-multi-root-bus-3rc.txt"))).isZero();
        assertThat(parser.probe(Dumps.load("dgx-a100-nccl-topo-xml-nccl1505.txt"))).isZero();
    }

    private static void assertBridge(DeviceDTO d, int vendor, int device, int secondary, int subordinate) {
        assertThat(List.of(d.vendor, d.device, d.classCode, d.headerType, d.secondaryBus, d.subordinateBus))
                .as(d.bdf).containsExactly(vendor, device, 0x060400, 1, secondary, subordinate);
    }

    private static void assertGpu(DeviceDTO d, int numa) {
        assertThat(List.of(d.vendor, d.device, d.subsystemVendor, d.subsystemDevice, d.classCode, d.revision,
                d.headerType, d.numaNode)).as(d.bdf).containsExactly(0x10de, 0x102d, 0x10de, 0x106c, 0x030200, 0xa1, 0, numa);
        assertThat(d.deviceName).isEqualTo("GK210GL [Tesla K80]");
        assertThat(d.vendorName).isEqualTo("NVIDIA Corporation");
    }
}
