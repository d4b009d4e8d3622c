package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.TopologyIO;

/** Input that is not a dump: refused with the file and line named, never an exception of the parser. */
class HostileInputTest {
    private final TopologyIOImpl io = RealDumpsTest.io();

    @TempDir
    Path tmp;

    private TopologyFormatException formatError(String name, String text) {
        try {
            io.readText(name, text, TopologyIO.AUTO);
        } catch (TopologyFormatException ex) {
            return ex;
        }
        throw new AssertionError(name + " was read");
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
}
