package org.peerdma.pci.imports.lspci;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;

/**
 * The first line of an lspci device record, in its three spellings:
 * <pre>
 * 04:00.0 3D controller: NVIDIA Corporation GP100GL [Tesla P100 PCIe 12GB] (rev a1)      (names)
 * 00:00.0 Host bridge [0600]: Intel Corporation Sky Lake-E DMI3 Registers [8086:2020] (rev 04)   (-nn)
 * 00:00.0 0600: 8086:2020 (rev 04)                                                       (-n)
 * </pre>
 * followed, with -v, by "(prog-if 02 [NVM Express])". lspci omits "(rev 00)"; with -v it also
 * omits a zero unnamed prog-if.
 */
final class LspciHeaderLine {
    private static final Pattern BDF_TOKEN =
            Pattern.compile("(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
    /**
     * DOTALL: with '.' stopping at a U+2028 or U+0085 inside a line, a failing ".*" sent the lazy part on to the
     * next ": " and scanned the line again for each one (quadratic).
     */
    private static final Pattern LOOKS_LIKE = Pattern.compile(
            "(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7] [^\"\\s][^\"]*?: \\S.*", Pattern.DOTALL);
    private static final Pattern REV = Pattern.compile("(.*) \\(rev ([0-9a-fA-F]{2})\\)");
    private static final Pattern NN_CLASS = Pattern.compile("(.*) \\[([0-9a-fA-F]{4})\\]");
    private static final Pattern HEX4 = Pattern.compile("[0-9a-fA-F]{4}");
    private static final Pattern UNKNOWN_CLASS = Pattern.compile("Class ([0-9a-fA-F]{4})");
    private static final Pattern NN_IDS = Pattern.compile("(?:(.*) )?\\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\\]");
    private static final Pattern N_IDS = Pattern.compile("([0-9a-fA-F]{4}):([0-9a-fA-F]{4})");
    private static final Pattern DEV_PAIR =
            Pattern.compile("(?:Device|Unknown device) ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})");
    private static final Pattern DEV_NUM = Pattern.compile("(?:(.*) )?(?:Device|Unknown device) ([0-9a-fA-F]{4})");
    private static final Pattern NN_DEV = Pattern.compile("(?:(.*) )?Device");

    /** How IDs are shown: names only, names with [IDs] (-nn), or IDs only (-n). */
    enum Ids { NAMES, NAMES_AND_NUMBERS, NUMBERS }

    /** What a "Vendor Device" text gave; any part may be null. */
    record Names(Integer vendor, Integer device, String vendorName, String deviceName) {
    }

    final Bdf bdf;
    final Ids ids;
    final String className;
    /** (base << 8) | sub, null when the class name is not known. */
    final Integer class16;
    /** Null when no "(prog-if ..)" was printed. */
    final Integer progIf;
    /** Revision; lspci prints none for revision 0. */
    final int revision;
    final Names names;

    private LspciHeaderLine(Bdf bdf, Ids ids, String className, Integer class16, Integer progIf, int revision,
            Names names) {
        this.bdf = bdf;
        this.ids = ids;
        this.className = className;
        this.class16 = class16;
        this.progIf = progIf;
        this.revision = revision;
        this.names = names;
    }

    /** looksLikeHeader - a cheap check used by probing: "bb:dd.f class: text". */
    static boolean looksLikeHeader(String line) {
        return LOOKS_LIKE.matcher(line).matches();
    }

    /**
     * parse - read a device header line (already stripped).
     * Errors: LspciSyntaxError when the address or the "class: name" part is malformed.
     */
    static LspciHeaderLine parse(String line) {
        int sp = line.indexOf(' ');
        String tok = sp < 0 ? line : line.substring(0, sp);
        if (!BDF_TOKEN.matcher(tok).matches()) {
            throw LspciSyntaxError.of("malformed device header: '%s' is not a PCI address "
                    + "([dddd:]bb:dd.f, hex, function 0-7)", tok);
        }
        Bdf bdf;
        try {
            bdf = Bdf.parse(tok);
        } catch (KernelException e) {
            throw LspciSyntaxError.of("malformed device header: %s", e.detail());
        }
        String rest = sp < 0 ? "" : line.substring(sp + 1);
        int colon = rest.indexOf(": ");
        if (colon <= 0) {
            throw LspciSyntaxError.of("malformed device header: no 'class: name' after %s", tok);
        }
        String cls = rest.substring(0, colon).strip();
        String text = rest.substring(colon + 2).strip();
        if (cls.indexOf('"') >= 0) {
            throw LspciSyntaxError.of("'%s' looks like lspci -m output, which this parser does not read", line);
        }
        Integer progIf = null;
        int at = progIf(text);
        if (at >= 0) {
            progIf = Integer.parseInt(text.substring(at + 10, at + 12), 16);
            text = text.substring(0, at).strip();
        }
        int rev = 0;
        Matcher m = REV.matcher(text);
        if (m.matches()) {
            text = m.group(1).strip();
            rev = Integer.parseInt(m.group(2), 16);
        }
        Ids ids;
        String className = cls;
        Integer class16;
        if ((m = NN_CLASS.matcher(cls)).matches()) {
            // "Host bridge [0600]" is -nn; "Unassigned class [ff00]" is how lspci names a class whose
            // subclass pci.ids lacks, with or without -nn: only the [vendor:device] IDs tell.
            className = m.group(1).strip();
            class16 = Integer.parseInt(m.group(2), 16);
            boolean promised = LspciNames.classCode(className) != null;
            ids = promised || NN_IDS.matcher(text).matches() ? Ids.NAMES_AND_NUMBERS : Ids.NAMES;
        } else if (HEX4.matcher(cls).matches()) {
            ids = Ids.NUMBERS;
            className = null;
            class16 = Integer.parseInt(cls, 16);
        } else {
            ids = Ids.NAMES;
            m = UNKNOWN_CLASS.matcher(cls);
            class16 = m.matches() ? Integer.valueOf(Integer.parseInt(m.group(1), 16)) : LspciNames.classCode(cls);
        }
        Names names = names(text, ids);
        if (names == null) {
            throw LspciSyntaxError.of("malformed device header: '%s' lacks the [vendor:device] IDs that the "
                    + "[class] code promises (lspci -nn)", text);
        }
        return new LspciHeaderLine(bdf, ids, className, class16, progIf, rev, names);
    }

    /**
     * progIf - where " (prog-if xx)" or " (prog-if xx [name])" ends the text: the index of its space, -1 when it
     * does not. What {@code (.*) \(prog-if (hex2)(?: \[.*\])?\)} matched (the last such place: the group is
     * greedy), in one pass instead of its backtracking from every candidate.
     */
    static int progIf(String text) {
        int n = text.length();
        if (n < 13 || text.charAt(n - 1) != ')') {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return -1; // '.' matches no line terminator, and every other character of a match is fixed
            }
        }
        for (int at = text.lastIndexOf(" (prog-if ", n - 13); at >= 0; at = at == 0 ? -1 : text.lastIndexOf(" (prog-if ", at - 1)) {
            int h = at + 10;
            if (!isHex(text.charAt(h)) || !isHex(text.charAt(h + 1))) {
                continue;
            }
            if (h + 3 == n) {
                return at; // "(prog-if xx)"
            }
            if (text.charAt(h + 2) == ' ' && text.charAt(h + 3) == '[' && n - 2 >= h + 4 && text.charAt(n - 2) == ']') {
                return at; // "(prog-if xx [name])"
            }
        }
        return -1;
    }

