package org.peerdma.mm.vm.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.vm.HmmDma;
import org.peerdma.mm.vm.Vm;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pDmaMapping;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * mm/hmm.c's DMA helpers. The IOVA-link path (dma_iova_try_alloc: one contiguous IOVA range for
 * the whole map) is not modelled: every entry is mapped on its own, as the kernel does when the
 * IOVA allocation fails, so behind an IOMMU the addresses are not consecutive.
 */
@Component(service = HmmDma.class)
public class HmmDmaImpl implements HmmDma {
    private static final Logger LOG = LoggerFactory.getLogger("hmm");
    static final long MAPPED_FLAGS = Vm.HMM_PFN_DMA_MAPPED | Vm.HMM_PFN_P2PDMA | Vm.HMM_PFN_P2PDMA_BUS;

    @Reference
    DmaApi dma;

    @Reference
    P2pMem p2pmem;

    @Reference
    ZoneDevice zone;

    /** Per map: what each mapped entry holds (a DmaMapping or a P2pDmaMapping) and its address (dma_list). */
    private static final class State {
        final Object[] mapped;
        final long[] dma;

        State(int n) {
            mapped = new Object[n];
            dma = new long[n];
        }
    }

    private final java.util.Map<Map, State> states = java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    private State state(Map map) {
        State st = states.get(map);
        if (st == null) {
            throw KernelException.einval("hmm_dma_map not allocated (hmm_dma_map_alloc first)");
        }
        return st;
    }

    public HmmDmaImpl() {
    }

    /** For tests outside OSGi. */
    public HmmDmaImpl(DmaApi dma, P2pMem p2pmem, ZoneDevice zone) {
        this.dma = dma;
        this.p2pmem = p2pmem;
        this.zone = zone;
    }

    @Override
    public int mapAlloc(PciDevice dev, Map map, int nrEntries, long dmaEntrySize) {
        if (nrEntries <= 0 || dmaEntrySize <= 0 || nrEntries * Vm.PAGE_SIZE / dmaEntrySize == 0) {
            return -22;
        }
        if (dma.addressingLimited(dev)) {
            return -95; // -EOPNOTSUPP: some pages would need bouncing
        }
        map.dmaEntrySize = dmaEntrySize;
        map.pfnList = new long[nrEntries];
        states.put(map, new State(nrEntries));
        return 0;
    }

    @Override
    public void mapFree(PciDevice dev, Map map) {
        State st = states.get(map);
        if (st == null) {
            return;
        }
        for (int i = 0; i < st.mapped.length; i++) {
            if (st.mapped[i] != null) { // whatever the pfn list says now, this mapping is live
                LOG.warn("hmm_dma_map_free: {} entry {} still mapped: unmapping it", dev.name(), i);
                release(st.mapped[i]);
                st.mapped[i] = null;
            }
        }
        states.remove(map);
        map.pfnList = null;
    }

    private Page p2pPage(long pfn) {
        try {
            Page pg = zone.pfnToPage(pfn);
            return pg.pgmap().type == MemoryType.PCI_P2PDMA ? pg : null;
        } catch (KernelException e) {
            return null; // system RAM
        }
    }

    @Override
    public long mapPfn(PciDevice dev, Map map, int idx) {
        State st = state(map);
        long[] pfns = map.pfnList;
        if ((pfns[idx] & Vm.HMM_PFN_DMA_MAPPED) != 0 && (pfns[idx] & Vm.HMM_PFN_P2PDMA_BUS) == 0) {
            return st.dma[idx]; // already programmed: only the flags are being resynced
        }
        if (st.mapped[idx] != null) { // the caller cleared DMA_MAPPED itself: the old mapping goes first
            release(st.mapped[idx]);
            st.mapped[idx] = null;
        }
        long phys = Vm.hmmPfnToPfn(pfns[idx]) << Vm.PAGE_SHIFT;
        Page pg = p2pPage(phys >>> Vm.PAGE_SHIFT);
        try {
            if (pg != null) { // pci_p2pdma_state
                PciDevice provider = (PciDevice) pg.pgmap().owner;
                MapType t = p2pmem.mapType(provider, dev);
                switch (t) {
                    case BUS_ADDR -> {
                        P2pDmaMapping m = p2pmem.mapForDma(dev, provider, ZoneDevice.va(phys), map.dmaEntrySize,
                                DmaDirection.BIDIRECTIONAL);
                        pfns[idx] |= Vm.HMM_PFN_P2PDMA_BUS | Vm.HMM_PFN_DMA_MAPPED;
                        return m.dmaAddress(); // pci_p2pdma_bus_addr_map: no IOMMU, nothing to unmap
                    }
                    case THRU_HOST_BRIDGE -> {
                        pfns[idx] |= Vm.HMM_PFN_P2PDMA; // DMA_ATTR_SKIP_CPU_SYNC
                        P2pDmaMapping m = p2pmem.mapForDma(dev, provider, ZoneDevice.va(phys), map.dmaEntrySize,
                                DmaDirection.BIDIRECTIONAL);
                        st.mapped[idx] = m;
                        st.dma[idx] = m.dmaAddress();
                    }
                    default -> {
                        return DmaApi.DMA_MAPPING_ERROR;
                    }
                }
            } else {
                DmaMapping m = dma.mapPage(dev, phys, map.dmaEntrySize, DmaDirection.BIDIRECTIONAL);
                st.mapped[idx] = m;
                st.dma[idx] = m.entries().get(0).dmaAddress();
            }
        } catch (KernelException e) {
            LOG.debug("hmm_dma_map_pfn: {} entry {}: {}", dev.name(), idx, e.getMessage());
            pfns[idx] &= ~Vm.HMM_PFN_P2PDMA;
            return DmaApi.DMA_MAPPING_ERROR;
        }
        pfns[idx] |= Vm.HMM_PFN_DMA_MAPPED;
        return st.dma[idx];
    }

    @Override
    public boolean unmapPfn(PciDevice dev, Map map, int idx) {
        State st = state(map);
        long[] pfns = map.pfnList;
        if ((pfns[idx] & (Vm.HMM_PFN_VALID | Vm.HMM_PFN_DMA_MAPPED)) != (Vm.HMM_PFN_VALID | Vm.HMM_PFN_DMA_MAPPED)) {
            return false;
        }
        Object m = st.mapped[idx];
        st.mapped[idx] = null;
        if ((pfns[idx] & Vm.HMM_PFN_P2PDMA_BUS) == 0) { // bus-address entries have nothing to unmap
            release(m);
        }
        pfns[idx] &= ~MAPPED_FLAGS;
        return true;
    }

    private void release(Object m) {
        if (m instanceof P2pDmaMapping p) {
            p2pmem.unmapForDma(p);
        } else if (m instanceof DmaMapping d) {
            dma.unmap(d);
        }
    }
}
