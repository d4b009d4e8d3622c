package org.peerdma.pci.imports.hwloc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

/**
 * hwloc and NCCL XML nested far deeper than any machine: 20,000 PCI devices each inside the previous one, and
 * 200,000 levels of other elements. The results are those of shallow nesting (NUMA node, bridge buses,
 * placement notes), and nothing recurses as deep as the nesting (benchmarks/NestedXmlBenchmarks has the times).
 */
class DeepNestingTest {
    private static final int DEPTH = 20_000;

    /** Level i's bus: 01..ff, then again. */
    private static int bus(int i) {
        return 1 + (i / 256) % 255;
    }

    private static String bdf(int i) {
        return String.format(Locale.ROOT, "0000:%02x:%02x.%d", bus(i), (i / 8) % 32, i % 8);
    }

    /**
     * A host bridge and {@code depth} PCI bridges each inside the previous one, each bridge's secondary bus the
     * next one's bus, except that bridge {@code wrong} claims bus ff (its child is then misplaced).
     * @param numa hwloc 1.x layout: the host bridge inside a NUMANode of this os_index; else hwloc 2.x (a
     *        nodeset on the Machine)
     */
    static String hwloc(int depth, Integer numa, int wrong) {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<topology>\n");
        sb.append(numa == null ? "<object type=\"Machine\" os_index=\"0\" cpuset=\"0x1\" nodeset=\"0x00000002\">\n"
                : "<object type=\"Machine\" os_index=\"0\">\n<object type=\"NUMANode\" os_index=\"" + numa + "\">\n");
        sb.append("<object type=\"Bridge\" bridge_type=\"0-1\" bridge_pci=\"0000:[00-ff]\">\n");
        for (int i = 0; i < depth; i++) {
            sb.append(String.format(Locale.ROOT, "<object type=\"Bridge\" bridge_type=\"1-1\" bridge_pci=\"0000:[%02x-ff]\""
                    + " pci_busid=\"%s\" pci_type=\"0604 [10b5:8747] [0000:0000] ca\">%n", i == wrong ? 0xff : bus(i + 1),
                    bdf(i)));
        }
        sb.append("<object type=\"PCIDev\" pci_busid=\"0000:ff:1f.7\" pci_type=\"0302 [10de:20b0] [10de:134f] a1\"/>\n");
        sb.append("</object>\n".repeat(depth + 1)).append(numa == null ? "" : "</object>\n");
        return sb.append("</object>\n</topology>\n").toString();
    }

    @Test
    void twentyThousandNestedHwlocBridgesKeepTheirBusesAndNumaNode() {
        MachineDTO m = new HwlocXmlParser().parse(TopologySource.ofText("nested.xml", hwloc(DEPTH, null, -1)));
        assertThat(m.devices).hasSize(DEPTH + 1);
        assertThat(m.hostBridges).singleElement().satisfies(h -> assertThat(h.numaNode).isEqualTo(1));
        List<String> wrong = new ArrayList<>(); // one assertion, not 20,000
        for (int i = 0; i < DEPTH; i++) {
            DeviceDTO d = m.devices.get(i);
            List<Object> want = List.of(bdf(i), 1, bus(i + 1), 0xff, 1, 0x10b5, 0x8747);
            List<Object> got = Arrays.asList(d.bdf, d.headerType, d.secondaryBus, d.subordinateBus, d.numaNode, d.vendor,
                    d.device);
            if (!want.equals(got)) {
                wrong.add(i + ": " + got + " instead of " + want);
            }
        }
        assertThat(wrong).isEmpty();
        DeviceDTO gpu = m.devices.get(DEPTH);
        assertThat(List.of(gpu.bdf, gpu.classCode, gpu.numaNode)).containsExactly("0000:ff:1f.7", 0x030200, 1);
        // the last bridge forwards to bus bus(DEPTH), not ff: the GPU is misplaced, and the only one
        assertThat(m.notes.stream().filter(n -> n.contains(" is listed below "))).containsExactly(String.format(
                Locale.ROOT, "0000:ff:1f.7 is listed below bridge %s whose secondary bus is %02x.", bdf(DEPTH - 1),
                bus(DEPTH)));
    }

