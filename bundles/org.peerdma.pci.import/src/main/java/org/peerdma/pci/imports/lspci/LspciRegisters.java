package org.peerdma.pci.imports.lspci;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registers behind lspci -vv's Control, Status, DevCap, DevCtl and DevSta lines, read back from the flags
 * lspci prints ("BusMaster+", "MaxPayload 256 bytes"): the inverse of lspci.c's show_verbose() and ls-caps.c's
 * cap_express_dev(). A bit lspci does not print for the device stays 0, so printing the value again gives the
 * same line.
 */
final class LspciRegisters {
    static final Map<String, Integer> COMMAND = Map.ofEntries(Map.entry("I/O", 0x1), Map.entry("Mem", 0x2),
            Map.entry("BusMaster", 0x4), Map.entry("SpecCycle", 0x8), Map.entry("MemWINV", 0x10),
            Map.entry("VGASnoop", 0x20), Map.entry("ParErr", 0x40), Map.entry("Stepping", 0x80),
            Map.entry("SERR", 0x100), Map.entry("FastB2B", 0x200), Map.entry("DisINTx", 0x400));
    static final Map<String, Integer> STATUS = Map.ofEntries(Map.entry("INTx", 0x08), Map.entry("Cap", 0x10),
            Map.entry("66MHz", 0x20), Map.entry("UDF", 0x40), Map.entry("FastB2B", 0x80), Map.entry("ParErr", 0x100),
            Map.entry(">TAbort", 0x800), Map.entry("<TAbort", 0x1000), Map.entry("<MAbort", 0x2000),
            Map.entry(">SERR", 0x4000), Map.entry("<PERR", 0x8000));
    static final Map<String, Integer> DEVCAP = Map.ofEntries(Map.entry("ExtTag", 0x20), Map.entry("AttnBtn", 0x1000),
            Map.entry("AttnInd", 0x2000), Map.entry("PwrInd", 0x4000), Map.entry("RBE", 0x8000),
            Map.entry("FLReset", 0x10000000), Map.entry("TEE-IO", 0x40000000));
    static final Map<String, Integer> DEVCTL = Map.ofEntries(Map.entry("CorrErr", 0x1), Map.entry("NonFatalErr", 0x2),
            Map.entry("FatalErr", 0x4), Map.entry("UnsupReq", 0x8), Map.entry("RlxdOrd", 0x10),
            Map.entry("ExtTag", 0x100), Map.entry("PhantFunc", 0x200), Map.entry("AuxPwr", 0x400),
            Map.entry("NoSnoop", 0x800), Map.entry("BrConfRtry", 0x8000), Map.entry("FLReset", 0x8000));
    static final Map<String, Integer> DEVSTA = Map.ofEntries(Map.entry("CorrErr", 0x1), Map.entry("NonFatalErr", 0x2),
            Map.entry("FatalErr", 0x4), Map.entry("UnsupReq", 0x8), Map.entry("AuxPwr", 0x10),
            Map.entry("TransPend", 0x20));
    static final String[] L0S = {"<64ns", "<128ns", "<256ns", "<512ns", "<1us", "<2us", "<4us", "unlimited"};
    static final String[] L1 = {"<1us", "<2us", "<4us", "<8us", "<16us", "<32us", "<64us", "unlimited"};

    private static final Pattern PAYLOAD = Pattern.compile("MaxPayload (\\d+) bytes");
    private static final Pattern READRQ = Pattern.compile("MaxReadReq (\\d+) bytes");
    private static final Pattern PHANTOM = Pattern.compile("PhantFunc (\\d)");
    private static final Pattern LATENCY = Pattern.compile("Latency L0s (\\S+), L1 (\\S+)");
    private static final Pattern POWER = Pattern.compile("SlotPowerLimit (>600W|[0-9]{1,4}(?:\\.[0-9]{1,3})?W)");