    private static boolean isHex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    /**
     * names - split "Vendor Name Device Name" as lspci prints it.
     * Return: the IDs the text states and the names; null when {@code ids} promises numbers the
     * text does not have.
     */
    static Names names(String text, Ids ids) {
        if (ids == Ids.NUMBERS) {
            Matcher m = N_IDS.matcher(text);
            return m.matches() ? new Names(hex(m.group(1)), hex(m.group(2)), null, null) : null;
        }
        Integer vendor = null;
        Integer device = null;
        String rest = text;
        if (ids == Ids.NAMES_AND_NUMBERS) {
            Matcher m = NN_IDS.matcher(text);
            if (!m.matches()) {
                return null;
            }
            vendor = hex(m.group(2));
            device = hex(m.group(3));
            rest = m.group(1) == null ? "" : m.group(1).strip();
        }
        if (rest.isEmpty()) {
            return new Names(vendor, device, null, null);
        }
        Matcher m;
        if (ids == Ids.NAMES && (m = DEV_PAIR.matcher(rest)).matches()) {
            return new Names(hex(m.group(1)), hex(m.group(2)), null, null);
        }
        if (ids == Ids.NAMES && (m = DEV_NUM.matcher(rest)).matches()) {
            return new Names(null, hex(m.group(2)), m.group(1), null);
        }
        if (ids == Ids.NAMES_AND_NUMBERS && (m = NN_DEV.matcher(rest)).matches()) {
            return new Names(vendor, device, m.group(1), null);
        }
        String known = LspciNames.knownVendor(rest);
        if (known != null) {
            return new Names(vendor, device, known, rest.substring(known.length()).strip());
        }
        return new Names(vendor, device, null, rest);
    }

    private static Integer hex(String s) {
        return Integer.parseInt(s, 16);
    }
}
