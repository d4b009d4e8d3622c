package org.peerdma.pci.imports.lspci;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.WindowDTO;

/**
 * The address lines of an lspci record: BARs ("Region 1: Memory at 3b800000000 (64-bit,
 * prefetchable) [size=16G]", or without "Region N:" under plain -v), the expansion ROM and a
 * bridge's forwarding windows ("Memory behind bridge: 92000000-929fffff [size=10M]").
 */
final class LspciResources {
    /** The BAR index lspci -vv prints; 6 is the expansion ROM. */
    static final int ROM_INDEX = 6;

    private static final Pattern REGION = Pattern.compile("Region (\\d+): (.*)");
    private static final Pattern MEMORY =
            Pattern.compile("Memory at (\\S+) \\((32-bit|64-bit|low-1M|type 3), (non-)?prefetchable\\)(.*)");
    private static final Pattern IO = Pattern.compile("I/O ports at (\\S+)(.*)");
    private static final Pattern ROM = Pattern.compile("Expansion ROM at (\\S+)(.*)");
    private static final Pattern WINDOW = Pattern.compile("(I/O|Memory|Prefetchable memory) behind bridge:(.*)");
    private static final Pattern RANGE = Pattern.compile("([0-9a-fA-F]+)-([0-9a-fA-F]+)(.*)");
    private static final Pattern TAG = Pattern.compile("\\s*\\[([^\\[\\]]*)\\]");
    private static final Pattern SIZE = Pattern.compile("(\\d+)([KMGTP]?)");
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{1,16}");

    private LspciResources() {
    }

    /** The bracketed flags after an address that matter here: [disabled] and [size=..]. */
    record Tags(boolean disabled, Long size) {
    }

    /** isRegion - whether a level-1 line is a BAR line (with or without "Region N:"). */
    static boolean isRegion(String text) {
        return text.startsWith("Region ") || text.startsWith("Memory at ") || text.startsWith("I/O ports at ");
    }

    /**
     * region - read a BAR line.
     * @param text the line, stripped
     * @param impliedIndex the index to use when the line has no "Region N:" (plain lspci -v)
     * Return: the BAR; start is null for "&lt;unassigned&gt;", "&lt;ignored&gt;" and broken slots; size 0
     * when lspci printed none. Errors: LspciSyntaxError for a malformed or truncated line.
     */
    static BarDTO region(String text, int impliedIndex) {
        BarDTO bar = new BarDTO();
        String body = text;
        Matcher m = REGION.matcher(text);
        if (text.startsWith("Region ")) {
            if (!m.matches()) {
                throw LspciSyntaxError.of("malformed Region line '%s'", text);
            }
            bar.index = m.group(1).length() > 2 ? 99 : Integer.parseInt(m.group(1));
            if (bar.index > 5) {
                throw LspciSyntaxError.of("Region %s: a function has BARs 0-5 only",
                        org.peerdma.util.Texts.clip(m.group(1)));
            }
            body = m.group(2);
        } else {
            bar.index = impliedIndex;
        }
        String tail;
        String addr;
        if ((m = MEMORY.matcher(body)).matches()) {
            addr = m.group(1);
            bar.mem64 = "64-bit".equals(m.group(2));
            bar.prefetchable = m.group(3) == null;
            tail = m.group(4);
        } else if ((m = IO.matcher(body)).matches()) {
            addr = m.group(1);
            bar.io = true;
            tail = m.group(2);
        } else {
            throw LspciSyntaxError.of("malformed or truncated BAR line '%s' (expected 'Memory at ADDR "
                    + "(NN-bit, [non-]prefetchable)' or 'I/O ports at ADDR')", text);
        }
        fill(bar, addr, tags(tail, text));
        return bar;
    }

    /** rom - read an "Expansion ROM at ..." line. Errors: LspciSyntaxError when malformed. */
    static BarDTO rom(String text) {
        Matcher m = ROM.matcher(text);
        if (!m.matches()) {
            throw LspciSyntaxError.of("malformed Expansion ROM line '%s'", text);
        }
        BarDTO bar = new BarDTO();
        bar.index = ROM_INDEX;
        fill(bar, m.group(1), tags(m.group(2), text));
        return bar;
    }

