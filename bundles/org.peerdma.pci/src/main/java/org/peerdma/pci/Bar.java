package org.peerdma.pci;

import java.util.Locale;

/**
 * A Base Address Register as the kernel sees it after enumeration: the CPU physical range
 * (pci_resource_start/len) and the PCI bus address the device decodes (pci_bus_address), which
 * differ by the host bridge window offset on some platforms.
 *
 * @param index BAR number 0..5, or 6 for the expansion ROM
 * @param start CPU physical start address
 * @param size length in bytes (0 = not implemented)
 * @param busStart PCI bus address of {@code start}
 * @param io I/O space (otherwise memory)
 * @param prefetchable prefetchable memory
 * @param mem64 64-bit memory BAR (occupies two BAR slots)
 * @param unassigned no address was assigned (lspci "&lt;unassigned&gt;" / "[disabled]")
 */
public record Bar(int index, long start, long size, long busStart, boolean io, boolean prefetchable,
        boolean mem64, boolean unassigned) {

    /** @return true for a memory BAR (IORESOURCE_MEM). */
    public boolean isMem() {
        return !io;
    }

    /** @return the last CPU address, start + size - 1. */
    public long end() {
        return start + size - 1;
    }

    /** @return bus address minus CPU address, the host bridge offset applied to this BAR. */
    public long busOffset() {
        return busStart - start;
    }

    /** @return lspci's size string, e.g. "16M", "64G", "256". */
    public String sizeString() {
        return sizeString(size);
    }

    /** sizeString - lspci's K/M/G/T rendering of a power-of-two-ish size. */
    public static String sizeString(long size) {
        String[] unit = {"", "K", "M", "G", "T", "P"};
        long s = size;
        int u = 0;
        while (u < unit.length - 1 && s >= 1024 && s % 1024 == 0) {
            s /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%d%s", s, unit[u]);
    }
}
