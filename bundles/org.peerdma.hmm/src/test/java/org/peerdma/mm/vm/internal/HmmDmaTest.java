package org.peerdma.mm.vm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peerdma.mm.vm.Vm.*;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.mm.vm.Hmm;
import org.peerdma.mm.vm.HmmDma;
import org.peerdma.mm.vm.Mm;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.internal.P2pdmaImpl;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.internal.TopologyIOImpl;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.internal.TestCmdline;

/**
 * hmm_dma_map_* (reference HMM-4) on the what-if sample machine: a process's RAM pages and the
 * A100's P2PDMA pages, mapped for a NIC below the same switch (BUS_ADDR), for the same NIC once ACS
 * redirects its traffic to the host bridge (THRU_HOST_BRIDGE), and for the far NIC (not supported).
 */
class HmmDmaTest {
    static final long P = PAGE_SIZE;
    static final long MB = 1 << 20;

    private PciCoreImpl pci;
    private P2pdmaImpl p2p;
    private DmaApi api;
    private PhysMemory ram;
    private ProcessesImpl procs;
    private Mm mm;
    private PciDevice gpu;
    private PciDevice near;
    private PciDevice far;
    private HmmDma hmmDma;
    private long p2pVirt;

    @BeforeEach
    void boot() {
        pci = TestCmdline.core("disable_acs_redir=0000:02:08.0");
        MachineDTO m = new TopologyIOImpl().sample();
        m.devices.stream().filter(d -> d.bdf.equals("0000:80:00.0")).findFirst().orElseThrow().device = 0x6f02;
        pci.load(m);
        ZoneDevice zone = TestZone.zone();
        api = TestDma.api();
        p2p = P2pdmaImpl.standalone(pci, zone, api, "newest", 200);
        gpu = pci.get(Bdf.parse("03:00.0"));
        near = pci.get(Bdf.parse("05:00.0"));
        far = pci.get(Bdf.parse("82:00.0"));
        p2p.addResource(gpu, 1, 64 * MB, 0);
        p2pVirt = p2p.alloc(gpu, 2 * P);
        ram = TestDma.ram();
        procs = new ProcessesImpl(ram, zone);
        mm = procs.create("app");
        hmmDma = new HmmDmaImpl(api, p2p, zone);
    }

    @AfterEach
    void invariants() {
        assertThat(api.mappings(near)).as("nothing left mapped for the NIC").isEmpty();
        assertThat(api.mappings(far)).isEmpty();
        p2p.free(gpu, p2pVirt, 2 * P);
        mm.mmput();
        procs.deactivate();
        assertThat(ram.used()).isZero();
    }

    /** The map's pfn list filled by hmm_range_fault (4 RAM pages), then two P2PDMA pages after them. */
    private HmmDma.Map faultedMap(PciDevice dev, long a) {
        HmmDma.Map map = new HmmDma.Map();
        assertThat(hmmDma.mapAlloc(dev, map, 6, P)).isZero();
        fault(map, a);
        for (int i = 0; i < 2; i++) {
            map.pfnList[4 + i] = (ZoneDevice.pa(p2pVirt) >>> PAGE_SHIFT) + i | HMM_PFN_VALID | HMM_PFN_WRITE;
        }
        return map;
    }

    private void fault(HmmDma.Map map, long a) {
        Hmm.Range r = new Hmm.Range();
        r.start = a;
        r.end = a + 4 * P;
        r.hmmPfns = map.pfnList; // the same array: sticky bits carried in and out
        r.defaultFlags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
        mm.mmapLock().readLock().lock();
        try {
            assertThat(new HmmImpl().rangeFault(mm, r)).isZero();
        } finally {
            mm.mmapLock().readLock().unlock();
        }
    }

    @Test
    void ramPagesAreMappedAndP2pPagesFollowTheMapType() {
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, new byte[(int) (4 * P)]);
        HmmDma.Map early = new HmmDma.Map();
        assertThat(hmmDma.mapAlloc(near, early, 6, P)).as("32-bit mask: addressing-limited").isEqualTo(-95);
        assertThat(hmmDma.mapAlloc(near, early, 0, P)).isEqualTo(-22);
        assertThat(hmmDma.mapAlloc(near, early, 1, 2 * P)).as("nr * PAGE_SIZE / entry size is 0").isEqualTo(-22);
        api.setMask(near, -1L);
        api.setMask(far, -1L);