    static final Map<String, Integer> LNKCAP = Map.ofEntries(Map.entry("ClockPM", 0x40000),
            Map.entry("Surprise", 0x80000), Map.entry("LLActRep", 0x100000), Map.entry("BwNot", 0x200000),
            Map.entry("ASPMOptComp", 0x400000));
    static final Map<String, Integer> LNKSTA = Map.ofEntries(Map.entry("TrErr", 0x400), Map.entry("Train", 0x800),
            Map.entry("SlotClk", 0x1000), Map.entry("DLActive", 0x2000), Map.entry("BWMgmt", 0x4000),
            Map.entry("ABWMgmt", 0x8000));
    /** link_speed (ls-caps.c) by code; 0 and codes past the table print "unknown". */
    static final String[] SPEEDS = {"unknown", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s", "unknown",
        "128GT/s"};
    private static final Pattern PORT = Pattern.compile("Port #(\\d+)");
    private static final Pattern SPEED = Pattern.compile("Speed ([0-9.]+GT/s|unknown)");
    private static final Pattern WIDTH = Pattern.compile("Width x(\\d+)");
    private static final Pattern ASPM = Pattern.compile("ASPM (not supported|L0s L1|L0s|L1|unknown)");
    private static final Pattern EXIT_L0S = Pattern.compile("Exit Latency L0s (\\S+?)(?:,|$|\\s)");
    private static final Pattern EXIT_L1 = Pattern.compile("(?:Exit Latency |, )L1 (\\S+)");

    private LspciRegisters() {
    }

    private static int speedCode(String text) {
        Matcher s = SPEED.matcher(text);
        if (!s.find()) {
            return 0;
        }
        int c = java.util.Arrays.asList(SPEEDS).indexOf(s.group(1));
        return c < 0 ? 0 : c;
    }

    private static int width(String text) {
        Matcher w = WIDTH.matcher(text);
        return w.find() && w.group(1).length() <= 2 ? Integer.parseInt(w.group(1)) & 0x3f : 0;
    }

    /**
     * lnkCap - the LnkCap line and its continuation: port number, speed, width, ASPM support and exit latencies,
     * and the flags. Errors: LspciSyntaxError for a port number or latency lspci cannot print.
     */
    static int lnkCap(String text) {
        int v = flags(text, LNKCAP) | speedCode(text) | width(text) << 4;
        Matcher p = PORT.matcher(text);
        if (p.find()) {
            int port = Integer.parseInt(p.group(1).length() > 3 ? "999" : p.group(1));
            if (port > 255) {
                throw LspciSyntaxError.of("LnkCap Port #%s: a port number is 0 to 255", p.group(1));
            }
            v |= port << 24;
        }
        Matcher a = ASPM.matcher(text);
        int aspm = 0;
        if (a.find()) {
            aspm = switch (a.group(1)) {
                case "L0s" -> 1;
                case "L1" -> 2;
                case "L0s L1" -> 3;
                default -> 0;
            };
            v |= aspm << 10;
        }
        if ((aspm & 1) != 0) {
            v |= latency(EXIT_L0S, text, L0S, "L0s") << 12;
        }
        if ((aspm & 2) != 0) {
            v |= latency(EXIT_L1, text, L1, "L1") << 15;
        }
        return v;
    }

