package org.peerdma.pci.imports.internal;

import java.util.HashMap;
import java.util.Map;

import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.pciids.PciIds;

/**
 * Fills what one half of a dump implies about the other through pci.ids: names for devices
 * known by ID (sysfs, lspci -n), IDs for devices known by name (lspci without -nn), class codes
 * for class names. Every recovered ID is noted on the device.
 */
final class Enricher {
    private static volatile Map<String, Integer> classByName;

    private Enricher() {
    }

    static void enrich(MachineDTO m) {
        PciIds ids = PciIds.bundled();
        int byName = 0;
        for (DeviceDTO d : m.devices) {
            if (d.classCode == null && d.className == null
                    && (Integer.valueOf(1).equals(d.headerType) || d.secondaryBus != null)) {
                d.classCode = 0x060400;
                d.notes.add("class PCI bridge [0604] inferred from its bus range (the dump does not give its class)");
            }
            if (d.vendor == null && d.deviceName != null) {
                String text = d.vendorName == null ? d.deviceName : d.vendorName + " " + d.deviceName;
                var vd = ids.resolve(text);
                if (vd.isPresent()) {
                    d.vendor = vd.get().vendor();
                    d.device = vd.get().device();
                    String vn = ids.vendorName(d.vendor);
                    if (vn != null && d.vendorName == null && text.startsWith(vn + " ")) {
                        d.vendorName = vn;
                        d.deviceName = text.substring(vn.length() + 1);
                    }
                    d.notes.add(String.format("IDs %04x:%04x recovered from the name via pci.ids", d.vendor, d.device));
                    byName++;
                } else if (d.vendorName != null && ids.vendorId(d.vendorName).isPresent()) {
                    d.vendor = ids.vendorId(d.vendorName).getAsInt();
                    d.notes.add(String.format("vendor %04x recovered from its name; pci.ids %s has no device named "
                            + "'%s', so the device ID is unknown", d.vendor, ids.version(), d.deviceName));
                }
            }
            names(ids, d);
            if (d.vendor != null && d.vendorName == null) {
                d.vendorName = ids.vendorName(d.vendor);
            }
            if (d.vendor != null && d.device != null && (d.deviceName == null || d.deviceName.isEmpty())) {
                d.deviceName = ids.deviceName(d.vendor, d.device);
            }
            if (d.classCode == null && d.className != null) {
                Integer cls = classCode(ids, d.className);
                if (cls != null) {
                    d.classCode = cls << 8;
                }
            }
            if (d.classCode != null && d.className == null) {
                d.className = ids.className(d.classCode >> 8);
            }
        }
        if (byName > 0) {
            m.notes.add(byName + " device(s) had no numeric IDs in the dump; IDs recovered from names with pci.ids "
                    + (ids.version() == null ? "" : ids.version()));
        }
    }

    /**
     * names - vendor and device names as the dump printed them: a tree or a header without -nn joins
     * them ("NVIDIA Corporation AD102GL [RTX 6000 Ada Generation]"), a verbose header of the same
     * device splits them; keep the device name without the vendor's.
     */
    static void names(PciIds ids, DeviceDTO d) {
        if (d.deviceName == null) {
            return;
        }
        if (d.vendorName != null && d.deviceName.startsWith(d.vendorName + " ")) {
            d.deviceName = d.deviceName.substring(d.vendorName.length() + 1);
        } else if (d.vendorName == null) {
            ids.vendorPrefix(d.deviceName).ifPresent(v -> {
                d.vendorName = v.getValue();
                d.deviceName = d.deviceName.substring(v.getValue().length() + 1);
                if (d.vendor == null) {
                    d.vendor = v.getKey();
                    d.notes.add(String.format("vendor %04x recovered from its name", v.getKey()));
                }
            });
        }
        if (d.vendor != null && d.device == null) {
            var m = java.util.regex.Pattern.compile("(?:.* )?Device ([0-9a-fA-F]{4})").matcher(d.deviceName);
            if (m.matches()) {
                d.device = Integer.parseInt(m.group(1), 16); // lspci's "Device 14a4": the ID it could not name
            }
        }
    }

    private static Integer classCode(PciIds ids, String name) {
        Map<String, Integer> map = classByName;
        if (map == null) {
            map = new HashMap<>();
            for (int c = 0; c <= 0xffff; c++) {
                String n = ids.className(c);
                if (n != null) {
                    map.putIfAbsent(n, c); // the lowest code carrying the name: the subclass itself
                }
            }
            classByName = map;
        }
        return map.get(name);
    }
}
