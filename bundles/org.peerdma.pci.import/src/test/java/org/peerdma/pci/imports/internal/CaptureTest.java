package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/**
 * scripts/peerdma-capture run for real (a fake lspci and a fake /proc, or this machine's own /sys), and
 * what the importers read back from its directory and its .tar.gz.
 */
class CaptureTest {
    private final TopologyIOImpl io = RealDumpsTest.io();

    @TempDir
    Path tmp;

    static Path script() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path s = p.resolve("scripts/peerdma-capture");
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        throw new IllegalStateException("scripts/peerdma-capture not found");
    }

    /** Run the capture script under sh with {@code env}; returns its stdout (the path it wrote). */
    private String capture(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("sh", script().toString(), "-q"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(false);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        return out;
    }

    /** A machine as the script sees it: a fake lspci printing the Dell R730 dump, a fake /proc. */
    private Map<String, String> fakeMachine() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path dump = RealDumpsTest.shared().resolve("topologies/real/dell-r730-broadwell-ep-2xp100-nvme.txt");
        Path lspci = bin.resolve("lspci");
        Files.writeString(lspci, "#!/bin/sh\ncase \"$1\" in -vvvnn) echo 'lspci: Unable to load libkmod resources: "
                + "error -2' >&2; cat '" + dump + "' ;; *) exit 1 ;; esac\n");
        Files.setPosixFilePermissions(lspci, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = tmp.resolve("root");
        Files.createDirectories(root.resolve("proc/sys/kernel"));
        Files.createDirectories(root.resolve("sys/bus/pci/devices"));
        Files.writeString(root.resolve("proc/cpuinfo"), "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                + "model\t\t: 79\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n");
        Files.writeString(root.resolve("proc/sys/kernel/osrelease"), "5.15.0-91-generic\n");
        Files.writeString(root.resolve("proc/cmdline"), "BOOT_IMAGE=/vmlinuz ro quiet pci=disable_acs_redir=0000:80:01.0\n");
        return Map.of("PATH", bin + ":" + System.getenv("PATH"), "PEERDMA_CAPTURE_ROOT", root.toString());
    }

    @Test
    void aCaptureDirectoryCarriesTheListingTheKernelAndItsCommandLine() throws Exception {
        Path dir = Path.of(capture(fakeMachine(), "-o", tmp.resolve("cap").toString()));
        assertThat(Files.readString(dir.resolve("peerdma-capture.txt"))).contains("kernel: 5.15.0-91-generic")
                .contains("collected: lspci-vvvnn.txt");
        MachineDTO m = io.read(dir, TopologyIO.AUTO);
        assertThat(m.devices).hasSize(201);
        assertThat(m.kernelRelease).isEqualTo("5.15.0-91-generic");
        assertThat(m.cmdline).contains("pci=disable_acs_redir=0000:80:01.0");
        assertThat(m.cpu.vendor).isEqualTo("GenuineIntel");
        assertThat(m.format).isEqualTo("capture(lspci)");
        assertThat(m.notes).anyMatch(n -> n.contains("booted with pci=disable_acs_redir=0000:80:01.0"));
        // the capture's pci= options apply at enumeration as its kernel applied them
        PciCoreImpl core = new PciCoreImpl();
        core.load(m);
        assertThat(core.cmdlineLog()).anyMatch(l -> l.contains("pci=disable_acs_redir=0000:80:01.0"))
                .anyMatch(l -> l.contains("0000:80:01.0: disabled ACS redirect"))
                .anyMatch(l -> l.startsWith("pci_enable_acs: rules of 5.15.0-91-generic (before 6.11"));
        // a reboot keeps the machine's own kernel: its command line and release (they were dropped before)
        core.reboot();
        assertThat(core.cmdlineLog()).anyMatch(l -> l.contains("0000:80:01.0: disabled ACS redirect"))
                .anyMatch(l -> l.startsWith("pci_enable_acs: rules of 5.15.0-91-generic"));
    }

    @Test
    void anArchiveReadsAsItsDirectory() throws Exception {
        Path gz = Path.of(capture(fakeMachine(), "-z", "-o", tmp.resolve("cap").toString()));
        assertThat(gz.toString()).endsWith(".tar.gz");
        assertThat(Files.exists(tmp.resolve("cap"))).isFalse();
        MachineDTO m = io.read(gz, TopologyIO.AUTO);
        assertThat(m.devices).hasSize(201);
        assertThat(m.kernelRelease).isEqualTo("5.15.0-91-generic");
        assertThat(m.source).isEqualTo(gz.toString());
    }

    @Test
    void thisMachinesOwnSysfsIsEnoughWithoutLspci() throws Exception {
        Path sys = Path.of("/sys/bus/pci/devices");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(sys) && Files.list(sys).findAny().isPresent(),
                "this machine shows no PCI devices");
        Path bin = Files.createDirectories(tmp.resolve("nolspci"));
        Map<String, String> env = Map.of("PATH", bin + ":/usr/bin:/bin");
        Path dir = Path.of(capture(env, "-o", tmp.resolve("host").toString()));
        MachineDTO captured = io.read(dir, TopologyIO.AUTO);
        MachineDTO host = io.host();
        assertThat(captured.devices).extracting(d -> d.bdf).containsExactlyElementsOf(
                host.devices.stream().map(d -> d.bdf).toList());
        assertThat(captured.format).isEqualTo("capture(sysfs)");
        assertThat(captured.kernelRelease).isNotBlank();
    }

    @Test
    void hostileArchivesAreRefused() throws Exception {
        Path evil = tmp.resolve("evil.tar.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(evil));
                TarArchiveOutputStream tar = new TarArchiveOutputStream(o)) {
            byte[] b = "x".getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry("../../etc/evil");
            e.setSize(b.length);
            tar.putArchiveEntry(e);
            tar.write(b);
            tar.closeArchiveEntry();
        }
        assertThatThrownBy(() -> io.read(evil, TopologyIO.AUTO)).isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("points outside the archive");
        Path garbage = tmp.resolve("garbage.tar.gz");
        Files.write(garbage, new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3});
        assertThatThrownBy(() -> io.read(garbage, TopologyIO.AUTO)).isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("not a readable .tar.gz");
        Path noManifest = tmp.resolve("plain.tar.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(noManifest));
                TarArchiveOutputStream tar = new TarArchiveOutputStream(o)) {
            TarArchiveEntry e = new TarArchiveEntry("readme.txt");
            e.setSize(2);
            tar.putArchiveEntry(e);
            tar.write("hi".getBytes(StandardCharsets.UTF_8));
            tar.closeArchiveEntry();
        }
        assertThatThrownBy(() -> io.read(noManifest, TopologyIO.AUTO)).hasMessageContaining("not a peerdma capture");
    }

    @Test
    void anArchiveEntryWithANulInItsNameIsAFormatError() throws Exception {
        // the long fuzz run (721,653 inputs): a GNU long name with a NUL inside reached Path.resolve, whose
        // InvalidPathException escaped the importers' errors
        Path nul = tmp.resolve("nul.tar.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(nul));
                TarArchiveOutputStream tar = new TarArchiveOutputStream(o)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            TarArchiveEntry e = new TarArchiveEntry("cap/0000:01:00.0/" + "x".repeat(120) + "\0tail/config");
            e.setSize(1);
            tar.putArchiveEntry(e);
            tar.write('x');
            tar.closeArchiveEntry();
        }
        assertThatThrownBy(() -> io.read(nul, TopologyIO.AUTO)).isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("has a NUL character in its name").hasMessageNotContaining("\0");
    }
}
