package org.peerdma.pci.imports.lspci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

/** One-line listings: the "lspci | grep PLX" block of the NCCL issue #19 dump, and -nn lines. */
class LspciOneLineTest {
    private static final String SUPERMICRO = "supermicro-7048gr-tr-plx-k80-nccl19.txt";

    private static TopologySource plxBlock() {
        TopologySource whole = LspciDumps.real(SUPERMICRO);
        int first = LspciDumps.indexOf(whole, "03:00.0 PCI bridge: PLX", 0);
        int end = LspciDumps.indexOf(whole, "# (excerpt ends here", first);
        return whole.slice(first, end);
    }

    @Test
    void ninePex8747Bridges() {
        MachineDTO m = LspciVerboseParser.parse(plxBlock());
        assertThat(m.format).isEqualTo(LspciVerboseParser.FORMAT_ONE_LINE);
        assertThat(m.devices).extracting(d -> d.bdf).containsExactly("0000:03:00.0", "0000:04:08.0",
                "0000:04:10.0", "0000:82:00.0", "0000:83:08.0", "0000:83:10.0", "0000:86:00.0", "0000:87:08.0",
                "0000:87:10.0");
        for (DeviceDTO d : m.devices) {
            assertThat(d.classCode).as(d.bdf).isEqualTo(0x060400);
            assertThat(d.className).isEqualTo("PCI bridge");
            assertThat(d.headerType).isEqualTo(1);
            assertThat(d.vendorName).isEqualTo("PLX Technology, Inc.");
            assertThat(d.deviceName).isEqualTo("PEX 8747 48-Lane, 5-Port PCI Express Gen 3 (8.0 GT/s) Switch");
            assertThat(d.revision).isEqualTo(0xca);
            assertThat(d.vendor).isNull();
            assertThat(d.portType).as("no capability list in a one-line listing").isNull();
            assertThat(d.extendedCapsKnown).isNull();
            assertThat(d.secondaryBus).isNull();
            assertThat(d.bars).isEmpty();
            assertThat(d.acs).isNull();
        }
        assertThat(m.notes).contains("lspci one-line listing: no bus ranges, BARs or ACS");
        assertThat(LspciVerboseParser.probe(plxBlock())).isEqualTo(50);
    }

    @Test
    void wholeSupermicroFileProbesLow() {
        assertThat(LspciVerboseParser.probe(LspciDumps.real(SUPERMICRO))).isLessThan(50);
    }

    @Test
    void minusNnOneLine() {
        TopologySource src = new TopologySource("nn.txt", List.of(
                "00:00.0 Host bridge [0600]: Intel Corporation Sky Lake-E DMI3 Registers [8086:2020] (rev 04)",
                "00:05.0 System peripheral [0880]: Intel Corporation Device [8086:2024] (rev 04)",
                "17:00.0 PCI bridge [0604]: Broadcom / LSI PEX880xx PCIe Gen 4 Switch [1000:c010] (rev b0)",
                "b3:00.0 Non-Volatile memory controller [0108]: Sandisk Corp WD Black SN750 [15b7:5006]",
                "ff:1f.2 Unassigned class [ff00]: Acme Widgets Frobnicator [1ded:0001] (rev 01)"),
                1, java.util.Optional.empty());
        MachineDTO m = LspciVerboseParser.parse(src);
        DeviceDTO hb = LspciDumps.device(m, "0000:00:00.0");
        assertThat(hb.classCode).isEqualTo(0x060000);
        assertThat(hb.vendor).isEqualTo(0x8086);
        assertThat(hb.device).isEqualTo(0x2020);
        assertThat(hb.vendorName).isEqualTo("Intel Corporation");
        assertThat(hb.deviceName).isEqualTo("Sky Lake-E DMI3 Registers");
        assertThat(hb.revision).isEqualTo(4);
        assertThat(hb.headerType).as("one-line listing: header type of a non-bridge unknown").isNull();
        DeviceDTO unnamed = LspciDumps.device(m, "0000:00:05.0");
        assertThat(unnamed.vendorName).isEqualTo("Intel Corporation");
        assertThat(unnamed.deviceName).isNull();
        assertThat(unnamed.device).isEqualTo(0x2024);
        DeviceDTO sw = LspciDumps.device(m, "0000:17:00.0");
        assertThat(sw.vendorName).isEqualTo("Broadcom / LSI");
        assertThat(sw.deviceName).isEqualTo("PEX880xx PCIe Gen 4 Switch");
        assertThat(sw.headerType).isEqualTo(1);
        DeviceDTO nvme = LspciDumps.device(m, "0000:b3:00.0");
        assertThat(nvme.classCode).as("one-line: prog-if unknown, left 0").isEqualTo(0x010800);
        assertThat(nvme.revision).isZero();
        DeviceDTO odd = LspciDumps.device(m, "0000:ff:1f.2");
        assertThat(odd.vendor).isEqualTo(0x1ded);
        assertThat(odd.vendorName).as("unknown vendor: not split").isNull();
        assertThat(odd.deviceName).isEqualTo("Acme Widgets Frobnicator");
        assertThat(odd.classCode).isEqualTo(0xff0000);
        assertThat(m.notes).noneMatch(n -> n.contains("without -nn"));
    }

    @Test
    void minusNOneLineAndDomains() {
        TopologySource src = new TopologySource("n.txt", List.of(
                "0000:00:00.0 0600: 8086:2020 (rev 04)",
                "0001:c1:00.0 0302: 10de:15f8 (rev a1)"), 7, java.util.Optional.empty());
        MachineDTO m = LspciVerboseParser.parse(src);
        DeviceDTO gpu = LspciDumps.device(m, "0001:c1:00.0");
        assertThat(gpu.classCode).isEqualTo(0x030200);
        assertThat(gpu.vendor).isEqualTo(0x10de);
        assertThat(gpu.device).isEqualTo(0x15f8);
        assertThat(gpu.className).isNull();
        assertThat(gpu.vendorName).isNull();
    }
}
