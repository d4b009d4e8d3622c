package org.peerdma.pci.imports.sysfs;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.WindowDTO;

/**
 * The sysfs {@code resource} file (drivers/pci/pci-sysfs.c resource_show): one line
 * "0x%016llx 0x%016llx 0x%016llx" (start, end, flags) per struct resource of the device. Lines
 * 0..5 are the BARs, 6 the expansion ROM, then - with CONFIG_PCI_IOV - six SR-IOV VF BARs, and for
 * bridges (devices with a subordinate bus) four bridge windows. So 7 or 13 lines for a function,
 * 11 or 17 for a bridge.
 */
final class ResourceFile {
    static final long IORESOURCE_IO = 0x100;
    static final long IORESOURCE_MEM = 0x200;
    static final long IORESOURCE_PREFETCH = 0x2000;
    static final long IORESOURCE_MEM_64 = 0x100000;
    static final long IORESOURCE_DISABLED = 0x10000000;
    static final long IORESOURCE_UNSET = 0x20000000;
    /** include/linux/ioport.h: for the ROM resource, the ROM enable bit. */
    static final long IORESOURCE_ROM_ENABLE = 0x1;
    private static final int ROM = 6;
    private static final int BRIDGE_WINDOWS = 4;
    private static final Pattern LINE = Pattern.compile(
            "(?:0[xX])?([0-9a-fA-F]{1,16})\\s+(?:0[xX])?([0-9a-fA-F]{1,16})\\s+(?:0[xX])?([0-9a-fA-F]{1,16})");

    private ResourceFile() {
    }

    /** One parsed line. */
    record Res(long start, long end, long flags) {
        boolean empty() {
            return start == 0 && end == 0;
        }

        long size() {
            return end - start + 1;
        }
    }

    /**
     * parse - read the lines; blank lines at the end are ignored.
     * Errors: TopologyFormatException naming {@code file} and the line when a line is not three
     * hex numbers or ends below its start.
     */
    static List<Res> parse(String file, List<String> lines) {
        int n = lines.size();
        while (n > 0 && lines.get(n - 1).isBlank()) {
            n--;
        }
        List<Res> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String text = lines.get(i).strip();
            Matcher m = LINE.matcher(text);
            if (!m.matches()) {
                throw new TopologyFormatException(file, i + 1,
                        "expected three hex numbers 'start end flags', got '" + org.peerdma.util.Texts.clip(text) + "'");
            }
            long start = Long.parseUnsignedLong(m.group(1), 16);
            long end = Long.parseUnsignedLong(m.group(2), 16);
            long flags = Long.parseUnsignedLong(m.group(3), 16);
            if (Long.compareUnsigned(end, start) < 0) {
                throw new TopologyFormatException(file, i + 1,
                        String.format("resource end %#x lies below its start %#x", end, start));
            }
            out.add(new Res(start, end, flags));
        }
        return out;
    }

    /**
     * apply - put BARs, the ROM and (for bridges) the forwarding windows into {@code d}.
     *
     * @param bridge whether the device is known to be a bridge (header type 1 or 2)
     */
    static void apply(List<Res> res, boolean bridge, DeviceDTO d) {
        int n = res.size();
        if (n < ROM + 1) {
            d.notes.add("resource file has only " + n + " lines (7 expected): BARs after " + n + " unknown");
        }
        for (int i = 0; i < Math.min(n, ROM + 1); i++) {
            Res r = res.get(i);
            if (r.empty() || r.flags() == 0) {
                continue;
            }
            d.bars.add(bar(i, r));
        }
        boolean windows;
        if (n == 11 || n == 17) {
            windows = true;
        } else if (n == 7 || n == 13 || n < 7) {
            windows = false;
        } else {
            windows = bridge && n >= ROM + 1 + BRIDGE_WINDOWS;
            d.notes.add("resource file has " + n + " lines (7, 11, 13 or 17 expected)"
                    + (windows ? ": the last four taken as bridge windows" : ": lines after the ROM ignored"));
        }
        if (bridge && !windows && n >= ROM + 1) {
            d.notes.add("resource file lists no bridge windows (" + n + " lines)");
        }
        if (windows) {
            for (int i = n - BRIDGE_WINDOWS; i < n; i++) {
                Res r = res.get(i);
                if (r.empty() || r.flags() == 0 || (r.flags() & (IORESOURCE_DISABLED | IORESOURCE_UNSET)) != 0
                        || (r.flags() & (IORESOURCE_IO | IORESOURCE_MEM)) == 0) {
                    continue;
                }
                WindowDTO w = new WindowDTO();
                w.cpuStart = r.start();
                w.size = r.size();
                w.offset = 0;
                w.io = (r.flags() & IORESOURCE_IO) != 0;
                w.prefetchable = (r.flags() & IORESOURCE_PREFETCH) != 0;
                d.bridgeWindows.add(w);
            }
        }
    }

    private static BarDTO bar(int index, Res r) {
        BarDTO b = new BarDTO();
        b.index = index;
        long f = r.flags();
        boolean unset = (f & IORESOURCE_UNSET) != 0;
        b.start = unset ? null : r.start();
        b.size = r.size();
        b.io = (f & IORESOURCE_IO) != 0;
        b.prefetchable = (f & IORESOURCE_PREFETCH) != 0;
        b.mem64 = (f & IORESOURCE_MEM_64) != 0;
        b.disabled = unset || (f & IORESOURCE_DISABLED) != 0
                || (index == ROM && (f & IORESOURCE_ROM_ENABLE) == 0);
        return b;
    }
}
