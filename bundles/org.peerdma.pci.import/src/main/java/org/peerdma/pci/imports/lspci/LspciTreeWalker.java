package org.peerdma.pci.imports.lspci;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.spi.TopologySource;
import org.peerdma.util.Texts;

/**
 * The state machine behind {@link LspciTreeParser}: reads the character grid of {@code lspci -t}
 * line by line. Every column that still has a branch open ({@code +-} printed, {@code \-} not yet
 * reached) maps to the bus whose devices hang there; a device token right after a branch mark at
 * column c lies on the bus registered at c. Not thread-safe; one instance per parse.
 */
final class LspciTreeWalker {
    /** A bus as the tree shows it; number null = hidden by an elision. */
    record Bus(int domain, Integer number, String owner, Integer rangeEnd) {
        String label() {
            if (number == null) {
                return "an elided bus";
            }
            return domain == 0 ? String.format(Locale.ROOT, "bus %02x", number)
                    : String.format(Locale.ROOT, "bus %04x:%02x", domain, number);
        }
    }

    /** What an open column carries: devices of one bus, or (bus == null) the list of root buses. */
    private record Slot(Bus bus) {
    }

    private static final Slot ROOTS = new Slot(null);
    private static final Pattern DEV = Pattern.compile("([0-9a-fA-F]{2})\\.([0-7])");
    private static final Pattern RANGE = Pattern.compile("-\\[([0-9a-fA-F]{2})(?:-([0-9a-fA-F]{2}))?\\]");
    private static final Pattern ROOT = Pattern.compile("\\[(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2})\\]-");
    private static final Pattern FILTERED = Pattern.compile("([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):(?=[0-9a-fA-F]{2}\\.[0-7])");

    private final TopologySource src;
    private final TreeMap<Integer, Slot> open = new TreeMap<>();
    final Map<String, DeviceDTO> devices = new LinkedHashMap<>();
    final Map<String, int[]> keys = new LinkedHashMap<>();
    final List<HostBridgeDTO> roots = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    private final Map<String, Integer> lineOf = new LinkedHashMap<>();
    private final LspciTreeBars bars;
    boolean implicitRoot;
    /** Seen "dddd:bb:dd.f-[..]" lines (lspci -t with -s/-d): subtrees may repeat, roots are not shown. */
    boolean filtered;
    boolean sawNames;
    boolean sawIds;
    /** The device a following -tvv BAR line belongs to (null when that device was not placed). */
    private DeviceDTO last;
    /** Whether the previous entry was a non-bridge device, which -tvv may follow with BAR lines. */
    private boolean barsMayFollow;
    private int index;
    private String s;

    LspciTreeWalker(TopologySource src) {
        this.src = src;
        this.bars = new LspciTreeBars(this);
    }

    LspciTreeBars bars() {
        return bars;
    }

    /** Reads one content line ({@code index} into the source's lines). */
    void line(int index, String text) {
        this.index = index;
        this.s = text.stripTrailing();
        if (s.isEmpty()) {
            return;
        }
        Matcher f = FILTERED.matcher(s);
        if (f.lookingAt()) { // lspci -t -s ...: every bridge printed with its own "dddd:bb:" prefix
            open.clear();
            filtered = true;
            int dom = hex(f.group(1), 0);
            Bus b = new Bus(dom, hex(f.group(2), 0), null, null);
            run(device(f.end(), new Bus(b.domain(), b.number(), "the unshown bridge above " + b.label(), null)));
            return;
        }
        if (s.charAt(0) == '-') {
            open.clear();
            run(root());
            return;
        }
        int c = 0;
        while (c < s.length() && (at(c) == ' ' || at(c) == '|' && at(c + 1) != '-')) {
            c++;
        }
        if (c >= s.length()) {
            return; // only continuation pipes
        }
        char m = at(c);
        if ((m == '+' || m == '\\' || m == '|') && at(c + 1) == '-') {
            run(entry(c, m));
        } else if (elisionLength(c) > 0 && s.substring(c + elisionLength(c)).isBlank()) {
            notes.add(String.format(Locale.ROOT, "line %d: part of the tree is elided in the dump; devices there are missing",
                    line()));
        } else if (bars.isBarLine(s.substring(c))) {
            if (!barsMayFollow) {
                throw fail(c, "a BAR line with no device before it");
            }
            bars.read(last, s.substring(c), line());
        } else {
            throw fail(c, "not a line of an lspci -t tree: '" + Texts.clip(s.strip()) + "'");
        }
    }

