package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/**
 * include/linux/hmm-dma.h: DMA addresses for the pages hmm_range_fault found, with P2PDMA pages
 * mapped the way p2pdma decides for the pair (reference HMM-4). The map's {@code pfnList} is the
 * range's hmm_pfns: the sticky DMA_MAPPED / P2PDMA / P2PDMA_BUS bits survive the next fault.
 */
@ProviderType
public interface HmmDma {
    /** struct hmm_dma_map. */
    final class Map {
        /** The hmm_pfns (give it to Hmm.Range.hmmPfns). */
        public long[] pfnList;
        public long dmaEntrySize;

        /** @return entries mapped now. */
        public int mappedEntries() {
            int n = 0;
            for (long p : pfnList) {
                n += (p & Vm.HMM_PFN_DMA_MAPPED) != 0 ? 1 : 0;
            }
            return n;
        }
    }

    /**
     * mapAlloc - hmm_dma_map_alloc. Return: 0; -EINVAL when nrEntries * PAGE_SIZE / dmaEntrySize is 0;
     * -EOPNOTSUPP when the device is addressing-limited (dma_addressing_limited: no bouncing is
     * allowed here). The model has no non-coherent devices, so DMA_NEED_SYNC never refuses.
     */
    int mapAlloc(PciDevice dev, Map map, int nrEntries, long dmaEntrySize);

    /** mapFree - hmm_dma_map_free; entries still mapped are unmapped (with a warning: the caller leaked them). */
    void mapFree(PciDevice dev, Map map);

    /**
     * mapPfn - hmm_dma_map_pfn: an entry already DMA_MAPPED (not bus-mapped) keeps its address. A
     * P2PDMA page: BUS_ADDR gives paddr + bus offset and sets P2PDMA_BUS | DMA_MAPPED with no DMA API
     * mapping; THRU_HOST_BRIDGE sets P2PDMA and maps through the DMA API; any other type gives
     * DMA_MAPPING_ERROR. Other pages: dma_map_page. Return: the DMA address, or DMA_MAPPING_ERROR (-1).
     */
    long mapPfn(PciDevice dev, Map map, int idx);

    /**
     * unmapPfn - hmm_dma_unmap_pfn: false unless the entry is VALID and DMA_MAPPED; bus-address
     * entries have nothing to unmap; the three sticky bits are cleared.
     */
    boolean unmapPfn(PciDevice dev, Map map, int idx);
}
