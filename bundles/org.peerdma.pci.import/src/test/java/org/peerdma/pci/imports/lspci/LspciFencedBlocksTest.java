package org.peerdma.pci.imports.lspci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.pci.imports.lspci.LspciDellR730Test.assertBar;
import static org.peerdma.pci.imports.lspci.LspciDellR730Test.bar;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

/**
 * The "$ sudo lspci -vvv -s BDF" blocks of the two stelline markdown files (ASUS ESC8000A-E12
 * Genoa and Puget WRX90), sliced fence to fence; their detail lines are indented with spaces.
 */
class LspciFencedBlocksTest {
    private static final String ASUS = "asus-esc8000a-e12-genoa.txt";
    private static final String PUGET = "puget-wrx90-threadripper-pro.txt";
    private static final long K = 1024;
    private static final long M = K * K;
    private static final long G = M * K;

    private static DeviceDTO only(String file, String command) {
        TopologySource block = LspciDumps.fenced(LspciDumps.real(file), command);
        MachineDTO m = LspciVerboseParser.parse(block);
        assertThat(m.devices).hasSize(1);
        assertThat(m.format).isEqualTo(LspciVerboseParser.FORMAT_VVV);
        return m.devices.get(0);
    }

    @Test
    void asusGpuBars() {
        DeviceDTO gpu = only(ASUS, "sudo lspci -vvv -s 01:00.0");
        assertThat(gpu.bdf).isEqualTo("0000:01:00.0");
        assertThat(gpu.classCode).as("VGA, prog-if 00").isEqualTo(0x030000);
        assertThat(gpu.vendorName).isEqualTo("NVIDIA Corporation");
        assertThat(gpu.deviceName).isEqualTo("AD102GL [RTX 6000 Ada Generation]");
        assertThat(gpu.revision).isEqualTo(0xa1);
        assertBar(gpu, 0, 0xf8000000L, 16 * M, false, false);
        assertBar(gpu, 1, 0x3f000000000L, 64 * G, true, true);
        assertBar(gpu, 3, 0x40000000000L, 32 * M, true, true);
        BarDTO io = bar(gpu, 5);
        assertThat(io.io).isTrue();
        assertThat(io.start).isEqualTo(0x2000L);
        assertThat(io.size).isEqualTo(128);
        BarDTO rom = bar(gpu, 6);
        assertThat(rom.start).as("[virtual] ROM keeps its address").isEqualTo(0xf9000000L);
        assertThat(rom.size).isEqualTo(512 * K);
        assertThat(rom.disabled).isTrue();
        assertThat(gpu.bars).hasSize(5);
        assertThat(gpu.portType).isEqualTo("LEGACY_ENDPOINT");
        assertThat(gpu.linkSpeed).isEqualTo("2.5GT/s");
        assertThat(gpu.linkWidth).isEqualTo(16);
        assertThat(gpu.numaNode).isZero();
        assertThat(gpu.driver).isEqualTo("nvidia");
        assertThat(gpu.extendedCapsKnown).isTrue();
        assertThat(gpu.acs).as("no ACS capability listed").isNull();
        assertThat(gpu.capabilities).filteredOn(c -> c.extended).extracting(c -> c.offset + "=" + c.id)
                .containsExactly(0x100 + "=" + 0x02, 0x250 + "=" + 0x18, 0x258 + "=" + 0x1e, 0x128 + "=" + 0x04,
                        0x420 + "=" + 0x01, 0x600 + "=" + 0x0b, 0x900 + "=" + 0x19, 0xbb0 + "=" + 0x15,
                        0xc1c + "=" + 0x26, 0xd00 + "=" + 0x27, 0xe00 + "=" + 0x25);
        assertThat(gpu.notes).isEmpty();
    }

    @Test
    void asusNicAcsAndSriovRegionNotCountedAsBar() {
        DeviceDTO nic = only(ASUS, "sudo lspci -vvv -s 21:00.0");
        assertThat(nic.classCode).isEqualTo(0x020000);
        assertThat(nic.vendorName).isEqualTo("Mellanox Technologies");
        assertThat(nic.deviceName).isEqualTo("MT2910 Family [ConnectX-7]");
        assertThat(nic.revision).as("no '(rev ..)': revision 0").isZero();
        assertThat(nic.bars).as("the SR-IOV VF 'Region 0' line is nested, not a BAR of the PF")
                .extracting(b -> b.index).containsExactly(0, 6);
        assertBar(nic, 0, 0x500aa000000L, 32 * M, true, true);
        assertThat(nic.portType).isEqualTo("ENDPOINT");
        assertThat(nic.linkSpeed).isEqualTo("32GT/s");
        assertThat(nic.driver).isEqualTo("mlx5_core");
        assertThat(nic.acs).isNotNull();
        assertThat(nic.acs.offset).isEqualTo(0x230);
        assertThat(nic.acs.cap).as("ACSCap: all '-'").isZero();
        assertThat(nic.acs.ctrl).as("ACSCtl: all '-'").isZero();
        assertThat(nic.capabilities).anyMatch(c -> c.offset == 0x3b0 && c.id == 0x2a && c.extended);
        assertThat(nic.capabilities).anyMatch(c -> c.offset == 0x180 && c.id == 0x10);
        assertThat(nic.capabilities).anyMatch(c -> c.offset == 0x150 && c.id == 0x0e);
        assertThat(nic.capabilities).anyMatch(c -> c.offset == 0x9c && c.id == 0x11 && !c.extended);
    }

