package org.peerdma.pci.imports.sysfs;

import java.nio.file.Path;
import java.util.List;

import org.peerdma.pci.imports.sysfs.FakeSysfs.Cfg;
import org.peerdma.pci.imports.sysfs.FakeSysfs.Fn;

/**
 * The sysfs trees the fuzz test (internal.ImporterFuzzTest) starts from: the machines of
 * {@link SysfsParserTest} written by {@link FakeSysfs} in each layout the importer reads.
 */
public final class SysfsFuzzTrees {
    /** How many different trees {@link #write} makes. */
    public static final int COUNT = 6;

    private SysfsFuzzTrees() {
    }

    /**
     * write - tree number {@code n} (taken modulo {@link #COUNT}) under {@code root}.
     * Return: the directory to read (root itself, or the part of it the layout reads).
     */
    public static Path write(Path root, int n) {
        int k = Math.floorMod(n, COUNT);
        List<Fn> fns = SysfsParserTest.machine(k % 2 == 1);
        switch (k / 2) {
            case 0 -> {
                FakeSysfs.writeLinked(root, fns); // /sys: devices/pci0000:00/... and bus/pci/devices links
                return root;
            }
            case 1 -> {
                FakeSysfs.writeFlat(root, fns); // cp -rL of /sys/bus/pci/devices
                return root;
            }
            default -> {
                FakeSysfs.writeLinked(root, fns); // /sys/devices: the nesting only
                return root.resolve("devices");
            }
        }
    }

    /** A one-function config space of {@code size} bytes with an Express capability and ACS, for mutations. */
    public static byte[] config(int size) {
        Cfg c = new Cfg(Math.max(size, 0x200)).header(0x10b5, 0x8747, 0x060400, 0xca, 0x01, 0x68).buses(2, 3, 3)
                .express(0x68, 0, 6, 3, 4);
        if (size > 0x100) {
            c.acs(0x100, 0, 0x5f, 0);
        }
        return java.util.Arrays.copyOf(c.b, size);
    }
}
