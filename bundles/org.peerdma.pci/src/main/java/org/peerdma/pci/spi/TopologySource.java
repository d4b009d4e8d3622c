package org.peerdma.pci.spi;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What an importer reads: a named text (lines kept with their original numbers) or a directory
 * (a sysfs tree).
 *
 * @param name the name used in error messages (a file path)
 * @param lines the text, one entry per line; empty for directories
 * @param firstLine the 1-based number in the original file of {@code lines.get(0)} (sections cut
 *        out of a larger document keep their file line numbers)
 * @param directory the directory for tree-shaped sources
 */
public record TopologySource(String name, List<String> lines, int firstLine, Optional<Path> directory) {
    /** ofText - a whole text file. */
    public static TopologySource ofText(String name, String text) {
        return new TopologySource(name, text.lines().toList(), 1, Optional.empty());
    }

    /** ofDirectory - a directory such as /sys or a copy of it. */
    public static TopologySource ofDirectory(Path dir) {
        return new TopologySource(dir.toString(), List.of(), 1, Optional.of(dir));
    }

    /** @return the file line number of {@code lines.get(index)}. */
    public int lineNumber(int index) {
        return firstLine + index;
    }

    /** @return the whole text. */
    public String text() {
        return String.join("\n", lines);
    }

    /** slice - lines [from, to) as their own source, keeping file line numbers. */
    public TopologySource slice(int from, int to) {
        return new TopologySource(name, lines.subList(from, to), firstLine + from, directory);
    }
}