        HmmDma.Map map = faultedMap(near, a);
        for (int i = 0; i < 4; i++) {
            long dma = hmmDma.mapPfn(near, map, i);
            assertThat(dma).isNotEqualTo(DmaApi.DMA_MAPPING_ERROR);
            assertThat(api.dmaToPhys(near, dma)).as("the NIC reaches the page itself")
                    .isEqualTo(hmmPfnToPfn(map.pfnList[i]) << PAGE_SHIFT);
            assertThat(map.pfnList[i] & (HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS))
                    .isEqualTo(HMM_PFN_DMA_MAPPED);
        }
        assertThat(api.mappings(near)).hasSize(4);
        assertThat(p2p.mapType(gpu, near)).isEqualTo(MapType.BUS_ADDR);
        long bus = hmmDma.mapPfn(near, map, 4);
        assertThat(bus).as("paddr + bus offset").isEqualTo(p2p.virtToBus(gpu, p2pVirt));
        assertThat(hmmDma.mapPfn(near, map, 5)).isEqualTo(bus + P);
        assertThat(map.pfnList[4] & (HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS))
                .isEqualTo(HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA_BUS);
        assertThat(api.mappings(near)).as("no DMA API mapping for bus addresses").hasSize(4);
        // mapping a mapped entry again (a flags resync) keeps its address, maps nothing new
        long first = hmmDma.mapPfn(near, map, 0);
        assertThat(hmmDma.mapPfn(near, map, 0)).isEqualTo(first);
        assertThat(api.mappings(near)).hasSize(4);
        // the sticky bits survive the next hmm_range_fault on the same list
        fault(map, a);
        assertThat(map.pfnList[0] & HMM_PFN_DMA_MAPPED).isNotZero();
        // unmap: RAM entries unmapped, bus entries have nothing to unmap; the bits go
        assertThat(hmmDma.unmapPfn(near, map, 0)).isTrue();
        assertThat(map.pfnList[0] & (HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS)).isZero();
        assertThat(hmmDma.unmapPfn(near, map, 0)).as("not mapped any more").isFalse();
        assertThat(hmmDma.unmapPfn(near, map, 4)).isTrue();
        assertThat(map.pfnList[4] & (HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS)).isZero();
        assertThat(api.mappings(near)).hasSize(3);
        hmmDma.mapFree(near, map); // entries 1-3 and 5 were left mapped: freed with a warning

        // the far NIC: not supported for the GPU's memory
        assertThat(p2p.mapType(gpu, far)).isEqualTo(MapType.NOT_SUPPORTED);
        HmmDma.Map farMap = faultedMap(far, a);
        assertThat(hmmDma.mapPfn(far, farMap, 4)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(farMap.pfnList[4] & (HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS)).isZero();
        assertThat(hmmDma.mapPfn(far, farMap, 1)).as("its RAM pages are fine").isNotEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(hmmDma.unmapPfn(far, farMap, 4)).isFalse();
        hmmDma.mapFree(far, farMap);
    }

    @Test
    void throughTheHostBridgeTheDmaApiMapsTheBar() {
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        api.setMask(near, -1L);
        pci.setAcsCtrl(Bdf.parse("02:08.0"), Acs.RR); // redirect the NIC's peer traffic upstream
        MapType t = p2p.mapType(gpu, near);
        assertThat(t).isEqualTo(MapType.THRU_HOST_BRIDGE);
        HmmDma.Map map = faultedMap(near, a);
        long dma = hmmDma.mapPfn(near, map, 4);
        assertThat(dma).isEqualTo(TestDma.IOVA_BASE + ZoneDevice.pa(p2pVirt));
        assertThat(map.pfnList[4] & (HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS))
                .isEqualTo(HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA);
        assertThat(api.mappings(near)).hasSize(1);
        assertThat(hmmDma.unmapPfn(near, map, 4)).isTrue();
        assertThat(api.mappings(near)).isEmpty();
        hmmDma.mapFree(near, map);
    }

    /**
     * The whole modern path: the process maps the GPU's p2pmem (pci_mmap_p2pmem: pages with struct
     * pages), hmm_range_fault reports them like any page, and hmm_dma_map_pfn gives the NIC their
     * bus addresses; the CPU and the NIC's addresses name the same bytes; munmap returns the pool.
     */
    @Test
    void p2pmemMappedIntoAProcessIsFaultedAndDmaMapped() {
        var mapper = new org.peerdma.mm.p2pvma.internal.DeviceMemoryMapperImpl(p2p);
        long before = p2p.info(gpu).available();
        assertThat(mapper.mmapP2pmem(mm, gpu, 100)).isEqualTo(-22);
        assertThat(mapper.mmapP2pmem(mm, near, 4 * P)).as("no p2pdma memory").isEqualTo(-19);
        long a = mapper.mmapP2pmem(mm, gpu, 4 * P);
        assertThat(a).isPositive();
        assertThat(p2p.info(gpu).available()).isEqualTo(before - 4 * P);
        assertThat(mm.findVma(a).flags() & VM_MIXEDMAP).isNotZero();
        assertThat(mm.write(a + P, "through the BAR".getBytes())).isEqualTo(15);
        api.setMask(near, -1L);
        HmmDma.Map map = new HmmDma.Map();
        assertThat(hmmDma.mapAlloc(near, map, 4, P)).isZero();
        fault(map, a);
        for (int i = 0; i < 4; i++) {
            assertThat(map.pfnList[i] & (HMM_PFN_VALID | HMM_PFN_WRITE)).isEqualTo(HMM_PFN_VALID | HMM_PFN_WRITE);
            long dma = hmmDma.mapPfn(near, map, i);
            long virt = ZoneDevice.va(hmmPfnToPfn(map.pfnList[i]) << PAGE_SHIFT);
            assertThat(dma).as("the BAR page's bus address").isEqualTo(p2p.virtToBus(gpu, virt));
            assertThat(map.pfnList[i] & HMM_PFN_P2PDMA_BUS).isNotZero();
        }
        long virt1 = ZoneDevice.va(hmmPfnToPfn(map.pfnList[1]) << PAGE_SHIFT);
        byte[] got = new byte[15];
        p2p.page(gpu, virt1).data().get(got);
        assertThat(new String(got)).as("the page the NIC was given holds what the CPU wrote").isEqualTo("through the BAR");
        for (int i = 0; i < 4; i++) {
            assertThat(hmmDma.unmapPfn(near, map, i)).isTrue();
        }
        hmmDma.mapFree(near, map);
        assertThat(mm.munmap(a, 4 * P)).isZero();
        assertThat(p2p.info(gpu).available()).as("the pages went back to the pool").isEqualTo(before);
    }
}
