package org.peerdma.pci.shell;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.DeviceDTO;

/**
 * Name lookup as pciutils' lib/names.c formats it. The model carries no pci.ids vendor/device
 * database: names are the ones the dump gave, shared between devices with the same IDs (so a
 * second identical GPU gets the first one's name). Class names come from the dump when it named
 * the class, otherwise from the built-in pci.ids class table.
 */
final class PciNames {
    /** -n / -nn state, like pacc->numeric_ids. */
    enum Mode { NAMES, NUMERIC, MIXED }

    private final Mode mode;
    private final Map<Integer, String> vendors = new HashMap<>();
    private final Map<Integer, String> devices = new HashMap<>();
    private final Map<Bdf, DeviceDTO> details;

    PciNames(PciMachine machine, Map<Bdf, DeviceDTO> details, Mode mode) {
        this.mode = mode;
        this.details = details;
        for (PciDevice d : machine.devices()) {
            if (!d.vendorName().isBlank()) {
                vendors.putIfAbsent(d.vendor(), d.vendorName().strip());
            }
            if (!d.deviceName().isBlank()) {
                devices.putIfAbsent(key(d.vendor(), d.device()), d.deviceName().strip());
            }
        }
    }

    private static int key(int vendor, int device) {
        return (vendor << 16) | (device & 0xffff);
    }

    private static String hex4(int v) {
        return String.format(Locale.ROOT, "%04x", v & 0xffff);
    }

    /** vendorDevice - PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE: "Intel Corporation Device 2030". */
    String vendorDevice(int vendor, int device) {
        return pair(vendors.get(vendor), devices.get(key(vendor, device)), hex4(vendor) + ":" + hex4(device));
    }

    /**
     * vendorDevice - the device's own names as its dump gave them (two devices whose IDs the dump did not
     * give never share a name), the shared ones by ID when it gave none; an ID the dump lacks prints as
     * "????", where lspci would print the number.
     */
    String vendorDevice(PciDevice d) {
        String v = d.vendorName().isBlank() ? d.vendorKnown() ? vendors.get(d.vendor()) : null : d.vendorName().strip();
        String n = d.deviceName().isBlank() ? d.vendorKnown() && d.deviceKnown()
                ? devices.get(key(d.vendor(), d.device())) : null : d.deviceName().strip();
        String num = (d.vendorKnown() ? hex4(d.vendor()) : "????") + ":" + (d.deviceKnown() ? hex4(d.device()) : "????");
        if (v == null && n == null && !d.vendorKnown()) {
            return mode == Mode.NUMERIC ? num : "(vendor and device not in the dump)" + (mode == Mode.MIXED
                    ? " [" + num + "]" : "");
        }
        return pair(v, n, num);
    }

    /** subsystem - the Subsystem: line's text (PCI_LOOKUP_SUBSYSTEM | VENDOR | DEVICE). */
    String subsystem(PciDevice d) {
        int sv = d.subsystemVendor();
        int sd = d.subsystemDevice();
        String dev = null;
        if (sv == d.vendor() && sd == d.device()) {
            dev = devices.get(key(sv, sd)); // "subsystem == device" rule of id_lookup_subsys
        }
        return pair(vendors.get(sv), dev, hex4(sv) + ":" + hex4(sd));
    }

    /** className - PCI_LOOKUP_CLASS for the device's 16-bit class. */
    String className(PciDevice d) {
        if (!d.classKnown()) {
            return mode == Mode.NUMERIC ? "????" : mode == Mode.MIXED ? "Class unknown [????]" : "Class unknown";
        }
        int cls = (d.classCode() >> 8) & 0xffff;
        String num = hex4(cls);
        DeviceDTO dto = details.get(d.bdf());
        String name = dto != null && dto.className != null && !dto.className.isBlank() ? dto.className.strip()
                : PciClassNames.subClass(cls);
        Mode m = mode;
        if (name == null) {
            name = PciClassNames.baseClass(cls >> 8);
            if (name != null && m != Mode.NUMERIC) {
                m = Mode.MIXED; // lspci adds the full number when only the base class is known
            }
        }
        return single(m, name, num, "Class");
    }

    /** progIf - PCI_LOOKUP_PROGIF | PCI_LOOKUP_NO_NUMBERS: the name or null. */
    static String progIf(int cls16, int progIf) {
        return PciClassNames.progIf(cls16, progIf);
    }

    private static String single(Mode m, String name, String num, String unknown) {
        if (m == Mode.NUMERIC) {
            return num;
        }
        if (name == null) {
            return m == Mode.MIXED ? unknown + " [" + num + "]" : unknown + " " + num;
        }
        return m == Mode.MIXED ? name + " [" + num + "]" : name;
    }

    private String pair(String v, String d, String num) {
        if (mode == Mode.NUMERIC) {
            return num;
        }
        if (mode == Mode.MIXED) {
            if (v != null && d != null) {
                return v + " " + d + " [" + num + "]";
            }
            return v == null ? "Device [" + num + "]" : v + " Device [" + num + "]";
        }
        if (v != null && d != null) {
            return v + " " + d;
        }
        return v == null ? "Device " + num : v + " Device " + num.substring(5);
    }
}
