package org.peerdma.pci.imports.lspci;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.lspci.LspciHeaderLine.Ids;
import org.peerdma.pci.spi.TopologySource;

/**
 * Reads lspci listings: {@code lspci -v}, {@code -vv}, {@code -vvv} with or without {@code -nn}
 * (or {@code -n}) and {@code -D}, and the one-line {@code lspci} / {@code lspci -nn} form.
 * <p>
 * Per device: address, class, IDs when printed (never derived from names), vendor/device names,
 * revision, prog-if, subsystem, NUMA node, bus numbers, BARs, expansion ROM, bridge windows,
 * capability list with IDs, Express port type, current link speed/width, ACS capability and
 * control bits, kernel driver. Other detail lines are ignored. Blank lines, '#' comments,
 * markdown fences, "$ command" prompts and sudo password prompts are skipped.
 */
public final class LspciVerboseParser {
    /** Format name of a verbose listing with -vv or -vvv. */
    public static final String FORMAT_VVV = "lspci-vvv";
    /** Format name of a plain -v listing. */
    public static final String FORMAT_V = "lspci-v";
    /** Format name of the one-line listing. */
    public static final String FORMAT_ONE_LINE = "lspci";

    private LspciVerboseParser() {
    }

    /**
     * parse - read an lspci listing into a machine description.
     * @param src the listing (a section of a larger document keeps its file line numbers)
     * Return: the machine with one DeviceDTO per device record, in listing order; host bridges
     * and CPU are left empty (lspci does not print them), and notes say what the listing lacks.
     * Errors: {@link TopologyFormatException} (EINVAL) naming the file and line for a detail line
     * outside a device record, a malformed header or address, a duplicate address, a BAR or
     * window line that cannot be read, a truncated capability or ACS line, a record without
     * detail lines inside a verbose listing, or a listing without any device.
     */
    public static MachineDTO parse(TopologySource src) {
        Objects.requireNonNull(src, "src");
        List<LspciRecord> records = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        LspciRecord cur = null;
        boolean closed = false;
        List<String> lines = src.lines();
        for (int i = 0; i < lines.size(); i++) {
            String raw = stripCr(lines.get(i));
            int lineNo = src.lineNumber(i);
            if (raw.isBlank()) {
                closed = cur != null;
                continue;
            }
            if (isNoise(raw)) {
                continue;
            }
            try {
                int indent = indent(raw);
                if (indent == 0) {
                    if (cur != null) {
                        cur.finish();
                    }
                    cur = new LspciRecord(LspciHeaderLine.parse(raw.strip()), lineNo);
                    closed = false;
                    Integer first = seen.putIfAbsent(cur.dev.bdf, lineNo);
                    if (first != null) {
                        throw LspciSyntaxError.of("duplicate device %s (first listed at line %d)", cur.dev.bdf,
                                first);
                    }
                    records.add(cur);
                } else if (cur == null || closed) {
                    throw LspciSyntaxError.of("detail line '%s' is not inside a device record (no device header "
                            + "line before it)", raw.strip());
                } else {
                    cur.detail(indent, raw.strip());
                }
            } catch (LspciSyntaxError e) {
                throw new TopologyFormatException(src.name(), lineNo, e.getMessage());
            } catch (NumberFormatException | ArithmeticException e) {
                throw new TopologyFormatException(src.name(), lineNo, "a number out of range in '"
                        + org.peerdma.util.Texts.clip(raw.strip()) + "'");
            }
        }
        if (cur != null) {
            try {
                cur.finish();
            } catch (LspciSyntaxError e) {
                throw new TopologyFormatException(src.name(), cur.line, e.getMessage());
            } catch (NumberFormatException | ArithmeticException e) {
                throw new TopologyFormatException(src.name(), cur.line, "a number out of range in the record");
            }
        }
        if (records.isEmpty()) {
            throw new TopologyFormatException(src.name(), src.firstLine(), "no lspci device record found");
        }
        return machine(src, records);
    }

    private static MachineDTO machine(TopologySource src, List<LspciRecord> records) {
        boolean verbose = records.stream().anyMatch(r -> r.detailLines > 0);
        if (verbose) {
            for (LspciRecord r : records) {
                if (r.detailLines == 0) {
                    throw new TopologyFormatException(src.name(), r.line, "device " + r.dev.bdf
                            + " has no detail lines although other records do (truncated record?)");
                }
            }
        }
        MachineDTO m = new MachineDTO();
        m.source = src.name();
        // -vv: Control lines, or (a paste cut down to what matters) ACS bits or a link status
        boolean vv = records.stream().anyMatch(r -> r.controlSeen || r.dev.linkWidth != null
                || r.dev.acs != null && r.dev.acs.ctrl != null);
        m.format = !verbose ? FORMAT_ONE_LINE : vv ? FORMAT_VVV : FORMAT_V;
        for (LspciRecord r : records) {
            m.devices.add(r.dev);
        }
        if (!verbose) {
            m.notes.add("lspci one-line listing: no bus ranges, BARs or ACS");
        } else if (!vv) {
            m.notes.add("lspci -v (not -vv): no ACSCap/ACSCtl bits and no link status");
        }
        long named = records.stream().filter(r -> r.header.ids == Ids.NAMES).count();
        if (named > 0) {
            m.notes.add(named + " device(s) listed without -nn: vendor/device IDs are not in the dump, only names "
                    + "(IDs shown as 'Device xxxx' by lspci are kept)");
        }
        long denied = records.stream().filter(r -> r.accessDenied).count();
        if (denied > 0) {
            m.notes.add(denied + " device(s) show 'Capabilities: <access denied>': lspci ran without root, "
                    + "so their port type, ACS and extended capabilities are unknown");
        }
        m.notes.add("lspci prints no host bridge apertures or bus ranges and no CPU: hostBridges and cpu left empty");
        return m;
    }

    /**
     * probe - how sure it is that {@code src} is an lspci listing this parser reads.
     * Return: 0 when no line is a device header; about 90 for a verbose listing (device headers
     * followed by indented detail lines), 50 for a one-line listing; lower when other text is
     * mixed in. Never throws for malformed text.
     */
    public static int probe(TopologySource src) {
        if (src == null) {
            return 0;
        }
        int headers = 0;
        int details = 0;
        int other = 0;
        boolean caps = false;
        for (String line : src.lines()) {
            String raw = stripCr(line);
            if (raw.isBlank() || isNoise(raw)) {
                continue;
            }
            if (indent(raw) > 0) {
                if (headers > 0) {
                    details++;
                    caps |= raw.strip().startsWith("Capabilities:");
                } else {
                    other++;
                }
            } else if (LspciHeaderLine.looksLikeHeader(raw.strip())) {
                headers++;
            } else {
                other++;
            }
        }
        if (headers == 0) {
            return 0;
        }
        int score = details > 0 ? (caps ? 95 : 85) : 50;
        if (other > 0) {
            score = other * 4 > headers + details ? 5 : score / 2;
        }
        return score;
    }

    private static String stripCr(String s) {
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Lines around a listing in a document: comments, fences, shell prompts, sudo's prompt. */
    private static boolean isNoise(String raw) {
        String s = raw.strip();
        return (indent(raw) == 0 && s.startsWith("#")) || s.startsWith("```") || s.startsWith("$ ")
                || s.startsWith("[sudo] password for ");
    }

    /** indent - leading whitespace in columns, a tab advancing to the next multiple of 8. */
    static int indent(String s) {
        int col = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\t') {
                col = (col / 8 + 1) * 8;
            } else if (c == ' ') {
                col++;
            } else {
                break;
            }
        }
        return col;
    }
}
