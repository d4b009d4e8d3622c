package org.peerdma.pci.imports.sysfs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.pciids.PciIds;
import org.peerdma.pci.imports.sysfs.SysfsTree.Entry;
import org.peerdma.pci.imports.sysfs.SysfsTree.Found;
import org.peerdma.pci.imports.sysfs.SysfsTree.Layout;
import org.peerdma.pci.spi.TopologySource;

/**
 * Reads a Linux sysfs tree - the live /sys, a copy of it, a copy of /sys/bus/pci/devices, or a
 * /sys/devices/pciDDDD:BB tree - into a {@link MachineDTO} (format "sysfs"). Each function's text
 * attributes, {@code resource} and binary {@code config} are decoded; host bridges come from the
 * pciDDDD:BB directories, or from the root buses when a flat copy has none.
 */
public final class SysfsParser {
    /** The importer format name. */
    public static final String FORMAT = "sysfs";

    private SysfsParser() {
    }

    /**
     * probe - how sure this importer is that {@code src} is a sysfs tree.
     * Return: 100 for a directory with bus/pci/devices, 90 for a devices listing, 80 for a
     * pciDDDD:BB tree, 0 otherwise (also for text sources and unreadable directories).
     */
    public static int probe(TopologySource src) {
        if (src.directory().isEmpty()) {
            return 0;
        }
        try {
            Layout l = SysfsTree.detect(src.directory().get());
            return l == null ? 0 : switch (l) {
                case SYSFS_ROOT -> 100;
                case DEVICE_LIST -> 90;
                case DEVICE_TREE -> 80;
            };
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return 0;
        }
    }

    /**
     * parse - read every PCI function of the tree at {@code src.directory()}.
     * Return: the machine; what sysfs or the copy could not tell is in the device and machine notes.
     * Errors: TopologyFormatException naming the attribute file (and line for {@code resource})
     * when a file holds garbage; naming the source when it has no directory, is not a sysfs tree,
     * lists a function twice, or every entry is a dangling symlink.
     */
    public static MachineDTO parse(TopologySource src) {
        Path dir = src.directory().orElseThrow(() -> new TopologyFormatException(src.name(), 0,
                "the sysfs importer reads a directory, not a text file"));
        Found found;
        try {
            Layout layout = SysfsTree.detect(dir);
            if (layout == null) {
                throw new TopologyFormatException(src.name(), 0, "not a sysfs tree: no bus/pci/devices, no "
                        + "DDDD:BB:DD.F entries and no pciDDDD:BB directories");
            }
            found = SysfsTree.scan(dir, layout);
        } catch (IOException e) {
            throw new TopologyFormatException(src.name(), 0, "cannot list the sysfs tree: " + e);
        }
        boolean live = isSysfs(dir);
        MachineDTO m = new MachineDTO();
        m.format = FORMAT;
        m.source = src.name();
        m.name = live ? hostName().orElse(dir.toString()) : dir.toString();
        m.notes.add(describe(found, dir, live));
        List<Entry> entries = new ArrayList<>(found.entries());
        entries.sort(Comparator.comparing((Entry e) -> SysfsTree.parts(e.bdf()),
                Arrays::compare));
        Map<String, Entry> byBdf = new HashMap<>();
        int dangling = 0;
        for (Entry e : entries) {
            Entry dup = byBdf.put(e.bdf(), e);
            if (dup != null) {
                throw new TopologyFormatException(src.name(), 0, "function " + e.bdf() + " appears twice: "
                        + clipPath(dir, dup.entry()) + " and " + clipPath(dir, e.entry()));
            }
            checkAddress(e.entry().toString(), e.bdf());
            if (e.dir() == null) {
                dangling++;
                DeviceDTO d = new DeviceDTO();
                d.bdf = e.bdf();
                d.notes.add("sysfs entry is a dangling symlink to " + e.linkTarget() + ": attributes unknown");
                m.devices.add(d);
            } else {
                m.devices.add(SysfsDevice.read(e.bdf(), e.dir()));
            }
        }
        if (dangling > 0 && dangling == entries.size()) {
            throw new TopologyFormatException(src.name(), 0, "all " + dangling + " entries are dangling symlinks "
                    + "(a copy of /sys/bus/pci/devices without /sys/devices): copy with cp -rL or copy /sys whole");
        }
        HostBridges.assign(m, entries, found.hostDirs());
        cpu(m, dir, live);
        names(m);
        summarise(m);
        return m;
    }

    /** A PCI address the PCI core reads (domain 0..7fffffff), else a format error naming the entry. */
    private static void checkAddress(String entry, String bdf) {
        try {
            org.peerdma.pci.Bdf.parse(bdf);
        } catch (org.peerdma.errno.KernelException ex) {
            throw new TopologyFormatException(entry, 0, ex.detail());
        }
    }

    /** An entry's path inside the tree for a message, at most 80 characters of it. */
    private static String clipPath(Path dir, Path p) {
        return org.peerdma.util.Texts.clip(p.startsWith(dir) ? dir.relativize(p).toString() : p.toString());
    }

