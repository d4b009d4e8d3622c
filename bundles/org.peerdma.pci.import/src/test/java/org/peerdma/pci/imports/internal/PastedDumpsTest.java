package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;

/**
 * Real dumps as people paste them: captured with 2>&1, through sudo, from a coloured terminal or
 * Windows. They load as the clean dump does, each skipped line named, and errors still name the
 * right line. Names and IDs are what the dump printed.
 */
class PastedDumpsTest {
    private final TopologyIOImpl io = RealDumpsTest.io();

    private String real(String name) throws Exception {
        return Files.readString(RealDumpsTest.shared().resolve("topologies/real").resolve(name));
    }

    /** Insert {@code extra} before the first line that starts with {@code before}. */
    private static String insertBefore(String text, String before, String extra) {
        int at = text.indexOf("\n" + before);
        return text.substring(0, at + 1) + extra + text.substring(at + 1);
    }

    @Test
    void warningsSudoPromptsColoursAndCrlfLoadLikeTheCleanDump() throws Exception {
        String clean = real("dell-r730-broadwell-ep-2xp100-nvme.txt");
        String noisy = "[sudo] password for ops: \n" + clean;
        // between device blocks, and inside one (stderr interleaves with stdout)
        noisy = insertBefore(noisy, "82:00.0", "lspci: Unable to load libkmod resources: error -2\n");
        noisy = insertBefore(noisy, "\tCapabilities: [60] MSI", "pcilib: sysfs_read_vpd: read failed: Input/output error\n");
        noisy = noisy.replace("82:00.0 3D controller", "\u001B[1;32m82:00.0\u001B[0m 3D controller");
        noisy = noisy.replace("\n", "\r\n");
        MachineDTO a = io.readText("clean.txt", clean, TopologyIO.AUTO);
        MachineDTO b = io.readText("noisy.txt", noisy, TopologyIO.AUTO);
        assertThat(b.devices).hasSameSizeAs(a.devices);
        for (int i = 0; i < a.devices.size(); i++) {
            DeviceDTO x = a.devices.get(i);
            DeviceDTO y = b.devices.get(i);
            assertThat(y.bdf).isEqualTo(x.bdf);
            assertThat(y.deviceName).isEqualTo(x.deviceName);
            assertThat(Objects.equals(y.classCode, x.classCode)).isTrue();
            assertThat(y.acs == null ? null : y.acs.ctrl).isEqualTo(x.acs == null ? null : x.acs.ctrl);
            assertThat(y.bars).hasSameSizeAs(x.bars);
        }
        assertThat(b.notes).anyMatch(n -> n.matches("skipped line 1, not part of the dump: \\[sudo\\] password for ops:"))
                .anyMatch(n -> n.contains("not part of the dump: lspci: Unable to load libkmod resources: error -2"))
                .anyMatch(n -> n.contains("pcilib: sysfs_read_vpd: read failed"))
                .anyMatch(n -> n.equals("removed terminal colour codes from 1 line(s)"));
    }

    @Test
    void errorsStillNameTheLineOfTheFileAfterSkippedLines() throws Exception {
        String clean = real("dell-r730-broadwell-ep-2xp100-nvme.txt");
        List<String> lines = new ArrayList<>(clean.lines().toList());
        int target = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("\tRegion 0: Memory at")) {
                target = i;
                break;
            }
        }
        lines.set(target, "\tRegion 0: Memory at zzzz (64-bit, prefetchable) [size=16M]");
        lines.add(2, "lspci: Unable to load libkmod resources: error -2");
        lines.add(3, "pcilib: Cannot open /proc/bus/pci");
        String text = String.join("\n", lines);
        // the broken Region line moved down by the two inserted lines: its number in this text
        int expected = target + 1 + 2;
        assertThatThrownBy(() -> io.readText("broken.txt", text, TopologyIO.AUTO))
                .isInstanceOf(TopologyFormatException.class)
                .satisfies(e -> assertThat(((TopologyFormatException) e).line()).isEqualTo(expected));
    }

    @Test
    void namesAndIdsAreWhatTheDumpPrinted() throws Exception {
        MachineDTO asus = io.readText("asus", real("asus-esc8000a-e12-genoa.txt"), TopologyIO.AUTO);
        DeviceDTO gpu = dev(asus, "0000:01:00.0");
        assertThat(gpu.vendorName).isEqualTo("NVIDIA Corporation");
        assertThat(gpu.deviceName).isEqualTo("AD102GL [RTX 6000 Ada Generation]");
        assertThat(gpu.vendor).isEqualTo(0x10de);
        // the dump names the device but prints no ID, and pci.ids 2023 does not know the name: unknown, not ffff
        assertThat(gpu.device).isNull();
        assertThat(gpu.notes).anyMatch(n -> n.contains("device ID is unknown"));
        // a bridge known only from the tree: a PCI bridge (it has a bus range), no name, no IDs
        DeviceDTO port = dev(asus, "0000:00:01.1");
        assertThat(port.classCode).isEqualTo(0x060400);
        assertThat(port.vendor).isNull();
        assertThat(port.notes).anyMatch(n -> n.contains("inferred from its bus range"));
        // lspci's "Device 14a4" (a name pci.ids lacked) keeps the ID it printed
        DeviceDTO rc = dev(asus, "0000:00:00.0");
        assertThat(rc.vendor).isEqualTo(0x1022);
        assertThat(rc.device).isEqualTo(0x14a4);
        MachineDTO puget = io.readText("puget", real("puget-wrx90-threadripper-pro.txt"), TopologyIO.AUTO);
        DeviceDTO pg = dev(puget, "0000:c1:00.0");
        assertThat(pg.vendorName + " " + pg.deviceName).isEqualTo("NVIDIA Corporation AD102GL [RTX 6000 Ada Generation]");
    }

    private static DeviceDTO dev(MachineDTO m, String bdf) {
        return m.devices.stream().filter(d -> d.bdf.equals(bdf)).findFirst().orElseThrow();
    }
}
