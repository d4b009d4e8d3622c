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

class NcclTopoXmlParserTest {
    private static final String DGX = "dgx-a100-nccl-topo-xml-nccl1505.txt";
    private final NcclTopoXmlParser parser = new NcclTopoXmlParser();

    /** The NCCL XML section of the real file (from its first tag), with file line numbers. */
    private static TopologySource fragment() {
        TopologySource all = Dumps.load(DGX);
        int first = Dumps.lineOf(all, "<pci busid=");
        return all.slice(first - 1, all.lines().size());
    }

    @Test
    void gpuAndNicOfTheRealFragment() {
        MachineDTO m = parser.parse(fragment());
        assertThat(m.format).isEqualTo("nccl-topo-xml");
        assertThat(m.devices).extracting(d -> d.bdf).containsExactly("0000:07:00.0", "0000:0a:00.0", "0000:0c:00.0");
        DeviceDTO gpu = dev(m, "0000:07:00.0");
        assertThat(List.of(gpu.vendor, gpu.device, gpu.subsystemVendor, gpu.subsystemDevice, gpu.classCode, gpu.headerType))
                .containsExactly(0x10de, 0x20b0, 0x10de, 0x134f, 0x030200, 0);
        assertThat(gpu.linkSpeed).isEqualTo("16GT/s");
        assertThat(gpu.linkWidth).isEqualTo(16);
        assertThat(gpu.notes).contains("NCCL gpu: dev=0 sm=80 rank=0 gdr=1.");
        assertThat(gpu.notes).anyMatch(n -> n.startsWith("NCCL lists 6 NVLink targets: 0000:c7:00.0 x2"));
        DeviceDTO nic = dev(m, "0000:0c:00.0");
        assertThat(List.of(nic.vendor, nic.device, nic.classCode)).containsExactly(0x15b3, 0x101b, 0x020700);
        assertThat(nic.notes).anyMatch(n -> n.startsWith("NCCL net mlx5_0:") && n.contains("gdr=1"));
    }

    @Test
    void nicSitsBelowTheSwitchBridge() {
        MachineDTO m = parser.parse(fragment());
        DeviceDTO sw = dev(m, "0000:0a:00.0");
        assertThat(List.of(sw.vendor, sw.device, sw.classCode, sw.headerType)).containsExactly(0x1000, 0xc010, 0x060400, 1);
        // NCCL skips the downstream port on bus 0b between the switch's upstream port and the NIC
        assertThat(sw.secondaryBus).isEqualTo(0x0b);
        assertThat(sw.subordinateBus).isEqualTo(0x0c);
        int nicBus = 0x0c;
        assertThat(nicBus).isGreaterThan(sw.secondaryBus).isLessThanOrEqualTo(sw.subordinateBus);
        assertThat(sw.notes).anyMatch(n -> n.contains("not closed in the fragment"));
        assertThat(dev(m, "0000:07:00.0").secondaryBus).isNull();
    }

    @Test
    void fragmentIsReportedAsPartial() {
        MachineDTO m = parser.parse(fragment());
        assertThat(m.notes).anyMatch(n -> n.startsWith("Partial NCCL topology")
                && n.contains("2 end tag(s) without their start tags") && n.contains("1 element(s) not closed"));
        assertThat(m.hostBridges).isEmpty();
        assertThat(m.cpu).isNull();
        assertThat(m.devices).allSatisfy(d -> assertThat(d.numaNode).isNull());
    }

    @Test
    void wholeFileWithMatrixIsRejectedAtTheMatrix() {
        TopologySource all = Dumps.load(DGX);
        int matrix = Dumps.lineOf(all, "GPU0    GPU1");
        assertThatThrownBy(() -> parser.parse(all)).isInstanceOfSatisfying(TopologyFormatException.class, e -> {
            assertThat(e.line()).isEqualTo(matrix);
            assertThat(e.getMessage()).contains("not an NCCL topology tag");
        });
    }

