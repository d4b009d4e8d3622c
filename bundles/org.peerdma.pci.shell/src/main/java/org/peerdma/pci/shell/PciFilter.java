package org.peerdma.pci.shell;

import org.peerdma.errno.KernelException;
import org.peerdma.pci.PciDevice;

/**
 * lspci's device filter (lib/filter.c): -s [[[[domain]:]bus]:][slot][.[func]] and
 * -d [vendor]:[device][:class]. A field left empty or given as "*" matches anything.
 */
final class PciFilter {
    private int domain = -1;
    private int bus = -1;
    private int slot = -1;
    private int func = -1;
    private int vendor = -1;
    private int device = -1;
    private int cls = -1;
    private boolean any;

    /** @return true when -s or -d was given. */
    boolean isSet() {
        return any;
    }

    /**
     * slot - parse an -s argument (pci_filter_parse_slot).
     * Errors: EINVAL naming the bad part, with pciutils' words.
     */
    void slot(String text) {
        any = true;
        String str = text == null ? "" : text.strip();
        int colon = str.lastIndexOf(':');
        String mid = str;
        if (colon >= 0) {
            String left = str.substring(0, colon);
            mid = str.substring(colon + 1);
            int colon2 = left.indexOf(':');
            String busText = left;
            if (colon2 >= 0) {
                domain = field(left.substring(0, colon2), 0x7fffffff, "-s", text, "Invalid domain number");
                busText = left.substring(colon2 + 1);
            }
            bus = field(busText, 0xff, "-s", text, "Invalid bus number");
        }
        int dot = mid.indexOf('.');
        String fn = null;
        if (dot >= 0) {
            fn = mid.substring(dot + 1);
            mid = mid.substring(0, dot);
        }
        slot = field(mid, 0x1f, "-s", text, "Invalid slot number");
        if (fn != null) {
            func = field(fn, 7, "-s", text, "Invalid function number");
        }
    }

    /**
     * id - parse a -d argument (pci_filter_parse_id).
     * Errors: EINVAL naming the bad part.
     */
    void id(String text) {
        any = true;
        String str = text == null ? "" : text.strip();
        int c = str.indexOf(':');
        if (c < 0) {
            throw KernelException.einval("lspci -d '%s': ':' expected", text);
        }
        vendor = field(str.substring(0, c), 0xffff, "-d", text, "Invalid vendor ID");
        String rest = str.substring(c + 1);
        int c2 = rest.indexOf(':');
        if (c2 >= 0) {
            cls = field(rest.substring(c2 + 1), 0xffff, "-d", text, "Invalid class code");
            rest = rest.substring(0, c2);
        }
        device = field(rest, 0xffff, "-d", text, "Invalid device ID");
    }

    private static int field(String s, int max, String opt, String whole, String error) {
        String t = s.strip();
        if (t.isEmpty() || t.equals("*")) {
            return -1;
        }
        if (t.startsWith("0x") || t.startsWith("0X")) {
            t = t.substring(2);
        }
        if (t.isEmpty() || t.length() > 8 || !t.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
            throw KernelException.einval("lspci %s '%s': %s", opt, whole, error);
        }
        long v = Long.parseLong(t, 16);
        if (v > max) {
            throw KernelException.einval("lspci %s '%s': %s", opt, whole, error);
        }
        return (int) v;
    }

    /** @return true if the device passes the filter (pci_filter_match). */
    boolean matches(PciDevice d) {
        return (domain < 0 || domain == d.bdf().domain())
                && (bus < 0 || bus == d.bdf().bus())
                && (slot < 0 || slot == d.bdf().device())
                && (func < 0 || func == d.bdf().function())
                && (vendor < 0 || vendor == d.vendor())
                && (device < 0 || device == d.device())
                && (cls < 0 || cls == ((d.classCode() >> 8) & 0xffff));
    }
}
