package org.peerdma.pci.imports.pciids;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.TopologyFormatException;

/**
 * The PCI ID database in pci.ids format (the file lspci names devices from): vendor, device,
 * subsystem and class names, with reverse lookups that recover IDs from dumps printed without
 * {@code -nn}. Immutable and thread-safe once loaded.
 * <p>
 * Format: "vvvv  Vendor", "\tdddd  Device", "\t\tssss ssss  Subsystem"; the class section
 * "C cc  Class", "\tss  Subclass", "\t\tpp  Programming interface". '#' lines are comments.
 * Other top-level sections (an unknown letter followed by a space) are skipped with their
 * indented lines.
 */
public final class PciIds {
    /** Where {@link #bundled()} finds the shipped database. */
    public static final String RESOURCE = "/org/peerdma/pci/imports/pciids/pci.ids";
    private static final Pattern VENDOR = Pattern.compile("([0-9a-fA-F]{4})\\s+(\\S.*)");
    private static final Pattern DEVICE = Pattern.compile("\t([0-9a-fA-F]{4})\\s+(\\S.*)");
    private static final Pattern SUBSYS = Pattern.compile("\t\t([0-9a-fA-F]{4})\\s+([0-9a-fA-F]{4})\\s+(\\S.*)");
    private static final Pattern CLASS = Pattern.compile("C ([0-9a-fA-F]{2})\\s+(\\S.*)");
    private static final Pattern SUBCLASS = Pattern.compile("\t([0-9a-fA-F]{2})\\s+(\\S.*)");
    private static final Pattern PROGIF = Pattern.compile("\t\t([0-9a-fA-F]{2})\\s+(\\S.*)");
    private static final Pattern VERSION = Pattern.compile("#\\s*Version:\\s*(\\S+)");
    /** lspci's words for a device the database lacks: "Device 6f00". */
    private static final Pattern UNKNOWN_DEVICE = Pattern.compile("Device ([0-9a-fA-F]{4})");
    private static final Pattern UNKNOWN_BOTH = Pattern.compile("Device ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})");

    private final Map<Integer, String> vendors = new LinkedHashMap<>();
    private final Map<Integer, Map<Integer, String>> devices = new HashMap<>();
    private final Map<Long, String> subsystems = new HashMap<>();
    private final Map<Integer, String> baseClasses = new HashMap<>();
    private final Map<Integer, String> classes = new HashMap<>();
    private final Map<Integer, String> progIfs = new HashMap<>();
    private String version;

    /** A vendor and device ID pair recovered from names. */
    public record VendorDevice(int vendor, int device) {
    }

    private PciIds() {
    }

    private static final class Bundled {
        static final PciIds INSTANCE = loadBundled();

