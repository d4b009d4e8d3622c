package org.peerdma.pci.imports.hwloc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

/** Test helpers: where the real dumps are, and sources made from them. */
final class Dumps {
    private Dumps() {
    }

    /** @return the shared folder: -Dpeerdma.shared, ../../../shared, or /work/shared. */
    static Path shared() {
        String prop = System.getProperty("peerdma.shared");
        for (Path p : new Path[] {prop == null ? null : Path.of(prop), Path.of("../../../shared"),
                Path.of("/work/shared")}) {
            if (p != null && Files.isDirectory(p.resolve("topologies/real"))) {
                return p;
            }
        }
        throw new IllegalStateException("shared folder with topologies/real not found");
    }

    static Path real(String file) {
        return shared().resolve("topologies/real").resolve(file);
    }

    /** @return the whole real dump as a source named by its path. */
    static TopologySource load(String file) {
        return edited(file, lines -> lines);
    }

    /** @return the real dump after {@code edit} changed its lines (line numbers stay the file's). */
    static TopologySource edited(String file, UnaryOperator<List<String>> edit) {
        Path p = real(file);
        try {
            List<String> lines = Files.readAllLines(p);
            return new TopologySource(p.toString(), edit.apply(new java.util.ArrayList<>(lines)), 1, Optional.empty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the file line number (1-based) of the first line containing {@code text}. */
    static int lineOf(TopologySource src, String text) {
        for (int i = 0; i < src.lines().size(); i++) {
            if (src.lines().get(i).contains(text)) {
                return src.lineNumber(i);
            }
        }
        throw new AssertionError("no line contains " + text);
    }

    static DeviceDTO dev(MachineDTO m, String bdf) {
        return m.devices.stream().filter(d -> d.bdf.equals(bdf)).findFirst()
                .orElseThrow(() -> new AssertionError("no device " + bdf));
    }
}