    private static void fill(BarDTO bar, String addr, Tags tags) {
        if (HEX.matcher(addr).matches()) {
            bar.start = Long.parseUnsignedLong(addr, 16);
        } else if (addr.equals("<unassigned>") || addr.equals("<ignored>") || addr.equals("<broken-64-bit-slot>")) {
            bar.start = null;
            bar.disabled = true;
        } else {
            throw LspciSyntaxError.of("BAR address '%s' is neither hex nor <unassigned>/<ignored>", addr);
        }
        bar.disabled |= tags.disabled();
        bar.size = tags.size() == null ? 0 : tags.size();
    }

    /** isWindow - whether a level-1 line is a bridge window line. */
    static boolean isWindow(String text) {
        return WINDOW.matcher(text).matches();
    }

    /**
     * window - read "I/O behind bridge:", "Memory behind bridge:" or "Prefetchable memory behind
     * bridge:".
     * Return: the window, or null when it is disabled ("[disabled]", "None", base above limit).
     * Errors: LspciSyntaxError when the range or size cannot be read or disagree.
     */
    static WindowDTO window(String text) {
        Matcher m = WINDOW.matcher(text);
        if (!m.matches()) {
            throw LspciSyntaxError.of("malformed bridge window line '%s'", text);
        }
        String kind = m.group(1);
        String rest = m.group(2).strip();
        if (rest.equals("None") || rest.equals("[disabled]") || rest.startsWith("[disabled] ")) {
            return null;
        }
        Matcher r = RANGE.matcher(rest);
        if (!r.matches() || r.group(1).length() > 16 || r.group(2).length() > 16) {
            throw LspciSyntaxError.of("malformed or truncated bridge window '%s'", text);
        }
        long base = Long.parseUnsignedLong(r.group(1), 16);
        long limit = Long.parseUnsignedLong(r.group(2), 16);
        Tags tags = tags(r.group(3), text);
        if (tags.disabled() || Long.compareUnsigned(base, limit) > 0) {
            return null;
        }
        WindowDTO w = new WindowDTO();
        w.cpuStart = base;
        w.size = limit - base + 1;
        w.io = kind.equals("I/O");
        w.prefetchable = kind.startsWith("Prefetchable");
        if (tags.size() != null && tags.size() != w.size) {
            throw LspciSyntaxError.of("bridge window %s-%s is %#x bytes but lspci printed a size of %#x",
                    r.group(1), r.group(2), w.size, tags.size());
        }
        return w;
    }

    /**
     * tags - the bracketed flags after an address. "[virtual]" (an address the kernel reports but
     * the device's BAR does not hold), "[enhanced]" and flags of later lspci versions ("[32-bit]")
     * are accepted and ignored; text outside brackets or an unclosed bracket is an error.
     */
    static Tags tags(String tail, String line) {
        boolean disabled = false;
        Long size = null;
        Matcher t = TAG.matcher(tail);
        int pos = 0;
        int end = tail.length();
        while (end > 0 && Character.isWhitespace(tail.charAt(end - 1))) {
            end--; // what isBlank() calls blank; the rest after the last tag may be
        }
        while (pos < tail.length()) {
            if (pos >= end) {
                break;
            }
            t.region(pos, tail.length());
            if (!t.lookingAt()) {
                throw LspciSyntaxError.of("unexpected or truncated text '%s' in '%s'", tail.substring(pos).strip(),
                        line);
            }
            String tag = t.group(1);
            if (tag.equals("disabled")) {
                disabled = true;
            } else if (tag.startsWith("size=")) {
                size = size(tag.substring(5), line);
            }
            pos = t.end();
        }
        return new Tags(disabled, size);
    }

    /**
     * size - lspci's "[size=16G]": a decimal count with an optional K/M/G/T power-of-1024 suffix.
     * Errors: LspciSyntaxError when it does not parse.
     */
    static long size(String text, String line) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw LspciSyntaxError.of("cannot parse size '%s' in '%s'", text, line);
        }
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            case "P" -> 50;
            default -> 0;
        };
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw LspciSyntaxError.of("size '%s' is too large in '%s'", text, line);
        }
        if (n > (Long.MAX_VALUE >> shift)) {
            throw LspciSyntaxError.of("size '%s' is too large in '%s'", text, line);
        }
        return n << shift;
    }
}