        private static PciIds loadBundled() {
            try (InputStream in = PciIds.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + RESOURCE + " is missing from the bundle");
                }
                return load(in, "pci.ids");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read bundled " + RESOURCE, e);
            }
        }
    }

    /**
     * bundled - the database shipped in this bundle, loaded on first use (holder idiom: lazy and
     * thread-safe).
     * Return: the shared instance.
     */
    public static PciIds bundled() {
        return Bundled.INSTANCE;
    }

    /**
     * load - parse a pci.ids stream (UTF-8; the stream is read to its end but not closed).
     *
     * @param in the database text
     * @param name the name used in error messages
     * Return: the database.
     * Errors: TopologyFormatException naming {@code name} and the line for a line that fits no
     * record form, or a device/subsystem line with no vendor above it; IOException from the stream.
     */
    public static PciIds load(InputStream in, String name) throws IOException {
        PciIds ids = new PciIds();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
        String line;
        int no = 0;
        int vendor = -1;
        int device = -1;
        int cls = -1;
        int sub = -1;
        boolean skipping = false;
        // The format is fixed-column (tabs, 4- or 2-digit hex IDs, two spaces, the name): read it without
        // regular expressions, which made loading the 1.3 MB file take most of a one-shot command's time.
        while ((line = r.readLine()) != null) {
            no++;
            if (line.isBlank()) {
                continue;
            }
            char c0 = line.charAt(0);
            if (c0 == '#') {
                Matcher v = VERSION.matcher(line);
                if (ids.version == null && v.lookingAt()) {
                    ids.version = v.group(1);
                }
                continue;
            }
            if (c0 != '\t') {
                vendor = device = cls = sub = -1;
                skipping = false;
                if (c0 == 'C' && line.length() > 5 && line.charAt(1) == ' ' && hexAt(line, 2, 2) >= 0
                        && Character.isWhitespace(line.charAt(4))) {
                    cls = hexAt(line, 2, 2);
                    ids.baseClasses.put(cls, line.substring(5).strip());
                } else if (line.length() > 5 && hexAt(line, 0, 4) >= 0 && Character.isWhitespace(line.charAt(4))
                        && !line.substring(5).isBlank()) {
                    vendor = hexAt(line, 0, 4);
                    ids.vendors.putIfAbsent(vendor, line.substring(5).strip());
                } else if (line.length() > 2 && Character.isLetter(c0) && line.charAt(1) == ' ') {
                    skipping = true;
                } else {
                    throw new TopologyFormatException(name, no, "not a vendor or class line: '" + line + "'");
                }
                continue;
            }
            if (skipping) {
                continue;
            }
            boolean two = line.length() > 1 && line.charAt(1) == '\t';
            if (cls >= 0) {
                if (!two && line.length() > 4 && hexAt(line, 1, 2) >= 0 && Character.isWhitespace(line.charAt(3))) {
                    sub = hexAt(line, 1, 2);
                    ids.classes.put(cls << 8 | sub, line.substring(4).strip());
                } else if (two && sub >= 0 && line.length() > 5 && hexAt(line, 2, 2) >= 0
                        && Character.isWhitespace(line.charAt(4))) {
                    ids.progIfs.put(cls << 16 | sub << 8 | hexAt(line, 2, 2), line.substring(5).strip());
                } else {
                    throw new TopologyFormatException(name, no, "not a subclass or prog-if line: '" + line + "'");
                }
            } else if (vendor >= 0) {
                if (!two && line.length() > 6 && hexAt(line, 1, 4) >= 0 && Character.isWhitespace(line.charAt(5))) {
                    device = hexAt(line, 1, 4);
                    ids.devices.computeIfAbsent(vendor, k -> new LinkedHashMap<>()).putIfAbsent(device,
                            line.substring(6).strip());
                } else if (two && device >= 0 && line.length() > 12 && hexAt(line, 2, 4) >= 0
                        && Character.isWhitespace(line.charAt(6)) && hexAt(line, 7, 4) >= 0
                        && Character.isWhitespace(line.charAt(11))) {
                    ids.subsystems.putIfAbsent(subKey(vendor, device, hexAt(line, 2, 4), hexAt(line, 7, 4)),
                            line.substring(12).strip());
                } else {
                    throw new TopologyFormatException(name, no, "not a device or subsystem line: '" + line + "'");
                }
            } else {
                throw new TopologyFormatException(name, no, "indented line with no vendor or class above it");
            }
        }
        return ids;
    }

    /** The {@code len} hex digits at {@code at}, or -1 when they are not all hex digits. */
    private static int hexAt(String s, int at, int len) {
        if (s.length() < at + len) {
            return -1;
        }
        int v = 0;
        for (int i = at; i < at + len; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0) {
                return -1;
            }
            v = v << 4 | d;
        }
        return v;
    }

    /** @return the "Version:" of the header comment, or null when it has none. */
    public String version() {
        return version;
    }

    /** @return how many vendors the database names. */
    public int vendorCount() {
        return vendors.size();
    }

    /** vendorName - e.g. "Intel Corporation" for 0x8086. Return: the name, or null when unknown. */
    public String vendorName(int vendor) {
        return vendors.get(vendor);
    }

    /** deviceName - the device's name under its vendor. Return: the name, or null when unknown. */
    public String deviceName(int vendor, int device) {
        return devices.getOrDefault(vendor, Map.of()).get(device);
    }

    /** subsystemName - the name of a subsystem of a device. Return: the name, or null when unknown. */
    public String subsystemName(int vendor, int device, int subVendor, int subDevice) {
        return subsystems.get(subKey(vendor, device, subVendor, subDevice));
    }

    /**
     * className - lspci's class name for a 16-bit class (base &lt;&lt; 8 | subclass, e.g. 0x0604): the
     * subclass name when known, else the base class name.
     * Return: the name, or null when neither is known. Pass {@code classCode >> 8} for a 24-bit code.
     */
    public String className(int classCode) {
        String s = classes.get(classCode & 0xffff);
        return s != null ? s : baseClasses.get((classCode >> 8) & 0xff);
    }

    /** progIfName - the programming interface name of a 24-bit class code. Return: it, or null. */
    public String progIfName(int classCode24) {
        return progIfs.get(classCode24 & 0xffffff);
    }

    /**
     * vendorId - reverse lookup of a vendor name: exact match first, then case-insensitive. When
     * several vendors share the name, the lowest ID in file order wins.
     * Return: the ID, or empty when no vendor has this name.
     */
    public OptionalInt vendorId(String name) {
        String n = name.strip();
        for (Map.Entry<Integer, String> e : vendors.entrySet()) {
            if (e.getValue().equals(n)) {
                return OptionalInt.of(e.getKey());
            }
        }
        for (Map.Entry<Integer, String> e : vendors.entrySet()) {
            if (e.getValue().equalsIgnoreCase(n)) {
                return OptionalInt.of(e.getKey());
            }
        }
        return OptionalInt.empty();
    }

    /**
     * deviceId - reverse lookup of a device name under one vendor: exact match first, then
     * case-insensitive; also lspci's "Device 6f00" for devices it could not name. Several devices
     * of one vendor can share a name: the first in file order wins.
     * Return: the ID, or empty when the vendor has no device of this name.
     */
    public OptionalInt deviceId(int vendor, String deviceName) {
        String n = deviceName.strip();
        OptionalInt exact = exactDevice(vendor, n);
        if (exact.isPresent()) {
            return exact;
        }
        for (Map.Entry<Integer, String> e : devices.getOrDefault(vendor, Map.of()).entrySet()) {
            if (e.getValue().equalsIgnoreCase(n)) {
                return OptionalInt.of(e.getKey());
            }
        }
        return OptionalInt.empty();
    }

    /**
     * vendorPrefix - the longest vendor name (exact case) that starts {@code text} followed by a space:
     * how lspci joins vendor and device names in a tree or a header without -nn.
     * Return: the vendor ID and name, or empty.
     */
    public Optional<Map.Entry<Integer, String>> vendorPrefix(String text) {
        Map.Entry<Integer, String> best = null;
        for (Map.Entry<Integer, String> e : vendors.entrySet()) {
            String v = e.getValue();
            if (text.length() > v.length() + 1 && text.charAt(v.length()) == ' ' && text.startsWith(v)
                    && (best == null || v.length() > best.getValue().length())) {
                best = e;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * resolve - split lspci's "Vendor Device" text (as printed without -nn, e.g. "Intel Corporation
     * Xeon E7 v4/Xeon E5 v4/Xeon E3 v4/Xeon D DMI2") into IDs: the longest vendor name that prefixes
     * the text and whose remainder names one of its devices. Also reads lspci's fallbacks
     * "Vendor Device 6f00" and "Device 8086:6f00". A trailing " (rev xx)" is ignored.
     * Return: the pair, or empty when no vendor/device split matches.
     */
    /**
     * The text without a final " (rev xx)" and the white space before it: what
     * {@code replaceFirst("\\s+\\(rev [0-9a-fA-F]{2}\\)$", "")} did, without its backtracking over long blank runs.
     */
    static String withoutRevision(String t) {
        int n = t.length();
        if (n >= 2 && t.charAt(n - 2) == '\r' && t.charAt(n - 1) == '\n') {
            n -= 2; // '$' matches before a final line terminator
        } else if (n >= 1 && "\n\r\u0085\u2028\u2029".indexOf(t.charAt(n - 1)) >= 0) {
            n--;
        }
        int r = n - 8; // "(rev xx)"
        if (r < 1 || !t.startsWith("(rev ", r) || t.charAt(n - 1) != ')' || !asciiHex(t.charAt(n - 3))
                || !asciiHex(t.charAt(n - 2))) {
            return t;
        }
        int e = r;
        while (e > 0 && " \t\n\u000b\f\r".indexOf(t.charAt(e - 1)) >= 0) {
            e--;
        }
        return e < r ? t.substring(0, e) + t.substring(n) : t;
    }

    private static boolean asciiHex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    public Optional<VendorDevice> resolve(String text) {
        String t = withoutRevision(text.strip());
        Matcher raw = UNKNOWN_BOTH.matcher(t);
        if (raw.matches()) {
            return Optional.of(new VendorDevice(hex(raw.group(1)), hex(raw.group(2))));
        }
        for (boolean exact : new boolean[] {true, false}) {
            int bestLen = -1;
            VendorDevice best = null;
            for (Map.Entry<Integer, String> e : vendors.entrySet()) {
                String v = e.getValue();
                if (v.length() <= bestLen || t.length() <= v.length() + 1 || t.charAt(v.length()) != ' '
                        || !t.regionMatches(!exact, 0, v, 0, v.length())) {
                    continue;
                }
                String rest = t.substring(v.length() + 1);
                OptionalInt dev = exact ? exactDevice(e.getKey(), rest) : deviceId(e.getKey(), rest);
                if (dev.isPresent()) {
                    bestLen = v.length();
                    best = new VendorDevice(e.getKey(), dev.getAsInt());
                }
            }
            if (best != null) {
                return Optional.of(best);
            }
        }
        return Optional.empty();
    }

    private OptionalInt exactDevice(int vendor, String name) {
        for (Map.Entry<Integer, String> e : devices.getOrDefault(vendor, Map.of()).entrySet()) {
            if (e.getValue().equals(name)) {
                return OptionalInt.of(e.getKey());
            }
        }
        Matcher m = UNKNOWN_DEVICE.matcher(name);
        return m.matches() ? OptionalInt.of(hex(m.group(1))) : OptionalInt.empty();
    }

    private static long subKey(int vendor, int device, int subVendor, int subDevice) {
        return ((long) vendor << 48) | ((long) device << 32) | ((long) subVendor << 16) | subDevice;
    }

    private static int hex(String s) {
        return Integer.parseInt(s, 16);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "pci.ids %s (%d vendors)", version, vendors.size());
    }
}