    /**
     * What is left of a line to read: a device "dd.f" at {@code pos} (or a bus drawn from {@code pos}) on
     * {@code bus}. A line holds a whole chain of bridges ("-01.0-[01]----00.0-[02]--..."): its steps are read in a
     * loop, not by recursion, so a chain of any length cannot overflow the stack.
     */
    private record Step(boolean device, int pos, Bus bus) {
    }

    private void run(Step first) {
        for (Step st = first; st != null; st = st.device() ? device(st.pos(), st.bus()) : bus(st.pos(), st.bus())) {
            // each step returns the next one
        }
    }

    /** A continuation entry: mark '+', '\\' or '|' (hand-edited variant of '+') at column c. */
    private Step entry(int c, char m) {
        Slot slot = open.get(c);
        if (slot == null) {
            throw fail(c, "'" + m + "-' belongs to no open branch of the tree");
        }
        open.tailMap(c, false).clear();
        if (m == '\\') {
            open.remove(c);
        }
        if (slot == ROOTS) {
            return rootRef(c + 2);
        }
        return new Step(true, c + 2, slot.bus());
    }

    /** A line starting in column 0: the host bridge's '-' (a new tree). */
    private Step root() {
        char c1 = at(1);
        if (c1 == '[') {
            return rootRef(1);
        } else if ((c1 == '+' || c1 == '\\') && at(2) == '-' && at(3) == '[') {
            if (c1 == '+') {
                open.put(1, ROOTS);
            }
            return rootRef(3);
        } else {
            // old lspci ("-+-00.0") or a hand-cut fragment ("-01.0-[01-18]..."): no root bus named
            Bus b = new Bus(0, 0, "host bridge pci0000:00", null);
            if (!implicitRoot) {
                implicitRoot = true;
                addRoot(0, 0);
            }
            return new Step(DEV.matcher(s).region(1, s.length()).lookingAt(), 1, b);
        }
    }

    /** "[dddd:bb]-" or "[bb]-" at p, then that root bus's devices. */
    private Step rootRef(int p) {
        Matcher m = ROOT.matcher(s).region(p, s.length());
        if (!m.lookingAt()) {
            throw fail(p, "expected a root bus '[dddd:bb]-'");
        }
        int dom = m.group(1) == null ? 0 : hex(m.group(1), p);
        int bus = hex(m.group(2), p);
        addRoot(dom, bus);
        return new Step(false, m.end(), new Bus(dom, bus, String.format(Locale.ROOT, "host bridge pci%04x:%02x", dom, bus),
                null));
    }

    private void addRoot(int dom, int bus) {
        for (HostBridgeDTO h : roots) {
            if (h.domain == dom && h.bus == bus) {
                throw fail(0, String.format(Locale.ROOT, "root bus %04x:%02x appears twice", dom, bus));
            }
        }
        HostBridgeDTO h = new HostBridgeDTO();
        h.name = String.format(Locale.ROOT, "pci%04x:%02x", dom, bus);
        h.domain = dom;
        h.bus = bus;
        roots.add(h);
    }

    /** A bus drawn from column k: nothing (empty), "--" one device, "+-" first of several. */
    private Step bus(int k, Bus b) {
        if (k >= s.length()) {
            return null;
        }
        char c = at(k);
        if (c == '-' && at(k + 1) == '-') {
            return new Step(true, k + 2, b);
        } else if ((c == '+' || c == '|' || c == '\\') && at(k + 1) == '-') {
            if (c != '\\') {
                open.put(k, new Slot(b));
            }
            return new Step(true, k + 2, b);
        } else {
            throw fail(k, "expected '--', '+-' or the end of the line to start " + b.label());
        }
    }

