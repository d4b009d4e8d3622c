package org.peerdma.pci.imports.lspci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.spi.TopologySource;

/**
 * Malformed listings: every error is EINVAL and names the file and the 1-based file line. The
 * sources start at line 100 (as a section cut out of a larger document would) to prove the
 * numbers are file lines, not list indices.
 */
class LspciMalformedTest {
    private static final String FILE = "dumps/broken.txt";
    private static final int FIRST = 100;
    private static final String DELL = "dell-r730-broadwell-ep-2xp100-nvme.txt";

    private static final String GOOD_HEADER =
            "04:00.0 3D controller: NVIDIA Corporation GP100GL [Tesla P100 PCIe 12GB] (rev a1)";
    private static final String CONTROL =
            "\tControl: I/O+ Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr- Stepping- SERR- FastB2B- DisINTx+";

    private static AbstractThrowableAssert<?, ? extends Throwable> fails(int lineOffset, String... lines) {
        TopologySource src = new TopologySource(FILE, List.of(lines), FIRST, Optional.empty());
        int line = FIRST + lineOffset;
        return assertThatThrownBy(() -> LspciVerboseParser.parse(src))
                .isInstanceOf(TopologyFormatException.class)
                .satisfies(e -> {
                    TopologyFormatException t = (TopologyFormatException) e;
                    assertThat(t.file()).isEqualTo(FILE);
                    assertThat(t.line()).isEqualTo(line);
                    assertThat(t.errno()).isEqualTo(Errno.EINVAL);
                })
                .hasMessageStartingWith("EINVAL: " + FILE + ":" + line + ": ");
    }

    @Test
    void detailLineBeforeAnyHeader() {
        fails(1, "```", "\tSubsystem: NVIDIA Corporation Device 11da", GOOD_HEADER, CONTROL)
                .hasMessageContaining("not inside a device record");
    }

    @Test
    void detailLineAfterARecordEndedWithABlankLine() {
        fails(3, GOOD_HEADER, CONTROL, "", "\tNUMA node: 0").hasMessageContaining("not inside a device record");
    }

    @Test
    void malformedAddressInHeader() {
        fails(2, GOOD_HEADER, CONTROL, "04:1g.0 3D controller: NVIDIA Corporation GP100GL", CONTROL)
                .hasMessageContaining("'04:1g.0' is not a PCI address");
        fails(0, "04:00.8 3D controller: NVIDIA Corporation GP100GL").hasMessageContaining("not a PCI address");
        fails(0, "4:00.0 3D controller: NVIDIA Corporation GP100GL").hasMessageContaining("not a PCI address");
        fails(0, "04:20.0 3D controller: NVIDIA Corporation GP100GL").hasMessageContaining("0x20");
        fails(0, "04:00.0 3D controller NVIDIA Corporation GP100GL").hasMessageContaining("no 'class: name'");
    }

    @Test
    void foreignTextIsNotAHeader() {
        fails(1, "# lspci -vvv", "Legend:", GOOD_HEADER).hasMessageContaining("'Legend:' is not a PCI address");
    }

    @Test
    void duplicateAddress() {
        fails(3, GOOD_HEADER, CONTROL, "", "0000:04:00.0 3D controller: NVIDIA Corporation GP100GL", CONTROL)
                .hasMessageContaining("duplicate device 0000:04:00.0")
                .hasMessageContaining("line " + FIRST);
    }

    @Test
    void regionSizeThatDoesNotParse() {
        fails(2, GOOD_HEADER, CONTROL, "\tRegion 0: Memory at 91000000 (32-bit, non-prefetchable) [size=16Q]")
                .hasMessageContaining("cannot parse size '16Q'");
    }

    @Test
    void truncatedRegionLine() {
        fails(2, GOOD_HEADER, CONTROL, "\tRegion 1: Memory at 3b800000000 (64-bit, prefetch")
                .hasMessageContaining("truncated BAR line");
        fails(2, GOOD_HEADER, CONTROL, "\tRegion 1: Memory at 3b800000000 (64-bit, prefetchable) [size=16")
                .hasMessageContaining("truncated");
        fails(2, GOOD_HEADER, CONTROL, "\tRegion 7: Memory at 3b800000000 (64-bit, prefetchable) [size=16G]")
                .hasMessageContaining("BARs 0-5");
    }

