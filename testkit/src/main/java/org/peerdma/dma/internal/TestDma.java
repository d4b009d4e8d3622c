package org.peerdma.dma.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Constants;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dma.spi.DmaOps;
import org.peerdma.pci.PciDevice;

/** The DMA core with an "iommu-like" ops that adds a fixed IOVA base, for tests outside OSGi. */
public final class TestDma {
    public static final long IOVA_BASE = 0xfe000000_00000000L >>> 8;

    private TestDma() {
    }

    /** ram - an empty RAM map, as the dma module provides it. */
    public static org.peerdma.dma.PhysMemory ram() {
        return new PhysMemoryImpl();
    }

    public static DmaApi api() {
        DmaApiImpl api = new DmaApiImpl();
        DmaOps ops = new DmaOps() {
            @Override
            public long mapPage(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
                return IOVA_BASE + phys;
            }

            @Override
            public void unmapPage(PciDevice dev, long dma, long size, DmaDirection dir) {
            }

            @Override
            public List<SgEntry> mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir, long mask) {
                return sgl.stream().map(e -> new SgEntry(e.phys(), e.length(), IOVA_BASE + e.phys(), e.length()))
                        .toList();
            }

            @Override
            public void unmapSg(PciDevice dev, List<SgEntry> mapped, DmaDirection dir) {
            }

            @Override
            public long mapResource(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
                return IOVA_BASE + phys;
            }

            @Override
            public void unmapResource(PciDevice dev, long dma, long size, DmaDirection dir) {
            }

            @Override
            public boolean supported(PciDevice dev, long mask) {
                return true;
            }

            @Override
            public long physToDma(PciDevice dev, long phys) {
                return -1;
            }

            @Override
            public long dmaToPhys(PciDevice dev, long dma) {
                return dma - IOVA_BASE;
            }
        };
        Map<String, Object> props = new HashMap<>();
        props.put(DmaOps.NAME, "test-iommu");
        props.put(DmaOps.KIND, "direct");
        props.put(Constants.SERVICE_ID, 1L);
        api.addOps(ops, props);
        return api;
    }
}
