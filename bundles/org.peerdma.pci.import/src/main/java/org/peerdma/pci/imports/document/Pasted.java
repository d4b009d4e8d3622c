package org.peerdma.pci.imports.document;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.peerdma.pci.spi.TopologySource;
import org.peerdma.util.Texts;

/**
 * A dump as people paste it: captured with {@code 2>&1} (lspci's and pcilib's warnings between, or
 * inside, device blocks), through sudo (its password prompt), from a coloured terminal (ANSI escape
 * codes), from Windows (CRLF, a byte-order mark). The noise lines are taken out, keeping every other
 * line's number for error messages, and each one is named in the notes.
 */
public final class Pasted {
    /** CSI sequences (colours, cursor), OSC sequences (titles) and two-byte escapes. */
    private static final Pattern ANSI = Pattern.compile(
            "\u001B\\[[0-?]*[ -/]*[@-~]|\u001B\\][^\u0007\u001B]*(?:\u0007|\u001B\\\\)|\u001B[@-Z\\\\-_]");
    /** A diagnostic of the tools that make dumps: "lspci: Unable to load libkmod resources: error -2". */
    private static final Pattern TOOL_WARNING = Pattern.compile(
            "^\\s*(?:lspci|setpci|pcilib|lstopo(?:-no-graphics)?|hwloc[\\w-]*|lscpu|nvidia-smi)(?:\\[\\d+\\])?: .*");
    /** sudo's prompts and complaints. */
    private static final Pattern SUDO = Pattern.compile(
            "^\\s*(?:\\[sudo\\] password for [^:]*:.*|sudo: .*|Password:\\s*)$");
    /** At most this many skipped lines are named one by one in the notes. */
    static final int NAMED = 20;

    /** What cleaning kept, and what it says it took out. */
    public record Result(TopologySource source, List<String> notes) {
    }

    private Pasted() {
    }

    /** clean - the source without the noise lines and escape codes; notes name each line taken out. */
    public static Result clean(TopologySource src) {
        List<String> lines = src.lines();
        List<String> kept = new ArrayList<>(lines.size());
        int[] numbers = new int[lines.size()];
        List<String> notes = new ArrayList<>();
        int skipped = 0;
        int coloured = 0;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (i == 0 && l.startsWith("\uFEFF")) {
                l = l.substring(1);
            }
            if (l.indexOf('\u001B') >= 0) {
                l = ANSI.matcher(l).replaceAll("");
                coloured++;
            }
            if (l.endsWith("\r")) {
                l = l.substring(0, l.length() - 1);
            }
            if (TOOL_WARNING.matcher(l).matches() || SUDO.matcher(l).matches()) {
                if (++skipped <= NAMED) {
                    notes.add("skipped line " + src.lineNumber(i) + ", not part of the dump: " + Texts.clip(l.strip()));
                }
                continue;
            }
            numbers[kept.size()] = src.lineNumber(i);
            kept.add(l);
        }
        if (skipped > NAMED) {
            notes.add("skipped " + (skipped - NAMED) + " more such lines");
        }
        if (coloured > 0) {
            notes.add("removed terminal colour codes from " + coloured + " line(s)");
        }
        if (skipped == 0 && coloured == 0 && !(lines.size() > 0 && lines.get(0).startsWith("\uFEFF"))) {
            return new Result(src, notes);
        }
        return new Result(TopologySource.ofLines(src.name(), kept, java.util.Arrays.copyOf(numbers, kept.size())),
                notes);
    }
}