    /** "dd.f" at p (or an elision), then a bus range and its subtree, or the names. */
    private Step device(int p, Bus b) {
        int q = p;
        while (at(q) == ' ') {
            q++;
        }
        if (elisionLength(q) > 0) {
            return elided(q, b);
        }
        Matcher m = DEV.matcher(s).region(p, s.length());
        if (!m.lookingAt()) {
            throw fail(p, "expected a device 'dd.f' on " + b.label());
        }
        int slot = hex(m.group(1), p);
        if (slot > 0x1f) {
            throw fail(p, "device number " + m.group(1) + " is above 1f");
        }
        int fn = Integer.parseInt(m.group(2));
        DeviceDTO d = b.number() == null ? null : add(b, slot, fn);
        if (d == null) {
            notes.add(String.format(Locale.ROOT,
                    "line %d: device %s sits on a bus hidden by an elision in the dump; not imported", line(), m.group()));
        }
        last = d;
        barsMayFollow = false;
        int e = m.end();
        if (s.startsWith("-[", e)) {
            return bridge(e, b, d, d == null ? "device " + m.group() + " on an elided bus" : d.bdf);
        } else if (e < s.length()) {
            if (at(e) != ' ') {
                throw fail(e, "unexpected text after device " + m.group());
            }
            barsMayFollow = true;
            if (d != null) {
                names(d, s.substring(e).strip());
            }
        } else {
            barsMayFollow = true;
        }
        return null;
    }

    /** "…" or "..." in place of a device: an elided bridge with a known bus range, or an unplaceable device. */
    private Step elided(int q, Bus b) {
        String mark = s.substring(q, q + elisionLength(q));
        int r = q + mark.length();
        while (at(r) == ' ') {
            r++;
        }
        if (r >= s.length()) {
            notes.add(String.format(Locale.ROOT, "line %d: part of %s is elided ('%s') in the dump; devices there are missing",
                    line(), b.label(), mark));
            return null;
        }
        if (s.startsWith("-[", r)) {
            int[] range = range(r);
            String owner = "the elided bridge above " + new Bus(b.domain(), range[0], null, null).label();
            Bus child = new Bus(b.domain(), range[0], owner, range[1]);
            notes.add(String.format(Locale.ROOT, "%s: the bridge leading to it is elided ('%s') in the dump; it lies below %s's bus range",
                    child.label(), mark, b.owner() == null ? "an elided bridge" : b.owner()));
            checkNesting(b, range, owner);
            return new Step(false, range[2], child);
        }
        while (at(r) == '-') {
            r++;
        }
        if (!DEV.matcher(s).region(r, s.length()).lookingAt()) {
            throw fail(r, "cannot read what follows the elision '" + mark + "'");
        }
        return new Step(true, r, new Bus(b.domain(), null, null, null));
    }

    /** "-[ss]--" or "-[ss-uu]--" at e after a bridge; d null when the bridge itself is not placed. */
    private Step bridge(int e, Bus parent, DeviceDTO d, String owner) {
        int[] range = range(e);
        if (d != null) {
            d.headerType = 1;
            d.secondaryBus = range[0];
            d.subordinateBus = range[1];
            if (range[1] < range[0]) {
                d.notes.add(String.format(Locale.ROOT, "subordinate bus %02x is below secondary bus %02x", range[1], range[0]));
            }
        }
        checkNesting(parent, range, owner);
        return new Step(false, range[2], new Bus(parent.domain(), range[0], owner, range[1]));
    }

    /** Parses a bus range at e; returns {secondary, subordinate, column after "]--"}. */
    private int[] range(int e) {
        Matcher m = RANGE.matcher(s).region(e, s.length());
        if (!m.lookingAt()) {
            int close = s.indexOf(']', e);
            String shown = close < 0 ? s.substring(e) : s.substring(e, close + 1);
            throw fail(e, "malformed bus range '" + Texts.clip(shown) + "' (expected -[bb] or -[bb-ss], hex)");
        }
        int sec = hex(m.group(1), e);
        int sub = m.group(2) == null ? sec : hex(m.group(2), e);
        if (!s.startsWith("--", m.end())) {
            throw fail(m.end(), "expected '--' after bus range " + m.group().substring(1));
        }
        return new int[] {sec, sub, m.end() + 2};
    }

