package org.peerdma.pci.imports.document;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.spi.TopologySource;

/**
 * Cuts a pasted document (markdown with ``` fences, terminal transcripts with "$ cmd" prompts,
 * '#' commentary) into sections, one per command output. Fence lines, prompt lines and '#' lines
 * outside fences end a section; a prompt or a comment naming a command in backquotes labels the
 * next one.
 */
public final class DocumentSplitter {
    private static final Pattern PROMPT = Pattern.compile(
            "^\\s*(?:\\$ |\\[[^\\]]+\\][$#] |[\\w.-]+@[\\w.-]+:[^$#]*[$#] )(.*)$");
    private static final Pattern HINT = Pattern.compile("`((?:sudo )?(?:lspci|lstopo|lscpu|hwloc-ls)[^`]*)`");

    private DocumentSplitter() {
    }

    /** split - the sections of {@code src}, in order; empty sections are dropped. */
    public static List<Section> split(TopologySource src) {
        List<Section> out = new ArrayList<>();
        List<String> lines = src.lines();
        String command = "";
        int start = 0;
        boolean fenced = false;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            String s = l.strip();
            String next = null;
            boolean boundary = false;
            if (s.startsWith("```")) {
                boundary = true;
                fenced = !fenced;
                next = "";
            } else if (PROMPT.matcher(l).matches()) {
                boundary = true;
                next = commandOf(l);
            } else if (!fenced && s.startsWith("#") && !s.startsWith("#!")) {
                boundary = true;
                Matcher h = HINT.matcher(s);
                next = h.find() ? h.group(1) : "";
            }
            if (boundary) {
                add(out, command, start, i, lines);
                start = i + 1;
                // a fence closing a block resets the label; a fence opening one keeps a pending label
                if (next != null && !(s.startsWith("```") && fenced && !command.isEmpty() && start - 1 == i
                        && isBlankRun(lines, start - 1, i))) {
                    command = next.isEmpty() && s.startsWith("```") && fenced ? command : next;
                }
            }
        }
        add(out, command, start, lines.size(), lines);
        return out;
    }

    private static boolean isBlankRun(List<String> lines, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!lines.get(i).isBlank()) {
                return false;
            }
        }
        return true;
    }

    private static void add(List<Section> out, String command, int from, int to, List<String> lines) {
        int a = from;
        int b = to;
        while (a < b && lines.get(a).isBlank()) {
            a++;
        }
        while (b > a && lines.get(b - 1).isBlank()) {
            b--;
        }
        if (a < b) {
            out.add(new Section(command, a, b));
        }
    }

    /** The command typed at a prompt line: the text after the last "$ " or "# ". */
    static String commandOf(String promptLine) {
        int d = promptLine.lastIndexOf("$ ");
        int h = promptLine.lastIndexOf("# ");
        int at = Math.max(d, h);
        String cmd = at < 0 ? promptLine : promptLine.substring(at + 2);
        return cmd.strip();
    }
}
