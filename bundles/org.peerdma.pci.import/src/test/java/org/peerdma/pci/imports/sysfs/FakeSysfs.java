package org.peerdma.pci.imports.sysfs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds synthetic sysfs trees for tests: real config-space bytes and the text attributes the
 * kernel writes, either under devices/pciDDDD:BB with bus/pci/devices symlinks (as /sys has them)
 * or as a flat directory of function directories (a cp -rL of /sys/bus/pci/devices).
 */
final class FakeSysfs {
    /** Config space bytes under construction. */
    static final class Cfg {
        final byte[] b;

        Cfg(int size) {
            b = new byte[size];
        }

        Cfg u8(int off, int v) {
            b[off] = (byte) v;
            return this;
        }

        Cfg u16(int off, int v) {
            return u8(off, v).u8(off + 1, v >> 8);
        }

        Cfg u32(int off, long v) {
            return u16(off, (int) v).u16(off + 2, (int) (v >> 16));
        }

        /** Standard header: IDs, class, revision, header type; capability list pointer when cap != 0. */
        Cfg header(int vendor, int device, int class24, int rev, int headerType, int cap) {
            u16(0, vendor).u16(2, device).u8(8, rev).u8(9, class24).u8(0xa, class24 >> 8).u8(0xb, class24 >> 16);
            u8(0xe, headerType);
            if (cap != 0) {
                u16(6, 0x0010).u8(0x34, cap);
            }
            return this;
        }

        Cfg subsystem(int sv, int sd) {
            return u16(0x2c, sv).u16(0x2e, sd);
        }

        Cfg buses(int primary, int secondary, int subordinate) {
            return u8(0x18, primary).u8(0x19, secondary).u8(0x1a, subordinate);
        }

        /** A standard capability at off with the given id and next pointer. */
        Cfg cap(int off, int id, int next) {
            return u8(off, id).u8(off + 1, next);
        }

        /** An Express capability (v2) of port type {@code type}, link status speed/width. */
        Cfg express(int off, int next, int type, int speed, int width) {
            cap(off, 0x10, next).u16(off + 2, (type << 4) | 2);
            return u16(off + 0x12, speed | (width << 4));
        }

        /** The Link Capabilities register of the Express capability at off: max speed (encoded) and width. */
        Cfg linkCap(int off, int speed, int width) {
            return u16(off + 0x0c, speed | (width << 4));
        }

        /** An extended capability header. */
        Cfg ext(int off, int id, int version, int next) {
            return u32(off, (id & 0xffffL) | ((long) version << 16) | ((long) next << 20));
        }

        /** An ACS extended capability. */
        Cfg acs(int off, int next, int cap, int ctrl) {
            return ext(off, 0x0d, 1, next).u16(off + 4, cap).u16(off + 6, ctrl);
        }
    }

    /** One function to write. */
    static final class Fn {
        final String bdf;
        final List<String> path = new ArrayList<>();
        String vendor;
        String device;
        String cls;
        String revision = "0x01";
        String numa = "-1";
        String driver;
        String physfn;
        List<String> resource = new ArrayList<>();
        byte[] config;
        String secondary;
        String subordinate;
        /** Further attribute files by name (current_link_speed, max_link_width, ...). */
        final java.util.Map<String, String> attrs = new java.util.LinkedHashMap<>();

        Fn(String bdf, String... above) {
            this.bdf = bdf;
            path.addAll(List.of(above));
        }

        Fn ids(int v, int d, int class24) {
            vendor = String.format(Locale.ROOT, "0x%04x", v);
            device = String.format(Locale.ROOT, "0x%04x", d);
            cls = String.format(Locale.ROOT, "0x%06x", class24);
            return this;
        }

        /** Add one resource line. */
        Fn res(long start, long end, long flags) {
            resource.add(String.format(Locale.ROOT, "0x%016x 0x%016x 0x%016x", start, end, flags));
            return this;
        }

        /** Pad the resource lines with empty ones up to n. */
        Fn padRes(int n) {
            while (resource.size() < n) {
                res(0, 0, 0);
            }
            return this;
        }
    }

    private FakeSysfs() {
    }

    /**
     * writeLinked - a /sys-like root: devices/HOST/.../BDF directories and bus/pci/devices symlinks.
     */
    static void writeLinked(Path root, List<Fn> fns) {
        try {
            Path list = Files.createDirectories(root.resolve("bus/pci/devices"));
            for (Fn f : fns) {
                Path rel = Path.of("devices");
                for (String p : f.path) {
                    rel = rel.resolve(p);
                }
                rel = rel.resolve(f.bdf);
                Path dir = Files.createDirectories(root.resolve(rel));
                attributes(dir, f, true);
                Files.createSymbolicLink(list.resolve(f.bdf), Path.of("../../..").resolve(rel));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** writeFlat - each function as a plain directory in dir; links become uevent lines. */
    static void writeFlat(Path dir, List<Fn> fns) {
        try {
            for (Fn f : fns) {
                attributes(Files.createDirectories(dir.resolve(f.bdf)), f, false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void attributes(Path dir, Fn f, boolean links) throws IOException {
        write(dir, "vendor", f.vendor);
        write(dir, "device", f.device);
        write(dir, "class", f.cls);
        write(dir, "revision", f.revision);
        write(dir, "numa_node", f.numa);
        write(dir, "secondary_bus_number", f.secondary);
        write(dir, "subordinate_bus_number", f.subordinate);
        for (java.util.Map.Entry<String, String> a : f.attrs.entrySet()) {
            write(dir, a.getKey(), a.getValue());
        }
        if (!f.resource.isEmpty()) {
            Files.writeString(dir.resolve("resource"), String.join("\n", f.resource) + "\n");
        }
        if (f.config != null) {
            Files.write(dir.resolve("config"), f.config);
        }
        List<String> uevent = new ArrayList<>();
        if (f.driver != null) {
            uevent.add("DRIVER=" + f.driver);
            if (links) {
                Files.createSymbolicLink(dir.resolve("driver"), Path.of("../../../../bus/pci/drivers/" + f.driver));
            }
        }
        uevent.add("PCI_SLOT_NAME=" + f.bdf);
        Files.write(dir.resolve("uevent"), uevent);
        if (f.physfn != null) {
            if (links) {
                Files.createSymbolicLink(dir.resolve("physfn"), Path.of("../" + f.physfn));
            } else {
                Path pf = Files.createDirectories(dir.resolve("physfn"));
                Files.writeString(pf.resolve("uevent"), "DRIVER=mlx5_core\nPCI_SLOT_NAME=" + f.physfn.toUpperCase(Locale.ROOT) + "\n");
            }
        }
    }

    static void write(Path dir, String name, String value) throws IOException {
        if (value != null) {
            Files.writeString(dir.resolve(name), value + "\n");
        }
    }
}
