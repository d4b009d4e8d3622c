package org.peerdma.pci;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.errno.KernelException;

/**
 * A PCI address: domain (segment), bus, device (slot) and function, as the kernel names a
 * device ({@code pci_name()}: "0000:01:00.0").
 */
public record Bdf(int domain, int bus, int device, int function) implements Comparable<Bdf> {
    private static final Pattern FORM = Pattern.compile(
            "(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\\.([0-7])");

    public Bdf {
        if (domain < 0) {
            // Linux's domain numbers are ints: 0..0xffff for ACPI segments, 0x10000 and up for VMD's domains
            throw KernelException.einval("PCI domain %#x out of range 0..0x7fffffff", domain);
        }
        if (bus < 0 || bus > 0xff) {
            throw KernelException.einval("PCI bus %#x out of range 0..0xff", bus);
        }
        if (device < 0 || device > 0x1f) {
            throw KernelException.einval("PCI device (slot) %#x out of range 0..0x1f", device);
        }
        if (function < 0 || function > 7) {
            throw KernelException.einval("PCI function %d out of range 0..7", function);
        }
    }

    /**
     * parse - read "[dddd:]bb:dd.f" (domain defaults to 0).
     * Return: the address. Errors: EINVAL naming the text when it is not an address.
     */
    public static Bdf parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw KernelException.einval("'%s' is not a PCI address ([domain:]bus:device.function, hex)", text);
        }
        long dom = m.group(1) == null ? 0 : Long.parseLong(m.group(1), 16);
        if (dom > Integer.MAX_VALUE) {
            throw KernelException.einval("PCI domain %s in '%s' out of range 0..7fffffff", m.group(1), text);
        }
        int domain = (int) dom;
        return new Bdf(domain, Integer.parseInt(m.group(2), 16), Integer.parseInt(m.group(3), 16),
                Integer.parseInt(m.group(4)));
    }

    /** @return devfn as the kernel packs it: (device << 3) | function. */
    public int devfn() {
        return (device << 3) | function;
    }

    /** @return pci_dev_id(): (bus << 8) | devfn. */
    public int devId() {
        return (bus << 8) | devfn();
    }

    /** @return the same slot, another function. */
    public Bdf withFunction(int fn) {
        return new Bdf(domain, bus, device, fn);
    }

    /** @return "bb:dd.f", lspci's short form. */
    public String shortName() {
        return String.format(Locale.ROOT, "%02x:%02x.%d", bus, device, function);
    }

    /** @return "dddd:bb:dd.f", pci_name(). */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%04x:%02x:%02x.%d", domain, bus, device, function);
    }

    @Override
    public int compareTo(Bdf o) {
        int c = Integer.compare(domain, o.domain);
        if (c == 0) {
            c = Integer.compare(bus, o.bus);
        }
        return c != 0 ? c : Integer.compare(devfn(), o.devfn());
    }
}