    @Test
    void bridgeWindowWhoseSizeContradictsItsRange() {
        fails(2, "00:02.0 PCI bridge: Intel Corporation Device 6f04 (rev 01)", CONTROL,
                "\tMemory behind bridge: 91000000-91ffffff [size=32M]")
                .hasMessageContaining("lspci printed a size of 0x2000000");
    }

    @Test
    void truncatedCapabilityHeader() {
        fails(2, GOOD_HEADER, CONTROL, "\tCapabilities: [90").hasMessageContaining("truncated capability header");
    }

    @Test
    void truncatedAcsLine() {
        fails(4, GOOD_HEADER, CONTROL, "\tCapabilities: [110 v1] Access Control Services",
                "\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-",
                "\t\tACSCtl:\tSrcValid- TransBlk- ReqRe").hasMessageContaining("truncated ACS line");
    }

    @Test
    void headerWithoutDetailsInAVerboseListing() {
        fails(3, GOOD_HEADER, CONTROL, "", "82:00.0 3D controller: NVIDIA Corporation GP100GL (rev a1)")
                .hasMessageContaining("0000:82:00.0 has no detail lines");
    }

    @Test
    void minusNnHeaderWithoutIds() {
        fails(0, "00:00.0 Host bridge [0600]: Intel Corporation Sky Lake-E DMI3 Registers (rev 04)")
                .hasMessageContaining("lacks the [vendor:device] IDs");
    }

    @Test
    void emptyListing() {
        fails(0, "```", "```").hasMessageContaining("no lspci device record");
    }

    @Test
    void realDumpCutInsideACapabilityHeader() {
        // the dell dump, cut after "\tCapabilities: [90" on the first record's Express line
        TopologySource whole = LspciDumps.real(DELL);
        int cut = LspciDumps.indexOf(whole, "\tCapabilities: [90] Express", 0);
        List<String> lines = new ArrayList<>(whole.lines().subList(0, cut));
        lines.add("\tCapabilities: [90");
        TopologySource truncated = new TopologySource(whole.name(), lines, 1, Optional.empty());
        assertThatThrownBy(() -> LspciVerboseParser.parse(truncated))
                .isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining(DELL + ":" + (cut + 1) + ": malformed or truncated capability header");
    }

    @Test
    void realDumpWithAMangledAddress() {
        TopologySource whole = LspciDumps.real(DELL);
        int gpu = LspciDumps.indexOf(whole, "04:00.0 3D controller", 0);
        List<String> lines = new ArrayList<>(whole.lines());
        lines.set(gpu, lines.get(gpu).replace("04:00.0", "04:00"));
        TopologySource mangled = new TopologySource(whole.name(), lines, 1, Optional.empty());
        assertThatThrownBy(() -> LspciVerboseParser.parse(mangled))
                .hasMessageContaining(DELL + ":" + (gpu + 1) + ": malformed device header");
    }

    @Test
    void probeNeverThrowsAndRejectsOtherFormats() {
        TopologySource tree = new TopologySource("tv.txt", List.of("-[0000:00]-+-00.0  Intel Corporation Device 2020",
                "           +-01.0-[01]----00.0  NVIDIA Corporation Device 1db6"), 1, Optional.empty());
        assertThat(LspciVerboseParser.probe(tree)).isZero();
        TopologySource mm = new TopologySource("mm.txt",
                List.of("00:00.0 \"Host bridge\" \"Intel Corporation\" \"Device 2020\" -r04 \"\" \"\""), 1,
                Optional.empty());
        assertThat(LspciVerboseParser.probe(mm)).isZero();
        assertThatThrownBy(() -> LspciVerboseParser.parse(mm)).isInstanceOf(TopologyFormatException.class);
        assertThat(LspciVerboseParser.probe(new TopologySource("e", List.of(), 1, Optional.empty()))).isZero();
    }
}
