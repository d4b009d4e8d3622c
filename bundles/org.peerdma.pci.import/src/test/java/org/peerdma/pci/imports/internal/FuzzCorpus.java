package org.peerdma.pci.imports.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.document.DocumentSplitter;
import org.peerdma.pci.imports.document.Pasted;
import org.peerdma.pci.imports.document.Section;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/**
 * The inputs the fuzz test mutates: every real dump in shared/topologies/real (whole, as the document reader
 * gets it, and cut into the sections an importer reads), the project's own format written from each of them
 * (YAML and JSON) and the bundled sample, one-line lspci forms written from them (names, -nn, -n), and the
 * small dumps of the test resources (org/peerdma/pci/imports/fuzz: hwloc 2.x XML, lstopo 2.x text, a whole
 * NCCL system, lspci -v, -tvnn, -tvvv, -n, -nn).
 */
final class FuzzCorpus {
    /** One seed: the text and the importer format it is written in ({@code auto} for a whole document). */
    record Seed(String name, String format, byte[] bytes) {
        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    static final String[] RESOURCES = {"hwloc2.xml", "lstopo2.txt", "nccl-system.xml", "lspci-v.txt",
        "lspci-tvnn.txt", "lspci-tvvv.txt", "lspci-n.txt", "lspci-nn.txt"};

    private final List<Seed> seeds = new ArrayList<>();
    private final Map<String, List<Seed>> byFormat = new LinkedHashMap<>();

    FuzzCorpus(TopologyIOImpl io, Map<String, TopologyImporter> importers) {
        List<Path> real;
        try (Stream<Path> s = Files.list(RealDumpsTest.shared().resolve("topologies/real"))) {
            real = s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path p : real) {
            String text = read(p);
            String name = p.getFileName().toString();
            add(new Seed(name, TopologyIO.AUTO, text.getBytes(StandardCharsets.UTF_8)));
            sections(name, text, importers);
            MachineDTO m = io.read(p, TopologyIO.AUTO);
            String base = name.replaceFirst("\\.txt$", "");
            add(seed(base + ".yaml", "peerdma", io.format(m, "yaml")));
            add(seed(base + ".json", "peerdma", io.format(m, "json")));
            oneLine(base, m);
        }
        add(seed("sample-machine.yaml", "peerdma", io.format(io.sample(), "yaml")));
        for (String r : RESOURCES) {
            try (InputStream in = FuzzCorpus.class.getResourceAsStream("/org/peerdma/pci/imports/fuzz/" + r)) {
                if (in == null) {
                    throw new IllegalStateException("test resource fuzz/" + r + " missing");
                }
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                add(seed(r, formatOf(text, importers), text));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    List<Seed> seeds() {
        return Collections.unmodifiableList(seeds);
    }

    /** @return the seeds written in {@code format}, empty when there are none. */
    List<Seed> of(String format) {
        return byFormat.getOrDefault(format, List.of());
    }

    Map<String, List<Seed>> byFormat() {
        return Collections.unmodifiableMap(byFormat);
    }

    private void add(Seed s) {
        seeds.add(s);
        byFormat.computeIfAbsent(s.format(), k -> new ArrayList<>()).add(s);
    }

    private static Seed seed(String name, String format, String text) {
        return new Seed(name, format, text.getBytes(StandardCharsets.UTF_8));
    }

    /** The document's sections (as the document reader cuts them), each tagged with the importer that reads it. */
    private void sections(String name, String text, Map<String, TopologyImporter> importers) {
        TopologySource src = Pasted.clean(TopologySource.ofText(name, text)).source();
        for (Section s : DocumentSplitter.split(src)) {
            TopologySource part = src.slice(s.from(), s.to());
            String cmd = s.command().replaceFirst("^sudo ", "");
            String f = cmd.startsWith("lspci") ? (cmd.matches(".*\\s-[a-zA-Z]*t.*") ? "lspci-tv" : "lspci-vvv")
                    : formatOf(part.text(), importers);
            if (f != null && !cmd.contains("grep")) {
                add(seed(String.format(Locale.ROOT, "%s lines %d-%d", name, part.firstLine(),
                        part.lineNumber(part.lines().size() - 1)), f, part.text() + "\n"));
            }
        }
    }

    /** The text importer whose probe is most confident (at least 30), or null. */
    static String formatOf(String text, Map<String, TopologyImporter> importers) {
        TopologySource src = TopologySource.ofText("probe", text);
        String best = null;
        int score = 29;
        for (Map.Entry<String, TopologyImporter> e : importers.entrySet()) {
            int s = e.getValue().probe(src);
            if (s > score) {
                score = s;
                best = e.getKey();
            }
        }
        return best;
    }

    /** lspci, lspci -nn and lspci -n one-line listings of a machine read from a real dump. */
    private void oneLine(String base, MachineDTO m) {
        StringBuilder names = new StringBuilder();
        StringBuilder nn = new StringBuilder();
        StringBuilder n = new StringBuilder();
        for (DeviceDTO d : m.devices) {
            if (d.vendor == null || d.device == null || d.classCode == null || d.className == null
                    || d.vendorName == null || d.deviceName == null) {
                continue;
            }
            String bdf = d.bdf.startsWith("0000:") ? d.bdf.substring(5) : d.bdf;
            String rev = d.revision == null || d.revision == 0 ? "" : String.format(Locale.ROOT, " (rev %02x)", d.revision);
            names.append(String.format(Locale.ROOT, "%s %s: %s %s%s%n", bdf, d.className, d.vendorName, d.deviceName, rev));
            nn.append(String.format(Locale.ROOT, "%s %s [%04x]: %s %s [%04x:%04x]%s%n", bdf, d.className,
                    d.classCode >> 8, d.vendorName, d.deviceName, d.vendor, d.device, rev));
            n.append(String.format(Locale.ROOT, "%s %04x: %04x:%04x%s%n", d.bdf, d.classCode >> 8, d.vendor, d.device, rev));
        }
        if (!n.isEmpty()) {
            add(seed(base + ".lspci", "lspci-vvv", names.toString()));
            add(seed(base + ".lspci-nn", "lspci-vvv", nn.toString()));
            add(seed(base + ".lspci-n", "lspci-vvv", n.toString()));
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
