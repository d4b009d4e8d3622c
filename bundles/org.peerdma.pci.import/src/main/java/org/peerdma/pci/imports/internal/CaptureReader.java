package org.peerdma.pci.imports.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.document.LscpuParser;
import org.peerdma.pci.imports.document.Merger;
import org.peerdma.util.Texts;

/**
 * What scripts/peerdma-capture collects (a directory, or its .tar.gz): lspci's listing and tree, or
 * the sysfs copy when lspci was missing; /proc/cpuinfo; the kernel release and command line, which
 * select the rule set and the pci= options; what dmesg said about p2pdma, ACS and the IOMMU.
 */
final class CaptureReader {
    /** The manifest that marks a capture directory. */
    static final String MANIFEST = "peerdma-capture.txt";
    /** An archive may unpack to at most this much (a capture of a large machine is a few MiB). */
    static final long MAX_UNPACKED = 256L << 20;
    static final int MAX_ENTRIES = 100_000;

    private CaptureReader() {
    }

    static boolean isCapture(Path dir) {
        return Files.isRegularFile(dir.resolve(MANIFEST));
    }

    /** isArchive - a gzip'd file (by its first two bytes): a packed capture. */
    static boolean isArchive(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        } catch (IOException ex) {
            return false;
        }
    }

    /**
     * read - a capture directory.
     * @param text reads one listing of the capture (the document path: its importers by content)
     * @param sysfs reads the sysfs copy
     */
    static MachineDTO read(Path dir, BiFunction<String, String, MachineDTO> text, Function<Path, MachineDTO> sysfs) {
        List<String> manifest = lines(dir.resolve(MANIFEST));
        String host = value(manifest, "host");
        Merger merger = new Merger(host == null ? dir.getFileName().toString() : host, dir.toString());
        boolean lspci = false;
        for (String f : List.of("lspci-tvnn.txt", "lspci-vvvnn.txt")) {
            Path p = dir.resolve(f);
            if (Files.isRegularFile(p) && size(p) > 0) {
                merger.add(text.apply(p.toString(), String.join("\n", lines(p))), f);
                lspci = true;
            }
        }
        if (!lspci) {
            if (!Files.isDirectory(dir.resolve("sys/bus/pci/devices"))) {
                throw new TopologyFormatException(dir.resolve(MANIFEST).toString(), 0,
                        "the capture has neither lspci's listing nor the sysfs copy: nothing to read");
            }
            merger.add(sysfs.apply(dir.resolve("sys")), "sys");
            merger.note("capture: lspci was not on the machine; read from the sysfs copy");
        }
        MachineDTO m = merger.result();
        Path cpuinfo = dir.resolve("cpuinfo.txt");
        if (Files.isRegularFile(cpuinfo)) {
            CpuDTO cpu = LscpuParser.parse(lines(cpuinfo));
            if (cpu != null) {
                m.cpu = cpu;
                m.notes.removeIf(n -> n.contains("no cpuinfo file beside the sysfs copy")); // the capture's has it
            }
        }
        String release = first(dir.resolve("uname-r.txt"));
        if (release != null && !release.isBlank()) {
            m.kernelRelease = release.strip();
            m.notes.add("capture: kernel " + m.kernelRelease + " (selects the p2pdma rule set unless -k says otherwise)");
        }
        String cmdline = first(dir.resolve("cmdline.txt"));
        if (cmdline != null && !cmdline.isBlank()) {
            m.cmdline = cmdline.strip();
            if (m.cmdline.contains("pci=")) {
                m.notes.add("capture: booted with " + String.join(" ", List.of(m.cmdline.split("\\s+")).stream()
                        .filter(t -> t.startsWith("pci=")).toList()) + " (applied at enumeration; the dump already "
                        + "shows its effect)");
            }
        }
        for (String l : manifest) {
            if (l.startsWith("note: ")) {
                m.notes.add("capture: " + l.substring(6));
            }
            if (l.startsWith("missing: ")) {
                m.notes.add("capture missed: " + l.substring(9).strip());
            }
        }
        Path dmesg = dir.resolve("dmesg-p2pdma.txt");
        if (Files.isRegularFile(dmesg)) {
            List<String> d = lines(dmesg);
            d.stream().filter(l -> l.contains("p2pdma") || l.contains("ACS")).limit(20)
                    .forEach(l -> m.notes.add("dmesg: " + Texts.clip(l.strip())));
        }
        Path topo = dir.resolve("nvidia-smi-topo-m.txt");
        org.peerdma.pci.dto.DriverTopologyDTO t = Files.isRegularFile(topo)
                ? org.peerdma.pci.imports.document.NvidiaSmiParser.topo(lines(topo)) : null;
        if (Files.isRegularFile(topo) && t == null) {
            m.notes.add("capture: nvidia-smi-topo-m.txt holds no nvidia-smi topo -m matrix");
        }
        for (boolean write : new boolean[] {false, true}) {
            Path f = dir.resolve("nvidia-smi-topo-p2p-" + (write ? "w" : "r") + ".txt");
            var p2p = Files.isRegularFile(f) ? org.peerdma.pci.imports.document.NvidiaSmiParser.p2p(lines(f)) : null;
            if (p2p != null) {
                if (t == null) {
                    t = org.peerdma.pci.imports.document.NvidiaSmiParser.fromP2p(p2p.getKey());
                }
                org.peerdma.pci.imports.document.NvidiaSmiParser.addP2p(t, p2p, write);
            }
        }
        if (t != null) {
            Path table = dir.resolve("nvidia-smi.txt");
            Enricher.enrich(m);
            org.peerdma.pci.imports.document.NvidiaSmiParser.attach(m, t, Files.isRegularFile(table)
                    ? org.peerdma.pci.imports.document.NvidiaSmiParser.busIds(lines(table)) : java.util.Map.of());
        }
        m.format = "capture(" + (lspci ? "lspci" : "sysfs") + ")";
        return m;
    }

    /**
     * unpack - a capture archive into a new temporary directory, refusing what a capture never holds:
     * links, devices, paths outside the archive, more than {@value #MAX_ENTRIES} entries or
     * {@value #MAX_UNPACKED} bytes.
     * Return: the capture directory inside it; the caller deletes {@code tmp.getParent()} chain via {@link #delete}.
     */
    static Path unpack(Path archive, Path tmp) {
        long total = 0;
        int entries = 0;
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive)));
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (++entries > MAX_ENTRIES) {
                    throw new TopologyFormatException(archive.toString(), 0, "more than " + MAX_ENTRIES + " entries");
                }
                if (e.getName().indexOf('\0') >= 0) {
                    // a tar header names an entry up to its first NUL; one inside the name is a broken header
                    throw new TopologyFormatException(archive.toString(), 0, "entry '" + Texts.clip(e.getName()
                            .replace('\0', '?')) + "' has a NUL character in its name");
                }
                Path target;
                try {
                    target = tmp.resolve(e.getName()).normalize();
                } catch (java.nio.file.InvalidPathException ex) {
                    throw new TopologyFormatException(archive.toString(), 0, "entry '" + Texts.clip(e.getName())
                            + "' is not a file name here: " + ex.getReason());
                }
                if (!target.startsWith(tmp) || e.getName().startsWith("/")) {
                    throw new TopologyFormatException(archive.toString(), 0, "entry '" + Texts.clip(e.getName())
                            + "' points outside the archive");
                }
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else if (e.isFile()) {
                    Files.createDirectories(target.getParent());
                    long n = Files.copy(new LimitedStream(tar, MAX_UNPACKED - total), target);
                    total += n;
                    if (total >= MAX_UNPACKED) {
                        throw new TopologyFormatException(archive.toString(), 0, "unpacks to more than "
                                + (MAX_UNPACKED >> 20) + " MiB: not a capture");
                    }
                }
                // links, devices and FIFOs are skipped: a capture holds plain files only
            }
        } catch (IOException ex) {
            throw new TopologyFormatException(archive.toString(), 0, "not a readable .tar.gz: " + Texts.clip(
                    String.valueOf(ex.getMessage())));
        }
        if (isCapture(tmp)) {
            return tmp;
        }
        try (Stream<Path> s = Files.list(tmp)) {
            List<Path> dirs = s.filter(CaptureReader::isCapture).toList();
            if (dirs.size() == 1) {
                return dirs.get(0);
            }
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, archive + ": " + ex.getMessage());
        }
        throw new TopologyFormatException(archive.toString(), 0, "no " + MANIFEST + " in the archive: not a "
                + "peerdma capture");
    }

    static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a temporary directory: the OS cleans it eventually
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException ex) {
            return 0;
        }
    }

    private static List<String> lines(Path p) {
        try {
            if (Files.size(p) > TopologyIOImpl.MAX_FILE) {
                throw new KernelException(Errno.EFBIG, p + ": " + Files.size(p) + " bytes is larger than "
                        + (TopologyIOImpl.MAX_FILE >> 20) + " MiB");
            }
            return new ArrayList<>(Files.readAllLines(p, StandardCharsets.UTF_8));
        } catch (java.nio.charset.MalformedInputException ex) {
            try {
                return new ArrayList<>(Files.readAllLines(p, StandardCharsets.ISO_8859_1));
            } catch (IOException e2) {
                throw new KernelException(Errno.EIO, p + ": " + e2.getMessage());
            }
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, p + ": " + ex.getMessage());
        }
    }

    private static String first(Path p) {
        if (!Files.isRegularFile(p)) {
            return null;
        }
        List<String> l = lines(p);
        return l.isEmpty() ? null : l.get(0);
    }

    private static String value(List<String> manifest, String key) {
        for (String l : manifest) {
            if (l.startsWith(key + ": ")) {
                return l.substring(key.length() + 2).strip();
            }
        }
        return null;
    }

    /** At most {@code left} bytes of the current tar entry; one more means the archive is too large. */
    private static final class LimitedStream extends InputStream {
        private final InputStream in;
        private long left;

        LimitedStream(InputStream in, long left) {
            this.in = in;
            this.left = left;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
