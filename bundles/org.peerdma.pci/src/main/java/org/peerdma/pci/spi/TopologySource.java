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
 * @param numbers the 1-based file line number of each entry of {@code lines} when lines were taken
 *        out of the text (a paste's tool warnings), or null when they run on from {@code firstLine}
 */
public record TopologySource(String name, List<String> lines, int firstLine, Optional<Path> directory,
        int[] numbers) {
    /** A text whose lines are numbered from {@code firstLine} on. */
    public TopologySource(String name, List<String> lines, int firstLine, Optional<Path> directory) {
        this(name, lines, firstLine, directory, null);
    }

    /** ofText - a whole text file. */
    public static TopologySource ofText(String name, String text) {
        return new TopologySource(name, text.lines().toList(), 1, Optional.empty());
    }

    /** ofLines - lines kept from a text, each with its line number in that text. */
    public static TopologySource ofLines(String name, List<String> lines, int[] numbers) {
        if (numbers.length != lines.size()) {
            throw new IllegalArgumentException("BUG: " + lines.size() + " lines, " + numbers.length + " numbers");
        }
        return new TopologySource(name, List.copyOf(lines), numbers.length == 0 ? 1 : numbers[0], Optional.empty(),
                numbers.clone());
    }

    /** ofDirectory - a directory such as /sys or a copy of it. */
    public static TopologySource ofDirectory(Path dir) {
        return new TopologySource(dir.toString(), List.of(), 1, Optional.of(dir));
    }

    /** @return the file line number of {@code lines.get(index)}. */
    public int lineNumber(int index) {
        return numbers == null ? firstLine + index : numbers[index];
    }

    /** @return the whole text. */
    public String text() {
        return String.join("\n", lines);
    }

    /** slice - lines [from, to) as their own source, keeping file line numbers. */
    public TopologySource slice(int from, int to) {
        if (numbers == null) {
            return new TopologySource(name, lines.subList(from, to), firstLine + from, directory, null);
        }
        int[] n = java.util.Arrays.copyOfRange(numbers, from, to);
        return new TopologySource(name, lines.subList(from, to), n.length == 0 ? firstLine : n[0], directory, n);
    }
}
