package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.sysfs.SysfsFuzzTrees;

/**
 * Input that is not a dump: refused with the file and line named, never an exception of the parser. The tests
 * below the first four are the inputs ImporterFuzzTest found (docs/fuzzing.md), each failing before its fix.
 */
class HostileInputTest {
    private final TopologyIOImpl io = RealDumpsTest.io();

    @TempDir
    Path tmp;

    private TopologyFormatException formatError(String name, String text) {
        return formatError(name, text, TopologyIO.AUTO);
    }

    private TopologyFormatException formatError(String name, String text, String format) {
        try {
            io.readText(name, text, format);
        } catch (TopologyFormatException ex) {
            assertThat(ex.getCause()).as("a parser failure the safety net caught: " + ex.getMessage()).isNull();
            return ex;
        }
        throw new AssertionError(name + " was read");
    }

    /** What a refusal says after naming the file and line: at most a few hundred characters, values clipped. */
    private static void assertClipped(TopologyFormatException ex) {
        String detail = ex.detail().substring(ex.file().length());
        assertThat(detail.length()).as(detail).isLessThan(400);
        assertThat(detail).doesNotContainPattern("(.)\\1{90}");
    }

    private TopologyFormatException sysfsError(Path dir) {
        try {
            io.read(dir, "sysfs");
        } catch (TopologyFormatException ex) {
            assertThat(ex.getCause()).as("a parser failure the safety net caught: " + ex.getMessage()).isNull();
            return ex;
        }
        throw new AssertionError(dir + " was read");
    }

    @Test
    void nullEntriesInATopologyFileNameTheirLine() {
        String head = "peerdma-topology: 1\nname: x\n";
        assertThat(formatError("a.yaml", head + "devices: [null]\n").line()).isEqualTo(3);
        assertThat(formatError("b.yaml", head + "hostBridges: [null]\ndevices: []\n").line()).isEqualTo(3);
        assertThat(formatError("c.yaml", head + "notes: [null]\ndevices: []\n").line()).isEqualTo(3);
        String dev = head + "devices:\n  - bdf: \"0000:00:00.0\"\n";
        assertThat(formatError("d.yaml", dev + "    bars: [null]\n").line()).isEqualTo(5);
        assertThat(formatError("e.yaml", dev + "    capabilities: [~]\n").line()).isEqualTo(5);
        assertThat(formatError("f.yaml", dev + "    bridgeWindows: [null]\n").line()).isEqualTo(5);
        assertThat(formatError("g.yaml", dev + "    notes: [null]\n").getMessage()).contains("g.yaml:5:");
    }

    @Test
    void outOfRangeNumbersInLspciFieldsAreFormatErrors() {
        String head = "00:00.0 Host bridge: Intel Corporation Device 2020\n";
        assertThat(formatError("r.txt", head + "\tRegion 99999999999: Memory at 1000 (32-bit) [size=4K]\n")
                .getMessage()).contains("r.txt:2:").contains("BARs 0-5");
        assertThat(formatError("n.txt", head + "\tNUMA node: 99999999999\n").getMessage()).contains("n.txt:2:")
                .contains("nodes are 0 to 1023");
        String exp = head + "\tCapabilities: [40] Express (v2) Root Port (Slot+), MSI 00\n";
        assertThat(formatError("w.txt", exp + "\t\tLnkSta:\tSpeed 8GT/s, Width x99999999999\n").getMessage())
                .contains("w.txt:3:").contains("x0 (down) to x32");
    }

