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
