package org.peerdma.arch.arm64.internal;

import org.peerdma.errno.KernelException;

/**
 * What dma-direct knows of memory: memblock_start_of_DRAM() and max_pfn (one past the last
 * page of RAM).
 *
 * @param start first byte of RAM
 * @param end last byte of RAM
 */
record SystemRam(long start, long end) {
    static final int PAGE_SHIFT = 12;

    /** @return (max_pfn - 1) &lt;&lt; PAGE_SHIFT: the start of the last page of RAM. */
    long lastPage() {
        long maxPfn = (end >>> PAGE_SHIFT) + 1; // PFN_DOWN(memblock_end_of_DRAM()), end + 1 page aligned
        return (maxPfn - 1) << PAGE_SHIFT;
    }

    /**
     * parse - the {@code system_ram} parameter, "start-end[,start-end...]" in hex. Errors: EINVAL
     * naming the entry when it is not start-end or start &gt; end, or when there is no RAM at all.
     */
    static SystemRam parse(String text) {
        long lo = -1;
        long hi = 0;
        boolean any = false;
        for (String part : text == null ? new String[0] : text.split(",")) {
            String entry = part.strip();
            if (entry.isEmpty()) {
                continue;
            }
            String[] se = entry.split("-", -1);
            if (se.length != 2) {
                throw KernelException.einval("system_ram entry '%s' is not start-end", entry);
            }
            long s;
            long e;
            try {
                s = Long.decode(se[0].strip());
                e = Long.decode(se[1].strip());
            } catch (NumberFormatException ex) {
                throw KernelException.einval("system_ram entry '%s' is not hex start-end", entry);
            }
            if (Long.compareUnsigned(s, e) > 0) {
                throw KernelException.einval("system_ram entry '%s' ends before it starts", entry);
            }
            any = true;
            if (Long.compareUnsigned(s, lo) < 0) {
                lo = s;
            }
            if (Long.compareUnsigned(e, hi) > 0) {
                hi = e;
            }
        }
        if (!any) {
            throw KernelException.einval("system_ram is empty: dma-direct needs max_pfn");
        }
        return new SystemRam(lo, hi);
    }
}