    @Test
    void aMessageQuotesAtMostEightyCharactersOfAValue() {
        String huge = "x".repeat(10_000_000);
        TopologyFormatException ex = formatError("big.txt", "00:00.0 Host bridge: Intel\n\tRegion 0: " + huge + "\n");
        assertThat(ex.getMessage().length()).isLessThan(400);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void aFifoADeviceAndAnOversizedFileAreRefusedBeforeReading() throws Exception {
        Path fifo = tmp.resolve("fifo");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(p.waitFor()).isZero();
        assertThatThrownBy(() -> io.read(fifo, TopologyIO.AUTO)).isInstanceOf(KernelException.class)
                .hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> io.read(Path.of("/dev/zero"), TopologyIO.AUTO)).hasMessageContaining("not a regular file");
        Path big = tmp.resolve("big.txt");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(TopologyIOImpl.MAX_FILE + 1);
        }
        assertThatThrownBy(() -> io.read(big, TopologyIO.AUTO)).isInstanceOf(KernelException.class)
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EFBIG));
        Files.delete(big);
    }

    @Test
    void everyImporterQuotesAtMostEightyCharactersOfALongValue() throws Exception {
        String x = "x".repeat(10_000);
        String one = "1".repeat(10_000);
        assertClipped(formatError("a.xml", "<system version=\"1\">\n" + x + "\n", "nccl-topo-xml"));
        assertClipped(formatError("b.xml", "<pci busid=\"0000:01:00.0\" vendor=\"0x" + one + "\"/>\n", "nccl-topo-xml"));
        assertClipped(formatError("c.yaml", "peerdma-topology: 1\ndevices: '" + x + "'\n", "peerdma"));
        assertClipped(formatError("d.yaml", "peerdma-topology: 1\n" + x + ": 1\n", "peerdma"));
        assertClipped(formatError("e.txt", "-[0000:00]-+-00.0\n" + "(".repeat(10_000) + "\n", "lspci-tv"));
        assertClipped(formatError("f.xml", "<topology>\n<object type=\"PCIDev\" pci_busid=\"0000:01:00.0\" pci_type=\"" + x
                + "\"/>\n</topology>\n", "hwloc-xml"));
        assertClipped(formatError("g.xml", "<topology>\n<object type=\"Bridge\" bridge_type=\"0-1\" bridge_pci=\"" + x
                + "\"/>\n</topology>\n", "hwloc-xml"));
        assertClipped(formatError("h.txt", "HostBridge L#0 (buses=0000:[00-03] " + x + "\n", "lstopo-v"));
        assertClipped(formatError("i.txt", "PCI L#0 (busid=0000:01:00.0 class=" + x + ")\n", "lstopo-v"));
        Path flat = tmp.resolve("flat");
        Path dir = SysfsFuzzTrees.write(flat, 2);
        Files.writeString(dir.resolve("0000:00:00.0/vendor"), "0x" + one + "\n");
        assertClipped(sysfsError(dir));
        Files.writeString(dir.resolve("0000:00:00.0/vendor"), "0x8086\n");
        Files.writeString(dir.resolve("0000:00:00.0/numa_node"), "-" + one + "\n");
        assertClipped(sysfsError(dir));
        Files.writeString(dir.resolve("0000:00:00.0/numa_node"), "0\n");
        Files.writeString(dir.resolve("0000:00:00.0/resource"), "0x0 " + x + "\n");
        assertClipped(sysfsError(dir));
    }

    @Test
    void anNcclTagWithTwentyThousandAttributesDoesNotOverflowTheStack() {
        StringBuilder tag = new StringBuilder("<system version=\"1\">\n<gpu dev=\"0\"");
        for (int i = 0; i < 20_000; i++) {
            tag.append(" a").append(i).append("=\"1\"");
        }
        tag.append("/>\n<pci busid=\"0000:01:00.0\" class=\"0x030200\" vendor=\"0x10de\" device=\"0x20b0\"/>\n</system>\n");
        MachineDTO m = io.readText("attrs.xml", tag.toString(), TopologyIO.AUTO);
        assertThat(m.devices).extracting(d -> d.bdf).containsExactly("0000:01:00.0");
    }

    @Test
    void aChainOfTwentyThousandBridgesOnOneTreeLineDoesNotOverflowTheStack() {
        StringBuilder line = new StringBuilder("-[0000:00]---");
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            int round = i / 255; // buses 01..ff again and again, the slot and function telling the rounds apart
            line.append(String.format(Locale.ROOT, "%02x.%d-[%02x]----", round / 8 % 32, round % 8, 1 + i % 255));
        }
        line.append("1f.7\n");
        MachineDTO m = io.readText("chain.txt", line.toString(), "lspci-tv");
        assertThat(m.devices).hasSize(n + 1);
        DeviceDTO last = m.devices.stream().filter(d -> d.bdf.equals(String.format(Locale.ROOT, "0000:%02x:1f.7",
                1 + (n - 1) % 255))).findFirst().orElseThrow();
        assertThat(last.secondaryBus).isNull();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSysfsAttributeThatIsAFifoOrADeviceIsNotRead() throws Exception {
        Path dir = SysfsFuzzTrees.write(tmp.resolve("flat"), 2);
        Path vendor = dir.resolve("0000:00:00.0/vendor");
        Files.delete(vendor);
        Files.createSymbolicLink(vendor, Path.of("/dev/zero")); // reading it never ends
        Path config = dir.resolve("0000:00:01.0/config");
        Files.delete(config);
        Files.createSymbolicLink(config, Path.of("/dev/zero"));
        Path resource = dir.resolve("0000:03:00.0/resource");
        Files.delete(resource);
        Process p = new ProcessBuilder("mkfifo", resource.toString()).start(); // reading it waits for a writer
        assertThat(p.waitFor()).isZero();
        MachineDTO m = io.read(dir, "sysfs");
        assertThat(m.devices).hasSize(10);
        DeviceDTO host = m.devices.stream().filter(d -> d.bdf.equals("0000:00:00.0")).findFirst().orElseThrow();
        assertThat(host.notes).anyMatch(n -> n.contains("vendor is not a regular file"));
        assertThat(host.vendor).as("from config space").isEqualTo(0x8086);
        assertThat(m.devices.stream().filter(d -> d.bdf.equals("0000:03:00.0")).findFirst().orElseThrow().notes)
                .anyMatch(n -> n.contains("resource is not a regular file"));
    }

    @Test
    void aCopyOfAHostBridgeDirectoryUnderAnotherNameIsRead() throws Exception {
        Path sys = SysfsFuzzTrees.write(tmp.resolve("sys"), 0);
        Path from = sys.resolve("devices/pci0000:00");
        Path copy = tmp.resolve("mycopy");
        try (Stream<Path> s = Files.walk(from)) {
            for (Path f : s.sorted().toList()) {
                Path t = copy.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(t);
                } else if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.copy(f, t);
                }
            }
        }
        MachineDTO m = io.read(copy, "sysfs");
        assertThat(m.devices).hasSize(10);
        assertThat(m.hostBridges).extracting(h -> h.name).containsExactly("pci0000:00");
    }

    @Test
    void aSysfsFunctionOutsideThePciDomainsIsAFormatError() throws Exception {
        Path dir = SysfsFuzzTrees.write(tmp.resolve("flat"), 2);
        Path odd = Files.createDirectories(dir.resolve("ffffffff:00:00.0"));
        Files.writeString(odd.resolve("vendor"), "0x10de\n");
        TopologyFormatException ex = sysfsError(dir);
        assertThat(ex.file()).endsWith("ffffffff:00:00.0");
        assertThat(ex.getMessage()).contains("out of range");
    }

    @Test
    void aSysfsPhysfnThatIsNotAnAddressIsAFormatError() throws Exception {
        Path dir = SysfsFuzzTrees.write(tmp.resolve("flat"), 2);
        Path uevent = dir.resolve("0000:03:00.1/physfn/uevent");
        Files.writeString(uevent, "DRIVER=nvme\nPCI_SLOT_NAME=0000:03:00.256\n");
        TopologyFormatException ex = sysfsError(dir);
        assertThat(ex.file()).isEqualTo(uevent.toString());
        assertThat(ex.getMessage()).contains("physfn").contains("0000:03:00.256");
    }

    @Test
    void aTopologyFileAddressThatIsNotOneIsAFormatErrorOfItsLine() {
        String head = "peerdma-topology: 1\nname: x\ndevices:\n";
        TopologyFormatException bdf = formatError("a.yaml", head + "  - bdf: 0000:7f:0x.7\n");
        assertThat(bdf.line()).isEqualTo(4);
        assertThat(bdf.getMessage()).contains("0000:7f:0x.7").contains("not a PCI address");
        TopologyFormatException physfn = formatError("b.yaml", head + "  - bdf: 0000:03:00.1\n    physfn: 0000:03:00.9\n");
        assertThat(physfn.line()).isEqualTo(5);
    }

    @Test
    void aTopologyFileDeviceWithoutAnAddressIsAFormatErrorOfItsLine() {
        String yaml = "peerdma-topology: 1\ndevices:\n  - bdf: 0000:00:00.0\n  - vendor: 0x8086\n    device: 0x2020\n";
        TopologyFormatException ex = formatError("nobdf.yaml", yaml);
        assertThat(ex.line()).isEqualTo(4);
        assertThat(ex.getMessage()).contains("without 'bdf'");
        String json = "{\"peerdma-topology\": 1,\n \"devices\": [\n  {\"bdf\": \"0000:00:00.0\"},\n  {\"vendor\": 1}\n ]\n}\n";
        assertThat(formatError("nobdf.json", json).line()).isEqualTo(4);
    }

    @Test
    void aNameYamlTakesForANumberIsSavedAndLoadedAgain() {
        // "1000:1.5" is a YAML 1.1 sexagesimal: the writer leaves it unquoted, Jackson read it as a bad number
        MachineDTO m = io.readText("x.txt", "0000:17:00.0 Infinity: 1000:1.5 (rev b0)\n", TopologyIO.AUTO);
        MachineDTO again = io.readText("saved.yaml", io.format(m, "yaml"), TopologyIO.AUTO);
        assertThat(again.devices).extracting(d -> d.deviceName).containsExactly("1000:1.5");
    }

    @Test
    void aTopologyFileLargerThanThreeMebibytesIsRead() {
        MachineDTO big = new MachineDTO();
        big.name = "big";
        for (int i = 0; i < 9_000; i++) {
            DeviceDTO d = new DeviceDTO();
            d.bdf = String.format(Locale.ROOT, "%04x:%02x:%02x.%d", i / 2048, i / 8 % 256, i % 32, i % 8);
            d.vendor = 0x10de;
            d.device = 0x20b0;
            d.deviceName = "GA100 [A100 SXM4 40GB] number " + i + " " + "x".repeat(300);
            d.notes.add("one of nine thousand");
            big.devices.add(d);
        }
        String yaml = io.format(big, "yaml");
        assertThat(yaml.length()).isGreaterThan(3 << 20); // SnakeYAML's default limit
        assertThat(io.readText("big.yaml", yaml, TopologyIO.AUTO).devices).hasSize(9_000);
    }

    // Inputs that made a regular expression backtrack over a long run, once per position (quadratic: hours for
    // these); read in linear time now (well under a second). The time-outs only stop a run that would not end.
    private static final int RUN = 1_000_000;
    private static final String BLANKS = " ".repeat(RUN);

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aTreeDeviceNameWithALongBlankRunIsSplitFromItsIdsInLinearTime() {
        MachineDTO tree = io.readText("t.txt", "-[0000:00]-+-00.0  Intel Corporation X" + BLANKS + "Y\n", "lspci-tv");
        assertThat(tree.devices.get(0).deviceName).startsWith("X ").endsWith(" Y").hasSize(RUN + 2);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aLongNameIsLookedUpInPciIdsInLinearTime() {
        // lspci without -nn: the name goes to pci.ids, which took a " (rev xx)" suffix off it with a regex
        assertThat(io.readText("n.txt", "00:00.0 Host bridge: Acme X" + BLANKS + "Y (rev 01)\n", "lspci-vvv").devices)
                .hasSize(1);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anLspciHeaderWithManyProgIfLookAlikesIsReadInLinearTime() {
        assertThat(io.readText("p.txt", "00:00.0 Host bridge: X" + " (prog-if 00 [a".repeat(RUN / 5) + " (rev 01)\n",
                "lspci-vvv").devices).hasSize(1);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aBarLineWithManyFlagsIsReadInLinearTime() {
        formatError("r.txt", "00:00.0 Host bridge: Intel Corporation X\n\tRegion 0: Memory at 1000 (32-bit, prefetchable)"
                + " [virtual]".repeat(RUN) + " x\n", "lspci-vvv");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void ncclCommentsNeverClosedOnALongLineAreReadInLinearTime() {
        formatError("c.xml", "<system version=\"1\">\n" + "<!--".repeat(RUN / 2) + "\n", "nccl-topo-xml");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void linesWithALineSeparatorInsideAreProbedInLinearTime() {
        // U+2028 inside a line: '.' does not match it, so ".*" failed and the expression retried at every ": "
        String header = "00:00.0 Host bridge: " + "a: b ".repeat(RUN / 3) + "\u2028 x\n";
        io.readText("s.txt", header + "\tSubsystem: Intel Corporation Device 0000\n", TopologyIO.AUTO);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anLspciFlagsLineWithALineSeparatorIsReadInLinearTime() {
        String flags = "\tFlags: " + "NUMA node 0, ".repeat(RUN / 13) + "\u2028 x\n"; // not last: strip() would drop it
        io.readText("f.txt", "00:00.0 Host bridge: Intel Corporation X\n" + flags, "lspci-vvv");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anLstopoLineWithALineSeparatorIsProbedInLinearTime() {
        String line = "HostBridge " + "buses=".repeat(RUN / 6) + "\u2028 x\n";
        assertThat(new LstopoTextImporter().probe(org.peerdma.pci.spi.TopologySource.ofText("l.txt", line))).isBetween(0, 100);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aCommandWithManyOptionsAndALineSeparatorIsReadInLinearTime() {
        // a comment naming the command in backquotes; is it lspci -t? was a regular expression per option
        String comment = "# `lspci" + " -vvv".repeat(RUN / 5) + "\u2028 x`\n";
        io.readText("p.txt", comment + "00:00.0 Host bridge: Intel Corporation X\n\tFlags: fast devsel\n", TopologyIO.AUTO);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aCaseLineWithALongBlankRunIsReadInLinearTime() {
        MachineDTO m = io.readText("c.txt", "# CASE: x" + BLANKS + "(y\n00:00.0 Host bridge: Intel Corporation X\n",
                TopologyIO.AUTO);
        assertThat(m.name).startsWith("x").endsWith("(y");
    }

    @Test
    void aTreeBarSizeBeyondSixtyFourBitsIsAFormatError() {
        String tree = "-[0000:00]---00.0  Intel Corporation Device 2020\n"
                + "                    Region 0: Memory at fa000000 (32-bit, non-prefetchable) [size=99999999999999T]\n";
        assertThat(formatError("b.txt", tree, "lspci-tv").getMessage()).contains("b.txt:2:").contains("too large");
    }

    @Test
    void anLstopoSummaryCountBeyondAnIntIsAFormatErrorOfItsLine() {
        String text = "HostBridge L#0 (buses=0000:[00-03])\nSpecial depth -4:  99999999999999999999999999 Bridge (type #9)\n";
        TopologyFormatException ex = formatError("s.txt", text, "lstopo-v");
        assertThat(ex.line()).isEqualTo(2);
        assertThat(ex.getMessage()).contains("the summary counts 99999999999999999999999999 bridge objects");
    }

    @Test
    void anHwlocInternalDtdSubsetCutShortIsRefusedWithoutAStackTraceOnStderr() {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream was = System.err;
        TopologyFormatException ex;
        System.setErr(new java.io.PrintStream(err, true));
        try {
            // cut short inside the subset: the JDK's parser printed java.io.EOFException and its stack to stderr
            ex = formatError("e.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE topology [\n<!ENTITY l0 \"lol\">\n<!ENTITY",
                    "hwloc-xml");
        } finally {
            System.setErr(was);
        }
        assertThat(err.toString()).isEmpty();
        assertThat(ex.line()).isEqualTo(2);
        assertThat(ex.getMessage()).contains("internal DTD subset").contains("not closed");
    }

    @Test
    void anUnknownKeyWithQuotesInsideIsQuotedOnceAndClipped() {
        // the long run, after 393,401 inputs: the key came back whole in Jackson's path ("...HostBridgeDTO[\"<key>\"]")
        String key = "<object type=\"Misc\">".repeat(20);
        TopologyFormatException ex = formatError("k.yaml", "peerdma-topology: 1\nhostBridges:\n  - " + key + ": 1\n",
                TopologyIO.AUTO);
        assertClipped(ex);
        assertThat(ex.line()).isEqualTo(3);
        assertThat(ex.getMessage()).contains("(in hostBridges[0])");
    }

    /** Register lines with numbers lspci cannot print: a format error naming the line, never a NumberFormatException. */
    @Test
    void registerLinesWithImpossibleNumbersAreFormatErrors() {
        String head = "00:01.0 PCI bridge: Intel Corporation X (rev 01)\n\tControl: I/O- Mem+ BusMaster+\n"
                + "\tCapabilities: [40] Express (v2) Root Port (Slot+), MSI 00\n";
        for (String bad : new String[] {"\t\tDevCap:\tMaxPayload 99999999999 bytes, PhantFunc 0\n",
            "\t\tDevCap:\tMaxPayload 384 bytes, PhantFunc 0\n",
            "\t\tDevCap:\tMaxPayload 128 bytes, PhantFunc 2\n",
            "\t\tDevCtl:\tCorrErr-\n\t\t\tMaxPayload 128 bytes, MaxReadReq 9999999999999 bytes\n",
            "\t\tDevCap:\tMaxPayload 128 bytes, PhantFunc 0\n\t\t\tExtTag- RBE+ SlotPowerLimit 7777W\n",
            "\t\tLnkCap:\tPort #99999999999, Speed 8GT/s, Width x16, ASPM L1, Exit Latency L1 <16us\n",
            "\t\tLnkCap:\tPort #0, Speed 8GT/s, Width x16, ASPM L1, Exit Latency L1 <17us\n"}) {
            TopologyFormatException ex = formatError("r.txt", head + bad, "lspci-vvv");
            assertClipped(ex);
            assertThat(ex.line()).as(bad).isGreaterThanOrEqualTo(4);
        }
        // a power limit lspci would not print in that form is not a number to read: the flags still are
        MachineDTO m = io.readText("p.txt", head + "\t\tDevCap:\tMaxPayload 256 bytes, PhantFunc 0\n"
                + "\t\t\tExtTag+ RBE+ SlotPowerLimit 1.2.3W\n", "lspci-vvv");
        assertThat(m.devices.get(0).devCap).isEqualTo(0x1 | 0x20 | 0x8000);
        assertThat(m.devices.get(0).command).isEqualTo(0x6);
    }
}
