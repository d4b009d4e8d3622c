package org.peerdma.pci.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.PciDevice;

/**
 * pci_dev_str_match() and pci_dev_str_match_path() of drivers/pci/pci.c: match a device
 * against "[domain:]bus:dev.fn[/dev.fn]*" (ended by ';') or "pci:vendor:device[:subvendor:subdevice]".
 */
final class DevStrMatch {
    /** Result of one match attempt: -1 parse error (-EINVAL), 0 no match, 1 match; and where parsing stopped. */
    record Result(int ret, int end) {
    }

    private static final Pattern IDS4 = Pattern.compile(
            "([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})");
    private static final Pattern IDS2 = Pattern.compile("([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})");
    private static final Pattern SLOT = Pattern.compile("/([0-9a-fA-F]+)\\.([0-9a-fA-F]+)");
    private static final Pattern BDF4 = Pattern.compile("([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+)\\.([0-9a-fA-F]+)");
    private static final Pattern BDF3 = Pattern.compile("([0-9a-fA-F]+):([0-9a-fA-F]+)\\.([0-9a-fA-F]+)");

    private DevStrMatch() {
    }

    static Result match(PciDevice dev, String s, int pos) {
        if (s.startsWith("pci:", pos)) {
            int p = pos + 4;
            Matcher m = IDS4.matcher(s).region(p, s.length());
            int vendor;
            int device;
            int subVendor = 0;
            int subDevice = 0;
            if (m.lookingAt()) {
                vendor = hex(m.group(1));
                device = hex(m.group(2));
                subVendor = hex(m.group(3));
                subDevice = hex(m.group(4));
            } else {
                m = IDS2.matcher(s).region(p, s.length());
                if (!m.lookingAt()) {
                    return new Result(-1, p);
                }
                vendor = hex(m.group(1));
                device = hex(m.group(2));
            }
            int end = m.end();
            boolean ok = (vendor == 0 || vendor == dev.vendor()) && (device == 0 || device == dev.device())
                    && (subVendor == 0 || subVendor == dev.subsystemVendor())
                    && (subDevice == 0 || subDevice == dev.subsystemDevice());
            return new Result(ok ? 1 : 0, end);
        }
        int end = s.indexOf(';', pos);
        if (end < 0) {
            end = s.length();
        }
        return new Result(matchPath(dev, s.substring(pos, end)), end);
    }

    /** pci_dev_str_match_path: the last "/dev.fn" must be the device, each earlier one its upstream bridge. */
    private static int matchPath(PciDevice dev, String path) {
        String w = path;
        PciDevice d = dev;
        while (true) {
            int slash = w.lastIndexOf('/');
            if (slash < 0) {
                break;
            }
            Matcher m = SLOT.matcher(w.substring(slash));
            if (!m.matches()) {
                return -1;
            }
            if (d.bdf().devfn() != devfn(hex(m.group(1)), hex(m.group(2)))) {
                return 0;
            }
            d = d.upstreamBridge();
            if (d == null) {
                return 0;
            }
            w = w.substring(0, slash);
        }
        int seg;
        int bus;
        int slot;
        int fn;
        Matcher m4 = BDF4.matcher(w);
        if (m4.matches()) {
            seg = hex(m4.group(1));
            bus = hex(m4.group(2));
            slot = hex(m4.group(3));
            fn = hex(m4.group(4));
        } else {
            Matcher m3 = BDF3.matcher(w);
            if (!m3.matches()) {
                return -1;
            }
            seg = 0;
            bus = hex(m3.group(1));
            slot = hex(m3.group(2));
            fn = hex(m3.group(3));
        }
        return seg == d.bdf().domain() && bus == d.bdf().bus() && d.bdf().devfn() == devfn(slot, fn) ? 1 : 0;
    }

    /** PCI_DEVFN(slot, func) = ((slot & 0x1f) << 3) | (func & 0x07). */
    private static int devfn(int slot, int fn) {
        return ((slot & 0x1f) << 3) | (fn & 0x07);
    }

    private static int hex(String s) {
        long v = Long.parseLong(s.length() > 8 ? s.substring(s.length() - 8) : s, 16);
        return (int) v;
    }
}