    /** The index in {@code table} of the exit latency {@code pattern} finds, 0 when absent. Errors: LspciSyntaxError. */
    private static int latency(Pattern pattern, String text, String[] table, String what) {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            return 0;
        }
        int i = java.util.Arrays.asList(table).indexOf(m.group(1));
        if (i < 0) {
            throw LspciSyntaxError.of("LnkCap %s exit latency '%s' is not one lspci prints", what,
                    org.peerdma.util.Texts.clip(m.group(1)));
        }
        return i;
    }

    /** lnkSta - the LnkSta line and its continuation: speed, width and the flags. */
    static int lnkSta(String text) {
        return flags(text, LNKSTA) | speedCode(text) | width(text) << 4;
    }

    /** flags - the bits of every "Name+" token of {@code text} that {@code names} knows; "Name-" adds nothing. */
    static int flags(String text, Map<String, Integer> names) {
        int v = 0;
        for (String tok : text.split("\\s+")) {
            if (tok.length() > 1 && tok.endsWith("+")) {
                Integer bit = names.get(tok.substring(0, tok.length() - 1));
                v |= bit == null ? 0 : bit;
            }
        }
        return v;
    }

    /** status - the Status line: its flags and DEVSEL timing. */
    static int status(String text) {
        int v = flags(text, STATUS);
        if (text.contains("DEVSEL=medium")) {
            v |= 0x200;
        } else if (text.contains("DEVSEL=slow")) {
            v |= 0x400;
        } else if (text.contains("DEVSEL=??")) {
            v |= 0x600;
        }
        return v;
    }

    /**
     * size - the encoded size {@code pattern} finds in {@code text} ("MaxPayload 256 bytes" is 1), 0 when absent.
     * Errors: LspciSyntaxError for a size that is not 128 to 4096 bytes in powers of two.
     */
    private static int size(Pattern pattern, String text, String what) {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            return 0;
        }
        int c = m.group(1).length() > 5 ? -1 : sizeCode(Integer.parseInt(m.group(1)));
        if (c < 0) {
            throw LspciSyntaxError.of("%s %s bytes: it is 128 to 4096 in powers of two", what,
                    org.peerdma.util.Texts.clip(m.group(1)));
        }
        return c;
    }

    /** log2(bytes / 128), the size encoding of MaxPayload and MaxReadReq, or -1 when it is none (128..4096). */
    static int sizeCode(int bytes) {
        for (int c = 0; c < 6; c++) {
            if (128 << c == bytes) {
                return c;
            }
        }
        return -1;
    }

    /**
     * devCap - the DevCap line and its continuation, joined: max payload, phantom functions, L0s/L1 latency,
     * the flags and the slot power limit.
     * Errors: LspciSyntaxError for a payload or latency lspci cannot print.
     */
    static int devCap(String text) {
        int v = flags(text, DEVCAP);
        v |= size(PAYLOAD, text, "DevCap MaxPayload");
        Matcher ph = PHANTOM.matcher(text);
        if (ph.find()) {
            int n = Integer.parseInt(ph.group(1)); // (1 << field) - 1: 0, 1, 3, 7
            int field = n == 0 ? 0 : n == 1 ? 1 : n == 3 ? 2 : n == 7 ? 3 : -1;
            if (field < 0) {
                throw LspciSyntaxError.of("DevCap PhantFunc %d: lspci prints 0, 1, 3 or 7", n);
            }
            v |= field << 3;
        }
        Matcher l = LATENCY.matcher(text);
        if (l.find()) {
            int l0s = java.util.Arrays.asList(L0S).indexOf(l.group(1).replaceFirst(",$", ""));
            int l1 = java.util.Arrays.asList(L1).indexOf(l.group(2));
            if (l0s < 0 || l1 < 0) {
                throw LspciSyntaxError.of("DevCap latency '%s' is not one lspci prints", l.group());
            }
            v |= l0s << 6 | l1 << 9;
        }
        Matcher w = POWER.matcher(text);
        if (w.find()) {
            v |= power(w.group(1));
        }
        return v;
    }

    /** The value and scale fields (bits 25:18, 27:26) of a slot power limit as lspci prints it ("75W", "25.5W"). */
    static int power(String watts) {
        if (watts.equals(">600W")) {
            return 0xff << 18;
        }
        double w = Double.parseDouble(watts.substring(0, watts.length() - 1));
        if (w >= 250 && w <= 600 && (w - 250) % 25 == 0) {
            return (0xf0 + (int) ((w - 250) / 25)) << 18; // 0xF0..0xFE at scale 1.0: 250 + 25 * (v - 0xF0)
        }
        double[] scales = {1.0, 0.1, 0.01, 0.001};
        for (int s = 0; s < 4; s++) {
            double v = w / scales[s];
            long r = Math.round(v);
            if (Math.abs(v - r) < 1e-6 && r <= 0xef) {
                return (int) r << 18 | s << 26;
            }
        }
        throw LspciSyntaxError.of("SlotPowerLimit %s is not a value lspci prints", watts);
    }

    /** devCtl - the DevCtl line and its continuations: the flags, MaxPayload and MaxReadReq. */
    static int devCtl(String text) {
        int v = flags(text, DEVCTL);
        v |= size(PAYLOAD, text, "DevCtl MaxPayload") << 5 | size(READRQ, text, "DevCtl MaxReadReq") << 12;
        return v;
    }
}
