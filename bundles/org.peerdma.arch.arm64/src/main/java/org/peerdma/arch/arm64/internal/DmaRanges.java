package org.peerdma.arch.arm64.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.peerdma.dma.DmaApi;
import org.peerdma.errno.KernelException;

/**
 * A device's dev-&gt;dma_range_map: the struct bus_dma_region array that of_dma_get_range()
 * builds from the device tree's {@code dma-ranges} (include/linux/dma-direct.h). Immutable.
 * An empty map is a device without dma-ranges: phys_to_dma is the identity and there is no
 * bus_dma_limit.
 */
final class DmaRanges {
    /** struct bus_dma_region: {@code size} bytes of CPU memory at cpuStart appear at dmaStart. */
    record Region(String entry, long cpuStart, long dmaStart, long size) {
        long cpuEnd() {
            return cpuStart + size - 1;
        }

        long dmaEnd() {
            return dmaStart + size - 1;
        }

        @Override
        public String toString() {
            return String.format("cpu %#x-%#x -> bus %#x-%#x", cpuStart, cpuEnd(), dmaStart, dmaEnd());
        }
    }

    static final DmaRanges NONE = new DmaRanges(List.of());

    private final List<Region> regions;

    private DmaRanges(List<Region> regions) {
        this.regions = List.copyOf(regions);
    }

    List<Region> regions() {
        return regions;
    }

    boolean isEmpty() {
        return regions.isEmpty();
    }

    /**
     * parse - the {@code dma_ranges} parameter: entries "cpuStart:busStart:size" in hex (0x optional),
     * separated by commas (a multi-valued configuration gives one or more entries per value).
     * Errors: EINVAL naming the entry when it is not three hex numbers, its size is 0, it runs past
     * the end of the 64-bit address space, or it overlaps another entry on the CPU or the bus side.
     */
    static DmaRanges parse(String... values) {
        List<Region> out = new ArrayList<>();
        if (values != null) {
            for (String value : values) {
                if (value == null || value.isBlank()) {
                    continue;
                }
                for (String part : value.split(",")) {
                    String entry = part.strip();
                    if (!entry.isEmpty()) {
                        out.add(parseEntry(entry));
                    }
                }
            }
        }
        for (int i = 0; i < out.size(); i++) {
            for (int j = 0; j < i; j++) {
                Region a = out.get(j);
                Region b = out.get(i);
                if (overlaps(a.cpuStart(), a.cpuEnd(), b.cpuStart(), b.cpuEnd())) {
                    throw KernelException.einval("dma_ranges entry '%s' overlaps entry '%s' on the CPU side (%s, %s)",
                            b.entry(), a.entry(), b, a);
                }
                if (overlaps(a.dmaStart(), a.dmaEnd(), b.dmaStart(), b.dmaEnd())) {
                    throw KernelException.einval("dma_ranges entry '%s' overlaps entry '%s' on the bus side (%s, %s)",
                            b.entry(), a.entry(), b, a);
                }
            }
        }
        return new DmaRanges(out);
    }

    private static Region parseEntry(String entry) {
        String[] f = entry.split(":", -1);
        if (f.length != 3) {
            throw KernelException.einval("dma_ranges entry '%s' is not cpuStart:busStart:size", entry);
        }
        long cpu = hex(entry, "cpuStart", f[0]);
        long bus = hex(entry, "busStart", f[1]);
        long size = hex(entry, "size", f[2]);
        if (size == 0) {
            throw KernelException.einval("dma_ranges entry '%s' has size 0", entry);
        }
        if (Long.compareUnsigned(cpu + size - 1, cpu) < 0 || Long.compareUnsigned(bus + size - 1, bus) < 0) {
            throw KernelException.einval("dma_ranges entry '%s' runs past the end of the 64-bit address space", entry);
        }
        return new Region(entry, cpu, bus, size);
    }

    private static long hex(String entry, String what, String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.startsWith("0x")) {
            t = t.substring(2);
        }
        try {
            if (t.isEmpty() || t.startsWith("+") || t.startsWith("-")) {
                throw new NumberFormatException(text);
            }
            return Long.parseUnsignedLong(t, 16);
        } catch (NumberFormatException ex) {
            throw KernelException.einval("dma_ranges entry '%s': %s '%s' is not a hex number", entry, what, text.strip());
        }
    }

    private static boolean overlaps(long s1, long e1, long s2, long e2) {
        return Long.compareUnsigned(s1, e2) <= 0 && Long.compareUnsigned(s2, e1) <= 0;
    }

    /**
     * physToDma - phys_to_dma_unencrypted(): translate_phys_to_dma() over the regions when the
     * device has a range map, the identity otherwise. Return: the bus address, or
     * DMA_MAPPING_ERROR when no region holds {@code phys} ("make sure dma_capable fails when no
     * translation is available").
     */
    long physToDma(long phys) {
        if (regions.isEmpty()) {
            return phys;
        }
        for (Region m : regions) {
            long offset = phys - m.cpuStart();
            if (Long.compareUnsigned(phys, m.cpuStart()) >= 0 && Long.compareUnsigned(offset, m.size()) < 0) {
                return m.dmaStart() + offset;
            }
        }
        return DmaApi.DMA_MAPPING_ERROR;
    }

    /** dmaToPhys - dma_to_phys(): translate_dma_to_phys(), or (phys_addr_t)-1 when no region holds it. */
    long dmaToPhys(long dma) {
        if (regions.isEmpty()) {
            return dma;
        }
        for (Region m : regions) {
            long offset = dma - m.dmaStart();
            if (Long.compareUnsigned(dma, m.dmaStart()) >= 0 && Long.compareUnsigned(offset, m.size()) < 0) {
                return m.cpuStart() + offset;
            }
        }
        return -1L;
    }

    /**
     * busDmaLimit - what of_dma_configure_id() stores in dev-&gt;bus_dma_limit: dma_range_map_max(),
     * the highest bus address of any region; 0 (no limit) without dma-ranges.
     */
    long busDmaLimit() {
        long max = 0;
        for (Region m : regions) {
            if (Long.compareUnsigned(m.dmaEnd(), max) > 0) {
                max = m.dmaEnd();
            }
        }
        return max;
    }

    /**
     * maxCpuAddress - of_dma_get_max_cpu_address() for this one bus: the highest CPU address any
     * region reaches; PHYS_ADDR_MAX (all ones) without dma-ranges.
     */
    long maxCpuAddress() {
        if (regions.isEmpty()) {
            return -1L;
        }
        long max = 0;
        for (Region m : regions) {
            if (Long.compareUnsigned(m.cpuEnd(), max) > 0) {
                max = m.cpuEnd();
            }
        }
        return max;
    }

    @Override
    public String toString() {
        return regions.isEmpty() ? "(no dma-ranges: identity)" : regions.toString();
    }
}
