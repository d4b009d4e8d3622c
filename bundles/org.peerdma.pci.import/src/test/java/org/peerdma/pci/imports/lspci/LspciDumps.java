package org.peerdma.pci.imports.lspci;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

/** Test helpers: the shared real dumps and slices of them. */
final class LspciDumps {
    private LspciDumps() {
    }

    /** shared - the shared folder: -Dpeerdma.shared, ../../../shared, or /work/shared. */
    static Path shared() {
        String prop = System.getProperty("peerdma.shared");
        if (prop != null && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop);
        }
        Path rel = Path.of("../../../shared");
        if (Files.isDirectory(rel.resolve("topologies"))) {
            return rel;
        }
        return Path.of("/work/shared");
    }

    /** real - a whole dump under topologies/real, named by its file path. */
    static TopologySource real(String file) {
        Path p = shared().resolve("topologies/real").resolve(file);
        try {
            return TopologySource.ofText(p.toString(), Files.readString(p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** afterHeader - the part of a dump after its '# ----' separator line. */
    static TopologySource afterHeader(TopologySource whole) {
        List<String> l = whole.lines();
        for (int i = 0; i < l.size(); i++) {
            if (l.get(i).startsWith("# ----")) {
                return whole.slice(i + 1, l.size());
            }
        }
        throw new AssertionError("no '# ----' header separator in " + whole.name());
    }

    /** indexOf - index of the first line containing {@code text}. */
    static int indexOf(TopologySource src, String text, int from) {
        List<String> l = src.lines();
        for (int i = from; i < l.size(); i++) {
            if (l.get(i).contains(text)) {
                return i;
            }
        }
        throw new AssertionError("'" + text + "' not found in " + src.name());
    }

    /**
     * fenced - the markdown block holding {@code command}: from its opening ``` fence to its
     * closing one, both fences included (the parser must skip them and the "$ ..." prompt).
     */
    static TopologySource fenced(TopologySource whole, String command) {
        int cmd = indexOf(whole, command, 0);
        int open = cmd - 1;
        if (!whole.lines().get(open).startsWith("```")) {
            throw new AssertionError("no fence right above '" + command + "'");
        }
        int close = indexOf(whole, "```", cmd + 1);
        return whole.slice(open, close + 1);
    }

    /** device - the device with address {@code bdf} ("0000:04:00.0"). */
    static DeviceDTO device(MachineDTO m, String bdf) {
        return m.devices.stream().filter(d -> d.bdf.equals(bdf)).findFirst()
                .orElseThrow(() -> new AssertionError("no device " + bdf));
    }
}