    /** Notes a child bus range that does not fit inside the range of the bus it hangs from. */
    private void checkNesting(Bus parent, int[] range, String who) {
        if (parent.number() == null) {
            return;
        }
        boolean inside = range[0] > parent.number() && (parent.rangeEnd() == null || range[1] <= parent.rangeEnd());
        if (!inside) {
            notes.add(String.format(Locale.ROOT, "line %d: %s has buses %02x-%02x, outside the range of %s (%s)", line(), who,
                    range[0], range[1], parent.label(), parent.owner()));
        }
    }

    private DeviceDTO add(Bus b, int slot, int fn) {
        String bdf = String.format(Locale.ROOT, "%04x:%02x:%02x.%d", b.domain(), b.number(), slot, fn);
        Integer first = lineOf.get(bdf);
        if (first != null && filtered) {
            return devices.get(bdf); // a filtered tree prints a subtree again under each matching bridge
        }
        if (first != null) {
            throw fail(0, "duplicate device " + bdf + " (first seen on line " + first + ")");
        }
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.headerType = 0;
        devices.put(bdf, d);
        keys.put(bdf, new int[] {b.domain(), b.number(), slot, fn});
        lineOf.put(bdf, line());
        return d;
    }

    /** -tvn "vvvv:dddd"; -tv "Device vvvv:dddd" when pci.ids knows neither vendor nor device. */
    private static final Pattern NUMERIC = Pattern.compile("(?:Device )?([0-9a-fA-F]{4}):([0-9a-fA-F]{4})");

    /**
     * The text lspci -tv / -tvn / -tvnn prints after a device (pciutils names.c format_name_pair).
     * Vendor and device name are joined by a space and cannot be told apart, so the whole name
     * goes to deviceName; the numeric IDs are taken when printed.
     */
    private void names(DeviceDTO d, String text) {
        if (text.isEmpty()) {
            return;
        }
        Matcher n = NUMERIC.matcher(text);
        String[] x = mixed(text);
        if (n.matches()) {
            d.vendor = Integer.parseInt(n.group(1), 16);
            d.device = Integer.parseInt(n.group(2), 16);
            sawIds = true;
            return;
        }
        sawNames = true;
        if (x == null) {
            d.deviceName = text;
            return;
        }
        sawIds = true;
        d.vendor = Integer.parseInt(x[1], 16);
        d.device = Integer.parseInt(x[2], 16);
        if (!x[0].isEmpty() && !x[0].equals("Device")) {
            d.deviceName = x[0];
        }
    }

    /**
     * -tvnn "&lt;vendor&gt; &lt;device&gt; [vvvv:dddd]" (or "&lt;vendor&gt; Device [..]", "Device [..]"): {name, vendor,
     * device}, the name without the white space before the brackets; null when the text does not end so. What
     * {@code (.*?)\s*\[(hex4):(hex4)\]} matched, without its backtracking over long runs of blanks.
     */
    static String[] mixed(String text) {
        int n = text.length();
        int b = n - 11; // "[vvvv:dddd]"
        if (b < 0 || text.charAt(b) != '[' || text.charAt(b + 5) != ':' || text.charAt(n - 1) != ']'
                || !hex4(text, b + 1) || !hex4(text, b + 6)) {
            return null;
        }
        int e = b;
        while (e > 0 && " \t\n\u000b\f\r".indexOf(text.charAt(e - 1)) >= 0) {
            e--;
        }
        for (int i = 0; i < e; i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return null; // '.' does not match a line terminator
            }
        }
        return new String[] {text.substring(0, e), text.substring(b + 1, b + 5), text.substring(b + 6, b + 10)};
    }

    private static boolean hex4(String s, int at) {
        for (int i = at; i < at + 4; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return true;
    }

    private int elisionLength(int p) {
        if (at(p) == '\u2026') {
            return 1;
        }
        return s.startsWith("...", p) ? 3 : 0;
    }

    private char at(int p) {
        return p >= 0 && p < s.length() ? s.charAt(p) : '\0';
    }

    private int hex(String h, int col) {
        try {
            return Integer.parseInt(h, 16);
        } catch (NumberFormatException ex) {
            throw fail(col, "'" + Texts.clip(h) + "' is not a hex number");
        }
    }

    int line() {
        return src.lineNumber(index);
    }

    TopologyFormatException fail(int col, String msg) {
        return new TopologyFormatException(src.name(), line(), (col > 0 ? "column " + (col + 1) + ": " : "") + msg);
    }
}
