package org.peerdma.dmabuf.core;

import java.util.List;

import org.peerdma.dma.SgEntry;

/**
 * struct sg_table as map_dma_buf returns it: DMA addresses for the importing device. Entries
 * mapped with dma_map_resource carry no page (phys is the MMIO address), as amdgpu does for VRAM.
 *
 * @param entries the mapped entries
 */
public record SgTable(List<SgEntry> entries) {
    public SgTable {
        entries = List.copyOf(entries);
    }

    /** @return the total DMA length. */
    public long length() {
        return entries.stream().mapToLong(SgEntry::dmaLength).sum();
    }
}