    @Test
    void aMisplacedDeviceDeepInsideIsNotedOnceAndTheNumaNodeOfAnEnclosingNumaNodeIsInherited() {
        int wrong = 12_345;
        MachineDTO m = new HwlocXmlParser().parse(TopologySource.ofText("nested.xml", hwloc(DEPTH, 3, wrong)));
        assertThat(m.devices).hasSize(DEPTH + 1);
        assertThat(m.devices.stream().filter(d -> !Integer.valueOf(3).equals(d.numaNode)).map(d -> d.bdf)).isEmpty();
        assertThat(m.notes.stream().filter(n -> n.contains(" is listed below "))).containsExactly(
                String.format(Locale.ROOT, "%s is listed below bridge %s whose secondary bus is ff.", bdf(wrong + 1),
                        bdf(wrong)),
                String.format(Locale.ROOT, "0000:ff:1f.7 is listed below bridge %s whose secondary bus is %02x.",
                        bdf(DEPTH - 1), bus(DEPTH)));
    }

    @Test
    void twoHundredThousandNestedHwlocObjectsDoNotOverflowTheStack() {
        int n = 200_000;
        String xml = "<topology>\n<object type=\"Machine\" nodeset=\"0x1\">\n"
                + "<object type=\"Bridge\" bridge_type=\"0-1\" bridge_pci=\"0000:[00-ff]\">\n"
                + "<object type=\"Misc\">".repeat(n) + "\n"
                + "<object type=\"PCIDev\" pci_busid=\"0000:01:00.0\" pci_type=\"0200 [8086:1572] [8086:0000] 01\"/>\n"
                + "</object>".repeat(n) + "\n</object>\n</object>\n</topology>\n";
        MachineDTO m = new HwlocXmlParser().parse(TopologySource.ofText("misc.xml", xml));
        assertThat(m.devices).singleElement().satisfies(d -> {
            assertThat(d.bdf).isEqualTo("0000:01:00.0");
            assertThat(d.numaNode).isZero();
        });
        assertThat(m.notes).noneMatch(s -> s.contains("listed below"));
    }

    /** A cpu, then {@code depth} nested nic levels each holding one empty pci element. */
    static String nccl(int depth) {
        StringBuilder sb = new StringBuilder("<system version=\"1\">\n<cpu numaid=\"2\" arch=\"x86_64\" vendor=\"AuthenticAMD\""
                + " familyid=\"23\" modelid=\"49\">\n");
        for (int i = 0; i < depth; i++) {
            sb.append("<nic>\n<pci busid=\"").append(bdf(i)).append("\" class=\"0x020000\" vendor=\"0x15b3\""
                    + " device=\"0x101b\" link_speed=\"16.0 GT/s PCIe\" link_width=\"16\"/>\n");
        }
        return sb.append("</nic>\n".repeat(depth)).append("</cpu>\n</system>\n").toString();
    }

    @Test
    void twentyThousandNestedNcclLevelsKeepTheirNumaNode() {
        MachineDTO m = new NcclTopoXmlParser().parse(TopologySource.ofText("nested.xml", nccl(DEPTH)));
        assertThat(m.devices).hasSize(DEPTH);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < DEPTH; i++) {
            DeviceDTO d = m.devices.get(i);
            List<Object> want = List.of(bdf(i), 2, 0, 0x020000, 16, "16GT/s");
            List<Object> got = Arrays.asList(d.bdf, d.numaNode, d.headerType, d.classCode, d.linkWidth, d.linkSpeed);
            if (!want.equals(got)) {
                wrong.add(i + ": " + got + " instead of " + want);
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(m.cpu.family).isEqualTo(23);
        assertThat(m.notes).noneMatch(n -> n.startsWith("Partial"));
    }

    @Test
    void twoHundredThousandNestedNcclElementsAndAPciChainDoNotOverflowTheStack() {
        int n = 200_000;
        StringBuilder chain = new StringBuilder();
        for (int b = 1; b <= 255; b++) { // the deepest <pci> nesting there can be: a new bus at every level
            chain.append(String.format(Locale.ROOT, "<pci busid=\"0000:%02x:00.0\" class=\"0x060400\">", b));
        }
        String xml = "<system version=\"1\">\n<cpu numaid=\"0\">\n" + "<x>".repeat(n) + "\n" + chain + "\n"
                + "</pci>".repeat(255) + "\n" + "</x>".repeat(n) + "\n</cpu>\n</system>\n";
        MachineDTO m = new NcclTopoXmlParser().parse(TopologySource.ofText("deep.xml", xml));
        assertThat(m.devices).hasSize(255);
        DeviceDTO first = m.devices.get(0);
        assertThat(List.of(first.secondaryBus, first.subordinateBus, first.numaNode)).containsExactly(2, 0xff, 0);
    }
}
