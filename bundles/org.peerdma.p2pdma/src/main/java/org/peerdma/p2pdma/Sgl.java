package org.peerdma.p2pdma;

import java.util.List;

/**
 * A scatterlist: entries of (kernel virt, length). p2pdma's alloc_sgl makes one entry.
 *
 * @param entries the entries
 */
public record Sgl(List<Entry> entries) {
    /**
     * @param virt kernel virtual address (sg_virt)
     * @param length bytes
     */
    public record Entry(long virt, long length) {
    }

    /** @return the number of entries (nents). */
    public int nents() {
        return entries.size();
    }
}
