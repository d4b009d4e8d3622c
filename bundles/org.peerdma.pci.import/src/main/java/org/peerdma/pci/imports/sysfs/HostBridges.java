package org.peerdma.pci.imports.sysfs;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;

import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.sysfs.SysfsTree.Entry;

/**
 * Host bridges of a sysfs tree, and the bridge bus numbers the device nesting implies when the
 * attributes and config space did not give them.
 */
final class HostBridges {
    private HostBridges() {
    }

    /**
     * assign - fill {@code m.hostBridges}: one per pciDDDD:BB directory (or name in a symlink
     * target); for functions whose host bridge the copy does not show, one per root bus (a bus no
     * bridge's secondary..subordinate range covers).
     *
     * @param entries the functions, in the order of {@code m.devices}
     */
    static void assign(MachineDTO m, List<Entry> entries, Set<String> hostDirs) {
        Map<String, DeviceDTO> byBdf = new HashMap<>();
        for (DeviceDTO d : m.devices) {
            byBdf.put(d.bdf, d);
        }
        inferBridgeBuses(m, entries, byBdf);
        TreeMap<Long, String> hosts = new TreeMap<>();
        for (String h : hostDirs) {
            hosts.put(key(h), h);
        }
        List<DeviceDTO> orphans = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            String h = entries.get(i).host();
            if (h != null) {
                hosts.putIfAbsent(key(h), h);
            } else {
                orphans.add(m.devices.get(i));
            }
        }
        Set<String> inferred = new TreeSet<>();
        List<long[]> ranges = orphans.isEmpty() ? List.of() : ranges(m.devices);
        for (DeviceDTO d : orphans) {
            long[] p = SysfsTree.parts(d.bdf);
            if (!covered(ranges, p[0], (int) p[1])) {
                String h = String.format(Locale.ROOT, "pci%04x:%02x", p[0], p[1]);
                if (hosts.putIfAbsent(key(h), h) == null) {
                    inferred.add(h);
                }
            }
        }
        for (String h : hosts.values()) {
            Matcher mm = SysfsTree.HOST.matcher(h);
            mm.matches();
            long domain = Long.parseLong(mm.group(1), 16);
            if (domain > Integer.MAX_VALUE) {
                m.notes.add("host bridge directory " + h + " names a PCI domain above 7fffffff: ignored");
                continue;
            }
            HostBridgeDTO hb = new HostBridgeDTO();
            hb.name = h;
            hb.domain = (int) domain;
            hb.bus = Integer.parseInt(mm.group(2), 16);
            hb.numaNode = rootBusNode(m.devices, hb);
            m.hostBridges.add(hb);
        }
        m.hostBridges.sort(Comparator.comparingLong((HostBridgeDTO hb) -> hb.domain & 0xffffffffL)
                .thenComparingInt(hb -> hb.bus));
        if (!inferred.isEmpty()) {
            m.notes.add("the copy shows no pciDDDD:BB directories for " + orphans.size()
                    + " functions: host bridges " + String.join(", ", inferred)
                    + " inferred from root buses (buses no bridge range covers)");
            for (DeviceDTO d : m.devices) {
                if (d.headerType != null && d.headerType == 1 && d.secondaryBus == null) {
                    m.notes.add("bridge " + d.bdf + " has no bus numbers: buses below it may have been "
                            + "taken for root buses");
                }
            }
        }
    }

    /** Secondary (and a lower bound of subordinate) bus of bridges from the functions nested below them. */
    private static void inferBridgeBuses(MachineDTO m, List<Entry> entries, Map<String, DeviceDTO> byBdf) {
        Map<String, Integer> maxBelow = new HashMap<>();
        Map<String, Set<Integer>> childBuses = new HashMap<>();
        for (Entry e : entries) {
            if (e.chain() == null) {
                continue;
            }
            int bus = (int) SysfsTree.parts(e.bdf())[1];
            String parent = e.parent();
            if (parent != null) {
                childBuses.computeIfAbsent(parent, k -> new HashSet<>()).add(bus);
            }
            for (String up : e.chain()) {
                if (SysfsTree.BDF.matcher(up).matches()) {
                    maxBelow.merge(up, bus, Math::max);
                }
            }
        }
        for (Map.Entry<String, Set<Integer>> c : childBuses.entrySet()) {
            DeviceDTO b = byBdf.get(c.getKey());
            if (b == null) {
                continue;
            }
            if (b.secondaryBus == null && c.getValue().size() == 1) {
                b.secondaryBus = c.getValue().iterator().next();
                b.notes.add("secondary bus inferred from the functions nested below it");
            } else if (b.secondaryBus != null && !c.getValue().contains(b.secondaryBus)) {
                b.notes.add(String.format(Locale.ROOT, "functions nested below sit on bus %s, not on secondary bus %02x",
                        c.getValue(), b.secondaryBus));
            }
            if (b.subordinateBus == null && maxBelow.containsKey(c.getKey())) {
                b.subordinateBus = maxBelow.get(c.getKey());
                b.notes.add("subordinate bus inferred from the functions below it (a lower bound)");
            }
            if (b.headerType == null) {
                b.headerType = 1;
            }
        }
    }

    /** {domain, secondary, subordinate} of every bridge with bus numbers (secondary 0 = unconfigured). */
    private static List<long[]> ranges(List<DeviceDTO> devices) {
        List<long[]> out = new ArrayList<>();
        for (DeviceDTO d : devices) {
            if (d.secondaryBus != null && d.secondaryBus > 0) {
                int sub = d.subordinateBus == null ? d.secondaryBus : d.subordinateBus;
                out.add(new long[] {SysfsTree.parts(d.bdf)[0], d.secondaryBus, sub});
            }
        }
        return out;
    }

    private static boolean covered(List<long[]> ranges, long domain, int bus) {
        for (long[] r : ranges) {
            if (r[0] == domain && bus >= r[1] && bus <= r[2]) {
                return true;
            }
        }
        return false;
    }

    /** The NUMA node all functions on the root bus agree on (they inherit the host bridge's). */
    private static Integer rootBusNode(List<DeviceDTO> devices, HostBridgeDTO hb) {
        Integer node = null;
        for (DeviceDTO d : devices) {
            long[] p = SysfsTree.parts(d.bdf);
            if (p[0] != (hb.domain & 0xffffffffL) || p[1] != hb.bus) {
                continue;
            }
            if (d.numaNode == null || node != null && !node.equals(d.numaNode)) {
                return null;
            }
            node = d.numaNode;
        }
        return node;
    }

    private static long key(String host) {
        Matcher mm = SysfsTree.HOST.matcher(host);
        if (!mm.matches()) {
            throw new IllegalArgumentException(host);
        }
        return (Long.parseLong(mm.group(1), 16) << 8) | Integer.parseInt(mm.group(2), 16);
    }
}