    /**
     * parseCpuinfo - the boot CPU from /proc/cpuinfo text: vendor_id, cpu family, model and model
     * name of the first processor block, and the number of distinct "physical id" values as sockets
     * (null when no block has one).
     * Return: the CPU; fields the text lacks stay null.
     * Errors: TopologyFormatException (source "cpuinfo") when cpu family or model is not a number.
     */
    public static CpuDTO parseCpuinfo(List<String> lines) {
        return parseCpuinfo("cpuinfo", lines);
    }

    static CpuDTO parseCpuinfo(String name, List<String> lines) {
        CpuDTO cpu = new CpuDTO();
        Set<String> sockets = new LinkedHashSet<>();
        int block = 0;
        boolean seen = false;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            int colon = l.indexOf(':');
            if (l.isBlank()) {
                if (seen) {
                    block++;
                    seen = false;
                }
                continue;
            }
            if (colon < 0) {
                continue;
            }
            seen = true;
            String key = l.substring(0, colon).strip();
            String value = l.substring(colon + 1).strip();
            if (key.equals("physical id")) {
                sockets.add(value);
            }
            if (block > 0) {
                continue;
            }
            switch (key) {
                case "vendor_id" -> cpu.vendor = value;
                case "model name" -> cpu.modelName = value;
                case "cpu family" -> cpu.family = number(name, i + 1, key, value);
                case "model" -> cpu.model = number(name, i + 1, key, value);
                default -> {
                }
            }
        }
        cpu.sockets = sockets.isEmpty() ? null : sockets.size();
        return cpu;
    }

    private static Integer number(String name, int line, String key, String value) {
        try {
            return Integer.decode(value);
        } catch (NumberFormatException e) {
            throw new TopologyFormatException(name, line, key + ": '" + org.peerdma.util.Texts.clip(value)
                    + "' is not a number");
        }
    }

    private static void cpu(MachineDTO m, Path dir, boolean live) {
        Path file = dir.resolve("cpuinfo");
        if (!Files.isRegularFile(file) && live) {
            file = Path.of("/proc/cpuinfo");
        }
        Optional<List<String>> lines = SysfsDevice.lines(file, m.notes::add);
        if (lines.isEmpty()) {
            m.notes.add("no cpuinfo file beside the sysfs copy: CPU unknown");
        } else {
            m.cpu = parseCpuinfo(file.toString(), lines.get());
        }
        if (live) {
            String arch = System.getProperty("os.arch", "");
            m.arch = arch.equals("amd64") ? "x86_64" : arch;
        } else if (m.cpu != null && m.cpu.vendor != null) {
            m.arch = "x86_64";
        }
    }

    /** Vendor, device and class names from the bundled pci.ids, as lspci would print them. */
    private static void names(MachineDTO m) {
        PciIds ids = PciIds.bundled();
        for (DeviceDTO d : m.devices) {
            if (d.vendor != null) {
                d.vendorName = ids.vendorName(d.vendor);
                if (d.device != null) {
                    d.deviceName = ids.deviceName(d.vendor, d.device);
                }
            }
            if (d.classCode != null) {
                d.className = ids.className(d.classCode >> 8);
            }
        }
        m.notes.add("sysfs has no names: vendor, device and class names are from the bundled pci.ids "
                + ids.version());
    }

    /** Machine notes for what several devices lack. */
    private static void summarise(MachineDTO m) {
        List<String> unknown = new ArrayList<>();
        for (DeviceDTO d : m.devices) {
            if (!Boolean.TRUE.equals(d.extendedCapsKnown)) {
                unknown.add(d.bdf);
            }
        }
        if (!unknown.isEmpty()) {
            m.notes.add(String.format(Locale.ROOT, "%d of %d devices: config space not fully readable (not root, "
                    + "or a copy without extended config space), extended capabilities and ACS unknown: %s",
                    unknown.size(), m.devices.size(), String.join(", ",
                            unknown.size() > 8 ? unknown.subList(0, 8) : unknown) + (unknown.size() > 8 ? ", ..." : "")));
        }
        m.notes.add("sysfs gives no host bridge apertures: host bridge windows left empty");
    }

    private static String describe(Found f, Path dir, boolean live) {
        String what = switch (f.layout()) {
            case SYSFS_ROOT -> "sysfs root ";
            case DEVICE_LIST -> live ? "sysfs device list " : "copy of /sys/bus/pci/devices at ";
            case DEVICE_TREE -> "sysfs device tree at ";
        };
        return (live ? "live " : "") + what + dir + ": " + f.entries().size() + " PCI functions";
    }

    private static boolean isSysfs(Path dir) {
        try {
            return "sysfs".equals(Files.getFileStore(dir).type());
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    private static Optional<String> hostName() {
        for (String f : new String[] {"/proc/sys/kernel/hostname", "/etc/hostname"}) {
            try {
                Path p = Path.of(f);
                if (Files.isReadable(p)) {
                    String h = Files.readString(p).strip();
                    if (!h.isEmpty()) {
                        return Optional.of(h);
                    }
                }
            } catch (IOException | SecurityException e) {
                // try the next one
            }
        }
        return Optional.empty();
    }
}
