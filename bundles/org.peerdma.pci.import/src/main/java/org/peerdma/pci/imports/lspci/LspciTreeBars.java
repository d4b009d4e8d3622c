package org.peerdma.pci.imports.lspci;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;

/**
 * The BAR lines {@code lspci -tvv} / {@code -tvvv} print under a non-bridge device (pciutils
 * ls-tree.c show_bases). Only -tvvv names the BAR ("Region 2:"); -tvv skips empty BARs without
 * saying which, so its lines are not recorded (a device note says so).
 */
final class LspciTreeBars {
    private static final Pattern BAR = Pattern.compile(
            "(?:Region (\\d): )?(?:\\[(?:virtual|enhanced)\\] )?"
            + "(?:I/O ports at (\\S+)|Memory at (\\S+) \\((32-bit|64-bit|low-1M|type 3), (non-)?prefetchable\\))"
            + "( \\[disabled\\])?(?: \\[size=(\\d+)([KMGT]?)\\])?");
    private static final String NO_INDEX = "lspci -tvv prints BARs without their numbers; they are not recorded";

    private final LspciTreeWalker walker;
    /** Whether any BAR line was seen. */
    boolean seen;

    LspciTreeBars(LspciTreeWalker walker) {
        this.walker = walker;
    }

    boolean isBarLine(String text) {
        return BAR.matcher(text).matches();
    }

    /** Adds the BAR on this line to {@code d} (which may be null for a device that was not placed). */
    void read(DeviceDTO d, String text, int line) {
        seen = true;
        Matcher m = BAR.matcher(text);
        if (!m.matches() || d == null) {
            return;
        }
        if (m.group(1) == null) {
            if (!d.notes.contains(NO_INDEX)) {
                d.notes.add(NO_INDEX);
            }
            return;
        }
        int index = Integer.parseInt(m.group(1));
        if (index > 5) {
            throw walker.fail(0, "BAR region " + index + " out of range 0..5");
        }
        if (m.group(7) == null) {
            d.notes.add(String.format(Locale.ROOT, "BAR %d has no size in the dump (line %d); not recorded", index, line));
            return;
        }
        BarDTO b = new BarDTO();
        b.index = index;
        b.io = m.group(2) != null;
        String addr = b.io ? m.group(2) : m.group(3);
        if (addr.matches("[0-9a-fA-F]+")) {
            b.start = Long.parseUnsignedLong(addr, 16);
        } else {
            b.disabled = true; // <unassigned>, <ignored>, <invalid-64bit-slot>
        }
        b.mem64 = "64-bit".equals(m.group(4));
        b.prefetchable = !b.io && m.group(5) == null;
        b.disabled |= m.group(6) != null;
        int shift = switch (m.group(8)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        long count = m.group(7).length() > 19 ? Long.MAX_VALUE : Long.parseLong(m.group(7));
        if (count > (Long.MAX_VALUE >> shift)) {
            throw walker.fail(0, "BAR region " + index + " size " + org.peerdma.util.Texts.clip(m.group(7) + m.group(8))
                    + " is too large");
        }
        b.size = count << shift;
        for (BarDTO other : d.bars) {
            if (other.index == index) {
                throw walker.fail(0, "BAR region " + index + " of " + d.bdf + " appears twice");
            }
        }
        d.bars.add(b);
    }
}