    @Test
    void asusHighPointIoBarsAndSataCapability() {
        DeviceDTO hpt = only(ASUS, "sudo lspci -vvv -s b1:00.0");
        assertThat(hpt.classCode).isEqualTo(0x010400);
        assertThat(hpt.vendorName).isEqualTo("HighPoint Technologies, Inc.");
        assertThat(hpt.numaNode).isEqualTo(1);
        assertThat(hpt.bars).filteredOn(b -> b.io).extracting(b -> b.index + "@" + Long.toHexString(b.start)
                + "/" + b.size).containsExactly("0@b050/8", "1@b040/4", "2@b030/8", "3@b020/4", "4@b000/32");
        assertBar(hpt, 5, 0xa3810000L, 2 * K, false, false);
        assertThat(hpt.capabilities).anyMatch(c -> c.offset == 0xe0 && c.id == 0x12);
        assertThat(hpt.portType).isEqualTo("LEGACY_ENDPOINT");
        assertThat(hpt.linkWidth).isEqualTo(1);
        assertThat(hpt.acs).isNull();
        assertThat(hpt.extendedCapsKnown).isTrue();
    }

    @Test
    void pugetGpuBlockWithSudoPrompt() {
        DeviceDTO gpu = only(PUGET, "sudo lspci -vvv -s c1:00.0");
        assertThat(gpu.bdf).isEqualTo("0000:c1:00.0");
        assertBar(gpu, 1, 0x13000000000L, 64 * G, true, true);
        assertBar(gpu, 3, 0x14000000000L, 32 * M, true, true);
        assertThat(gpu.numaNode).as("this block prints no NUMA node").isNull();
        assertThat(gpu.portType).isEqualTo("LEGACY_ENDPOINT");
    }

    @Test
    void pugetNicAndRaidBlocks() {
        DeviceDTO nic = only(PUGET, "sudo lspci -vvv -s 21:00.0");
        assertBar(nic, 0, 0x18802000000L, 32 * M, true, true);
        assertThat(nic.acs.offset).isEqualTo(0x230);
        assertThat(nic.acs.ctrl).isZero();
        DeviceDTO raid = only(PUGET, "sudo lspci -vvv -s 11:00.0");
        assertThat(raid.bdf).isEqualTo("0000:11:00.0");
        assertThat(bar(raid, 4).size).isEqualTo(32);
        assertThat(bar(raid, 6).start).isEqualTo(0xf7800000L);
    }

    @Test
    void acsCtlGrepOutputIsNotAListing() {
        TopologySource whole = LspciDumps.real(ASUS);
        TopologySource block = LspciDumps.fenced(whole, "sudo lspci -vvv | grep ACSCtl");
        int grep = LspciDumps.indexOf(whole, "sudo lspci -vvv | grep ACSCtl", 0);
        int firstAcsCtl = LspciDumps.indexOf(whole, "ACSCtl: SrcValid-", grep);
        assertThatThrownBy(() -> LspciVerboseParser.parse(block))
                .isInstanceOf(TopologyFormatException.class)
                .satisfies(e -> assertThat(((TopologyFormatException) e).line()).isEqualTo(firstAcsCtl + 1))
                .hasMessageContaining(ASUS + ":" + (firstAcsCtl + 1) + ":")
                .hasMessageContaining("not inside a device record");
    }

    @Test
    void wholeMarkdownFileIsRejectedAtItsFirstForeignLine() {
        // the file starts with an lspci -tv block: its first tree line is not a device header
        TopologySource whole = LspciDumps.real(PUGET);
        int tree = LspciDumps.indexOf(whole, "-+-[0000:00]", 0);
        assertThatThrownBy(() -> LspciVerboseParser.parse(whole))
                .isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining(PUGET + ":" + (tree + 1) + ":");
        assertThat(LspciVerboseParser.probe(whole)).isLessThan(50);
    }
}
