package org.peerdma.pci.imports.document;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.peerdma.pci.Bdf;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;

/**
 * Merges what several sections of one document say about a machine: devices by address, each
 * field taken from the first section that knows it (a tree gives bus ranges, lspci -vvv gives
 * BARs and ACS), disagreements noted rather than silently overwritten.
 */
public final class Merger {
    private final MachineDTO acc = new MachineDTO();
    private final Map<Bdf, DeviceDTO> byBdf = new LinkedHashMap<>();

    public Merger(String name, String source) {
        acc.name = name;
        acc.source = source;
    }

    /** add - fold one section's result in; {@code label} prefixes its notes. */
    public void add(MachineDTO part, String label) {
        if (acc.arch == null) {
            acc.arch = part.arch;
        }
        acc.cpu = mergeCpu(acc.cpu, part.cpu);
        for (HostBridgeDTO h : part.hostBridges) {
            HostBridgeDTO have = acc.hostBridges.stream().filter(x -> x.domain == h.domain && x.bus == h.bus)
                    .findFirst().orElse(null);
            if (have == null) {
                acc.hostBridges.add(h);
            } else {
                fill(have, h, label, "host bridge " + h.name);
            }
        }
        for (DeviceDTO d : part.devices) {
            Bdf bdf = Bdf.parse(d.bdf);
            d.bdf = bdf.toString();
            DeviceDTO have = byBdf.get(bdf);
            if (have == null) {
                byBdf.put(bdf, d);
            } else {
                fill(have, d, label, d.bdf);
            }
        }
        for (String n : part.notes) {
            acc.notes.add(label + ": " + n);
        }
    }

    public void note(String n) {
        acc.notes.add(n);
    }

    /** @return the merged machine, devices in address order. */
    public MachineDTO result() {
        acc.devices.clear();
        byBdf.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> acc.devices.add(e.getValue()));
        return acc;
    }

    private static CpuDTO mergeCpu(CpuDTO a, CpuDTO b) {
        if (a == null) {
            return b;
        }
        if (b != null) {
            a.vendor = a.vendor != null ? a.vendor : b.vendor;
            a.family = a.family != null ? a.family : b.family;
            a.model = a.model != null ? a.model : b.model;
            a.modelName = a.modelName != null ? a.modelName : b.modelName;
            a.sockets = a.sockets != null ? a.sockets : b.sockets;
        }
        return a;
    }

    /** Copy into {@code into} every public field it lacks; note conflicting scalar values. */
    private void fill(Object into, Object from, String label, String what) {
        for (Field f : into.getClass().getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            try {
                Object mine = f.get(into);
                Object theirs = f.get(from);
                if (theirs == null) {
                    continue;
                }
                if (mine == null) {
                    f.set(into, theirs);
                } else if (mine instanceof Collection<?> c && theirs instanceof Collection<?> t) {
                    if (c.isEmpty() && !t.isEmpty()) {
                        f.set(into, theirs);
                    } else if (f.getName().equals("notes")) {
                        @SuppressWarnings("unchecked")
                        List<String> l = (List<String>) mine;
                        for (Object o : t) {
                            if (!l.contains(o)) {
                                l.add((String) o);
                            }
                        }
                    }
                } else if (!(mine instanceof Collection<?>) && !Objects.equals(mine, theirs)
                        && !(mine instanceof String) && isScalar(mine)) {
                    acc.notes.add(label + ": " + what + " " + f.getName() + " differs between sections ("
                            + mine + " kept, " + theirs + " ignored)");
                } else if (mine instanceof String ms && theirs instanceof String ts && ms.length() < ts.length()
                        && ts.contains(ms)) {
                    f.set(into, theirs); // a fuller name wins ("Device 2030" < "Sky Lake-E ... Root Port 1A")
                }
            } catch (IllegalAccessException ex) {
                throw new IllegalStateException(ex);
            }
        }
    }

    private static boolean isScalar(Object o) {
        return o instanceof Number || o instanceof Boolean;
    }
}