    @Test
    void completeDumpWithCpuAndSkippedLevels() {
        String xml = """
                <system version="1">
                  <cpu numaid="3" affinity="ffff0000" arch="x86_64" vendor="AuthenticAMD" familyid="23" modelid="49">
                    <pci busid="0000:01:00.0" class="0x060400" vendor="0x1000" device="0xc010" link_speed="16.0 GT/s PCIe" link_width="16">
                      <pci busid="0000:03:00.0" class="0x060400" vendor="0x1000" device="0xc010" link_speed="16.0 GT/s PCIe" link_width="16">
                        <pci busid="0000:07:00.0" class="0x030200" vendor="0x10de" device="0x20b0" link_speed="2.5 GT/s PCIe" link_width="16">
                          <gpu dev="0" sm="80" rank="0" gdr="1"/>
                        </pci>
                      </pci>
                      <pci busid="0000:0a:00.0" class="0x060400" vendor="0x1000" device="0xc010" link_speed="" link_width="">
                        <pci busid="0000:0c:00.0" class="0x020700" vendor="0x15b3" device="0x101b">
                          <nic><net name="mlx5_0" dev="0" speed="200000" port="1" gdr="1"/></nic>
                        </pci>
                        <pci busid="0000:0c:00.1" class="0x020700" vendor="0x15b3" device="0x101b"/>
                      </pci>
                    </pci>
                  </cpu>
                </system>
                """;
        MachineDTO m = parser.parse(TopologySource.ofText("dgx.xml", xml));
        assertThat(m.notes).noneMatch(n -> n.startsWith("Partial"));
        assertThat(m.devices).hasSize(6).allSatisfy(d -> assertThat(d.numaNode).isEqualTo(3));
        assertThat(m.cpu.vendor).isEqualTo("AuthenticAMD");
        assertThat(m.cpu.family).isEqualTo(23);
        assertThat(m.cpu.model).isEqualTo(49);
        assertThat(m.cpu.sockets).isNull();
        assertThat(m.arch).isEqualTo("x86_64");
        DeviceDTO top = dev(m, "0000:01:00.0");
        assertThat(List.of(top.secondaryBus, top.subordinateBus)).containsExactly(0x02, 0x0c);
        DeviceDTO level2 = dev(m, "0000:03:00.0");
        assertThat(level2.secondaryBus).isNull();
        assertThat(level2.subordinateBus).isEqualTo(0x07);
        assertThat(level2.notes).anyMatch(n -> n.contains("secondary bus is between 04 and 06"));
        assertThat(dev(m, "0000:0a:00.0").secondaryBus).isEqualTo(0x0b);
        assertThat(dev(m, "0000:0a:00.0").linkSpeed).isNull();
        assertThat(dev(m, "0000:07:00.0").linkSpeed).isEqualTo("2.5GT/s");
        assertThat(dev(m, "0000:0c:00.1").multifunction).isTrue();
    }

    @Test
    void tagCutInTheMiddleNamesTheLine() {
        TopologySource full = fragment();
        int nic = Dumps.lineOf(full, "busid=\"0000:0c:00.0\"");
        TopologySource cut = full.slice(0, nic - full.firstLine() + 1);
        List<String> lines = new java.util.ArrayList<>(cut.lines());
        lines.set(lines.size() - 1, lines.get(lines.size() - 1).substring(0, 50));
        TopologySource src = new TopologySource(cut.name(), lines, cut.firstLine(), cut.directory());
        assertThatThrownBy(() -> parser.parse(src)).isInstanceOfSatisfying(TopologyFormatException.class, e -> {
            assertThat(e.file()).isEqualTo(src.name());
            assertThat(e.line()).isEqualTo(nic);
            assertThat(e.getMessage()).contains(src.name() + ":" + nic + ":");
        });
    }

    @Test
    void mismatchedEndTagBadBusIdAndDuplicates() {
        String mismatched = "<pci busid=\"0000:01:00.0\">\n  <gpu dev=\"0\">\n</pci>\n";
        assertThatThrownBy(() -> parser.parse(TopologySource.ofText("a.xml", mismatched)))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("</pci> does not close <gpu> opened at line 2");
                });
        String badId = "<pci busid=\"0000:01:00.0\">\n  <pci busid=\"0000:0x:00.0\"/>\n</pci>\n";
        assertThatThrownBy(() -> parser.parse(TopologySource.ofText("b.xml", badId)))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(2));
        String dup = "<pci busid=\"0000:01:00.0\">\n  <pci busid=\"0000:03:00.0\"/>\n  <pci busid=\"0000:03:00.0\"/>\n</pci>\n";
        assertThatThrownBy(() -> parser.parse(TopologySource.ofText("c.xml", dup)))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("duplicate PCI address 0000:03:00.0");
                });
        String upward = "<pci busid=\"0000:05:00.0\">\n  <pci busid=\"0000:03:00.0\"/>\n</pci>\n";
        assertThatThrownBy(() -> parser.parse(TopologySource.ofText("d.xml", upward)))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(2));
        String badClass = "<pci busid=\"0000:05:00.0\" class=\"0xzz\"/>\n";
        assertThatThrownBy(() -> parser.parse(TopologySource.ofText("e.xml", badClass)))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(1));
    }

    @Test
    void probe() {
        assertThat(parser.probe(fragment())).isEqualTo(90);
        assertThat(parser.probe(Dumps.load("hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt"))).isZero();
        assertThat(parser.probe(Dumps.load("hwloc-skylake-sp-multi-root-bus-3rc.txt"))).isZero();
    }
}
