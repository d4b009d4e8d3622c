package org.peerdma.pci.imports.lspci;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.peerdma.errno.KernelException;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

/**
 * Reads the bus tree of {@code lspci -t}, {@code -tv}, {@code -tvn} and {@code -tvnn} (pciutils
 * ls-tree.c), also the per-bridge form of {@code lspci -t -s ...} ("0000:00:01.1-[01]--...") and
 * hand-cut fragments with elided parts ("…" or "...").
 * <p>
 * The tree is a character grid. A branch mark ({@code +-}, {@code \-}, or {@code |-} as a
 * hand-edited variant of {@code +-}) in column c continues the bus whose first device was drawn
 * from column c; {@code +} keeps that column open, {@code \} closes it, and any entry at column c
 * closes the columns right of c. A device "dd.f" followed by "-[ss]" or "-[ss-uu]" is a bridge to
 * bus ss; its bus is drawn from the column after "-[..]--". Root buses "[dddd:bb]" become host
 * bridges. What the tree does not show (BARs without -vv, class codes, port types, ACS) stays null
 * and is listed in the machine notes.
 */
public final class LspciTreeParser {
    /** The format name this parser produces. */
    public static final String FORMAT = "lspci-tv";

    private static final Pattern TREE_LINE = Pattern.compile(
            "[ |]*(?:[-+\\\\|]-\\s*(?:\\[[0-9a-fA-F]{2,8}(?::[0-9a-fA-F]{2})?\\]|[0-9a-fA-F]{2}\\.[0-7]|\u2026|\\.\\.\\.)"
            + "|-[0-9a-fA-F]{2}\\.[0-7]-\\[).*"
            + "|[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]-\\[.*"
            + "|[ |]*(?:Region \\d: )?(?:\\[\\w+\\] )?(?:Memory|I/O ports) at .*");
    private static final Pattern ROOT_LINE = Pattern.compile(
            "-(?:[+\\\\]-)?\\[[0-9a-fA-F]{2,8}(?::[0-9a-fA-F]{2})?\\]-.*|-[+\\\\]-[0-9a-fA-F]{2}\\.[0-7].*"
            + "|-[0-9a-fA-F]{2}\\.[0-7]-\\[.*");

    private LspciTreeParser() {
    }

    /**
     * parse - read an lspci tree.
     * Return: a machine with one host bridge per root bus and one device per function drawn.
     * Errors: {@link TopologyFormatException} naming {@code src.name()} and the file line for a
     * malformed bus range, a device in a column with no open branch, a duplicate address, a line
     * that is not part of a tree, or a source without any tree line.
     */
    public static MachineDTO parse(TopologySource src) {
        LspciTreeWalker w = new LspciTreeWalker(src);
        boolean any = false;
        for (int i = 0; i < src.lines().size(); i++) {
            String line = src.lines().get(i).replace("\r", "");
            if (skipped(line)) {
                continue;
            }
            any = true;
            try {
                w.line(i, line);
            } catch (TopologyFormatException e) {
                throw e;
            } catch (KernelException | IllegalArgumentException e) {
                throw new TopologyFormatException(src.name(), src.lineNumber(i),
                        org.peerdma.pci.imports.document.Quoting.clipQuoted(e.getMessage()));
            }
        }
        if (!any) {
            throw new TopologyFormatException(src.name(), src.firstLine(), "no lspci -t tree lines found");
        }
        return machine(src, w);
    }

    /**
     * probe - how sure we are that {@code src} is lspci -t output.
     * Return: 0 when no line looks like a tree line, up to 100 when every content line does, the
     * first line is a root line and the whole text parses.
     */
    public static int probe(TopologySource src) {
        int content = 0;
        int tree = 0;
        boolean rootFirst = false;
        for (String raw : src.lines()) {
            String line = raw.replace("\r", "").stripTrailing();
            if (skipped(line)) {
                continue;
            }
            if (content++ == 0) {
                rootFirst = ROOT_LINE.matcher(line).matches();
            }
            if (TREE_LINE.matcher(line).matches() || ROOT_LINE.matcher(line).matches()) {
                tree++;
            }
        }
        if (tree == 0) {
            return 0;
        }
        double share = (double) tree / content;
        try {
            MachineDTO m = parse(src);
            if (m.devices.isEmpty()) {
                return 5;
            }
        } catch (KernelException | IllegalArgumentException e) {
            return Math.max(1, (int) (share * 40));
        }
        int score = (int) Math.round(share * 90) + (rootFirst ? 10 : 0);
        return Math.max(1, Math.min(100, score));
    }

    /** Blank lines, '#' comments, ``` fences and "$ command" lines are not part of the tree. */
    private static boolean skipped(String line) {
        String t = line.strip();
        return t.isEmpty() || t.startsWith("#") || t.startsWith("```") || t.startsWith("$");
    }

    private static MachineDTO machine(TopologySource src, LspciTreeWalker w) {
        MachineDTO m = new MachineDTO();
        String file = src.name().substring(Math.max(src.name().lastIndexOf('/'), src.name().lastIndexOf('\\')) + 1);
        m.name = file.replaceFirst("\\.[^.]*$", "");
        m.source = src.name();
        m.format = FORMAT;
        m.hostBridges.addAll(w.roots);
        m.hostBridges.sort(Comparator.<HostBridgeDTO>comparingInt(h -> h.domain).thenComparingInt(h -> h.bus));
        List<String> order = new ArrayList<>(w.devices.keySet());
        order.sort(Comparator.comparing((String b) -> w.keys.get(b), LspciTreeParser::compareKeys));
        Map<String, Integer> perSlot = new HashMap<>();
        for (String bdf : order) {
            perSlot.merge(slotKey(w.keys.get(bdf)), 1, Integer::sum);
        }
        for (String bdf : order) {
            DeviceDTO d = w.devices.get(bdf);
            int[] k = w.keys.get(bdf);
            if (perSlot.get(slotKey(k)) > 1 || k[3] > 0) {
                d.multifunction = true; // another function of the slot is drawn (or this is one > 0)
            }
            m.devices.add(d);
        }
        m.notes.add(w.bars().seen ? "lspci -tvv gives no port types or ACS state"
                : "lspci -tv gives no BARs, port types or ACS state");
        m.notes.add("lspci -t prints no class codes; bridges are known only by the bus ranges drawn after them");
        if (!w.sawNames && !w.sawIds) {
            m.notes.add("lspci -t without -v: no vendor/device IDs or names");
        } else if (w.sawNames && !w.sawIds) {
            m.notes.add("lspci -tv without -nn: no numeric vendor/device IDs; vendor and device name kept together in deviceName");
        } else if (w.sawNames) {
            m.notes.add("lspci -tvnn prints vendor and device name as one string; kept together in deviceName");
        }
        if (w.filtered) {
            m.notes.add("lspci -t -s/-d output: only the selected bridges' subtrees are shown, root buses are not");
        }
        if (w.implicitRoot) {
            m.notes.add("the tree names no root bus; its top-level devices are taken to be on bus 0000:00");
        }
        m.notes.addAll(w.notes);
        return m;
    }

    private static String slotKey(int[] k) {
        return k[0] + ":" + k[1] + ":" + k[2];
    }

    private static int compareKeys(int[] a, int[] b) {
        for (int i = 0; i < a.length; i++) {
            int c = Integer.compare(a[i], b[i]);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
