package org.peerdma.pci.imports.sysfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.util.Texts;

/**
 * Reads one PCI function's sysfs directory (/sys/bus/pci/devices/DDDD:BB:DD.F) into a
 * {@link DeviceDTO}. The text attributes are the kernel's view (after quirks) and win; the binary
 * {@code config} file fills what they lack and is cross-checked against them.
 */
final class SysfsDevice {
    private static final Pattern HEX = Pattern.compile("(?:0[xX])?[0-9a-fA-F]{1,8}");
    private static final Pattern BUS = Pattern.compile("[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}");
    private static final Pattern DEC = Pattern.compile("-?[0-9]{1,9}");
    /** PCI config space is at most 4 KiB: more in a copy is not read. */
    static final int MAX_CONFIG = 4096;
    /** The largest text file read (an attribute is at most a page; /proc/cpuinfo of a large machine a few MiB). */
    static final long MAX_TEXT = 8L << 20;

    private SysfsDevice() {
    }

    /**
     * read - the device named {@code bdf} whose attributes are in {@code dir}.
     * Errors: TopologyFormatException naming the attribute file for malformed contents.
     */
    static DeviceDTO read(String bdf, Path dir) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.vendor = hex(dir, "vendor", 0xffff, d);
        d.device = hex(dir, "device", 0xffff, d);
        d.subsystemVendor = hex(dir, "subsystem_vendor", 0xffff, d);
        d.subsystemDevice = hex(dir, "subsystem_device", 0xffff, d);
        d.classCode = hex(dir, "class", 0xffffff, d);
        d.revision = hex(dir, "revision", 0xff, d);
        Integer numa = dec(dir, "numa_node", d);
        d.numaNode = numa == null || numa < 0 ? null : numa;
        d.secondaryBus = dec(dir, "secondary_bus_number", d);
        d.subordinateBus = dec(dir, "subordinate_bus_number", d);
        d.driver = linkName(dir, "driver", "DRIVER", d);
        d.physfn = physfn(dir, d);
        mergeConfig(dir, d);
        if (d.secondaryBus == null) {
            d.secondaryBus = busFromPciBusDir(dir, d);
        }
        if (d.headerType == null && d.classCode != null) {
            int cls = d.classCode >> 8;
            d.headerType = cls == 0x0604 || cls == 0x0609 ? 1 : cls == 0x0607 ? 2 : 0;
        }
        if (d.linkSpeed == null) {
            d.linkSpeed = speedAttribute(dir, "current_link_speed", d);
            if (d.linkWidth == null) {
                d.linkWidth = dec(dir, "current_link_width", d);
            }
        }
        if (d.linkCapSpeed == null) {
            d.linkCapSpeed = speedAttribute(dir, "max_link_speed", d);
            if (d.linkCapWidth == null) {
                d.linkCapWidth = dec(dir, "max_link_width", d);
            }
        }
        if (d.vendor == null || d.device == null || d.classCode == null) {
            d.notes.add("neither the ID files nor config space give vendor, device and class");
        }
        boolean bridge = d.headerType != null && d.headerType != 0;
        Path resource = dir.resolve("resource");
        Optional<List<String>> lines = lines(resource, d);
        if (lines.isPresent()) {
            ResourceFile.apply(ResourceFile.parse(resource.toString(), lines.get()), bridge, d);
        } else if (!Files.exists(resource, LinkOption.NOFOLLOW_LINKS)) {
            d.notes.add("no resource file: BARs and bridge windows unknown");
        }
        return d;
    }

    /** Fill from config space what the text attributes did not give; note disagreements. */
    private static void mergeConfig(Path dir, DeviceDTO d) {
        Path file = dir.resolve("config");
        if (!Files.isRegularFile(file)) {
            d.notes.add(Files.exists(file) && !Files.isDirectory(file)
                    ? "config is not a regular file (a FIFO or a device): header type, capabilities, port type and ACS "
                            + "unknown"
                    : "no config file: header type, capabilities, port type and ACS unknown");
            return;
        }
        byte[] bytes;
        long size;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_CONFIG);
            size = Files.size(file);
            if (size > MAX_CONFIG) {
                d.notes.add("config file holds " + size + " bytes: only the " + MAX_CONFIG + " of config space read");
                size = MAX_CONFIG;
            }
        } catch (IOException | SecurityException e) {
            d.notes.add("config file unreadable (" + e + "): header type, capabilities, port type and ACS unknown");
            return;
        }
        DeviceDTO c = ConfigSpace.decode(bytes, size);
        boolean vfIds = d.physfn != null && Integer.valueOf(0xffff).equals(c.vendor);
        if (!vfIds) {
            d.vendor = pick(d.vendor, c.vendor, "vendor", "%04x", d);
            d.device = pick(d.device, c.device, "device", "%04x", d);
        }
        d.subsystemVendor = pick(d.subsystemVendor, c.subsystemVendor, "subsystem_vendor", "%04x", d);
        d.subsystemDevice = pick(d.subsystemDevice, c.subsystemDevice, "subsystem_device", "%04x", d);
        d.classCode = pick(d.classCode, c.classCode, "class", "%06x", d);
        d.revision = pick(d.revision, c.revision, "revision", "%02x", d);
        d.secondaryBus = pick(d.secondaryBus, c.secondaryBus, "secondary_bus_number", "%02x", d);
        d.subordinateBus = pick(d.subordinateBus, c.subordinateBus, "subordinate_bus_number", "%02x", d);
        d.headerType = c.headerType;
        d.multifunction = c.multifunction;
        d.portType = c.portType;
        d.linkSpeed = c.linkSpeed;
        d.linkWidth = c.linkWidth;
        d.linkCapSpeed = c.linkCapSpeed;
        d.linkCapWidth = c.linkCapWidth;
        d.command = c.command;
        d.status = c.status;
        d.devCap = c.devCap;
        d.devCtl = c.devCtl;
        d.devSta = c.devSta;
        d.lnkCap = c.lnkCap;
        d.lnkSta = c.lnkSta;
        d.capabilities = c.capabilities;
        d.extendedCapsKnown = c.extendedCapsKnown;
        d.acs = c.acs;
        d.notes.addAll(c.notes);
    }

    private static Integer pick(Integer attr, Integer cfg, String what, String fmt, DeviceDTO d) {
        if (attr == null) {
            return cfg;
        }
        if (cfg != null && !Objects.equals(attr, cfg)) {
            d.notes.add(String.format(Locale.ROOT, "%s file says " + fmt + " but config space says " + fmt
                    + "; the file (kernel view) is used", what, attr, cfg));
        }
        return attr;
    }

    /** A bridge's pci_bus/DDDD:BB child directory names its secondary bus. */
    private static Integer busFromPciBusDir(Path dir, DeviceDTO d) {
        try {
            List<Path> buses = SysfsTree.names(dir.resolve("pci_bus"), BUS);
            if (buses.size() == 1) {
                String n = buses.get(0).getFileName().toString();
                d.notes.add("secondary bus taken from pci_bus/" + n);
                return Integer.parseInt(n.substring(n.indexOf(':') + 1), 16);
            }
        } catch (IOException | SecurityException e) {
            d.notes.add("pci_bus directory unreadable: " + e);
        }
        return null;
    }

    /**
     * speedAttribute - current_link_speed or max_link_speed ("8.0 GT/s PCIe", "2.5 GT/s PCIe") as lspci writes a speed
     * ("8GT/s", "2.5GT/s"), when config space gave no link registers; null when absent or "Unknown".
     */
    private static String speedAttribute(Path dir, String name, DeviceDTO d) {
        Optional<String> speed = text(dir.resolve(name), d);
        if (speed.isEmpty() || !speed.get().contains("GT/s")) {
            return null;
        }
        String num = speed.get().substring(0, speed.get().indexOf("GT/s")).strip();
        if (num.endsWith(".0")) {
            num = num.substring(0, num.length() - 2);
        }
        return num + "GT/s";
    }

    private static Integer hex(Path dir, String name, int max, DeviceDTO d) {
        Path file = dir.resolve(name);
        Optional<String> v = text(file, d);
        if (v.isEmpty()) {
            return null;
        }
        if (!HEX.matcher(v.get()).matches() || Long.decode(withPrefix(v.get())) > max) {
            throw new TopologyFormatException(file.toString(), 1,
                    String.format("%s: '%s' is not a hex number up to %#x", name, Texts.clip(v.get()), max));
        }
        return (int) (long) Long.decode(withPrefix(v.get()));
    }

    private static String withPrefix(String v) {
        return v.startsWith("0x") || v.startsWith("0X") ? v : "0x" + v;
    }

    private static Integer dec(Path dir, String name, DeviceDTO d) {
        Path file = dir.resolve(name);
        Optional<String> v = text(file, d);
        if (v.isEmpty()) {
            return null;
        }
        if (!DEC.matcher(v.get()).matches()) {
            throw new TopologyFormatException(file.toString(), 1,
                    String.format("%s: '%s' is not a decimal number", name, Texts.clip(v.get())));
        }
        return Integer.parseInt(v.get());
    }

    /**
     * A virtual function's physical function, as the PCI core reads it. Errors: TopologyFormatException naming the
     * link (or the copied directory's uevent file) when what it names is not a PCI address.
     */
    private static String physfn(Path dir, DeviceDTO d) {
        String pf = linkName(dir, "physfn", "PCI_SLOT_NAME", d);
        if (pf != null) {
            try {
                org.peerdma.pci.Bdf.parse(pf);
            } catch (org.peerdma.errno.KernelException e) {
                Path link = dir.resolve("physfn");
                throw new TopologyFormatException(Files.isSymbolicLink(link) ? link.toString()
                        : link.resolve("uevent").toString(), 0, "physfn: " + e.detail());
            }
        }
        return pf;
    }

    /**
     * The name a symlink points to (driver -> .../drivers/nvme, physfn -> ../0000:03:00.0). In a
     * copy without symlinks, the uevent files say it instead: the device's own DRIVER= line, or
     * the copied physfn directory's PCI_SLOT_NAME= line.
     */
    private static String linkName(Path dir, String name, String ueventKey, DeviceDTO d) {
        Path link = dir.resolve(name);
        try {
            if (Files.isSymbolicLink(link)) {
                Path target = Files.readSymbolicLink(link).getFileName();
                return target == null ? null : target.toString();
            }
        } catch (IOException | SecurityException e) {
            d.notes.add(name + " link unreadable: " + e);
            return null;
        }
        boolean copied = Files.isDirectory(link);
        Path uevent = "DRIVER".equals(ueventKey) ? dir.resolve("uevent") : link.resolve("uevent");
        if (copied || "DRIVER".equals(ueventKey)) {
            for (String l : lines(uevent, d).orElse(List.of())) {
                if (l.startsWith(ueventKey + "=")) {
                    String v = l.substring(ueventKey.length() + 1).strip();
                    return "DRIVER".equals(ueventKey) ? v : v.toLowerCase(Locale.ROOT);
                }
            }
        }
        if (copied) {
            d.notes.add(name + " is a copied directory, not a symlink, and names no target");
        }
        return null;
    }

    /** The trimmed first line of a one-value attribute file; empty when absent or unreadable. */
    private static Optional<String> text(Path file, DeviceDTO d) {
        return lines(file, d).map(l -> l.isEmpty() ? "" : l.get(0).strip());
    }

    /** The file's lines; empty (with a note when it exists) when it cannot be read. */
    static Optional<List<String>> lines(Path file, DeviceDTO d) {
        return lines(file, d.notes::add);
    }

    static Optional<List<String>> lines(Path file, Consumer<String> notes) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        if (!Files.isRegularFile(file) && !Files.isDirectory(file)) {
            // reading a FIFO waits for a writer, a device (a link to /dev/zero) never ends
            notes.accept(file.getFileName() + " is not a regular file (a FIFO or a device): ignored");
            return Optional.empty();
        }
        try {
            long size = Files.size(file);
            if (size > MAX_TEXT) {
                throw new TopologyFormatException(file.toString(), 0, size + " bytes: larger than any sysfs attribute or "
                        + "cpuinfo file (" + (MAX_TEXT >> 20) + " MiB)");
            }
            return Optional.of(Files.readAllLines(file, StandardCharsets.ISO_8859_1));
        } catch (IOException | SecurityException e) {
            notes.accept(file.getFileName() + " unreadable: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
            return Optional.empty();
        }
    }
}
