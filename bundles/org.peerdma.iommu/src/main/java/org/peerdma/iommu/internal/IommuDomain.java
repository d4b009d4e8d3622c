package org.peerdma.iommu.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.peerdma.dma.DmaDirection;
import org.peerdma.pci.PciDevice;

/**
 * One translated default domain (struct iommu_domain of type DMA with its iommu_dma_cookie): the
 * IOVA allocator and the IOMMU page table that says which CPU physical page each IOVA page
 * reaches. Shared by every member of a group. Callers hold this object's monitor for every
 * access (the kernel's iova_rbtree_lock and page-table lock in one).
 */
final class IommuDomain {
    static final int PAGE_SHIFT = 12;
    static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    static final long PAGE_MASK = ~(PAGE_SIZE - 1);

    /** One page-table run: {@code len} bytes at {@code iova} reach {@code phys}. */
    record Pte(long iova, long phys, long len) {
    }

    /**
     * What one map call put in the domain, as DMA-debug remembers it.
     *
     * @param dev the device that mapped it
     * @param type "single", "scather-gather" or "resource" (dma-debug's type2name)
     * @param dir direction
     * @param iova start of the IOVA allocation (page aligned)
     * @param dmaStart first DMA address handed out
     * @param span bytes from dmaStart to the end of the last DMA segment handed out
     * @param ptes the page-table runs
     */
    record Mapping(PciDevice dev, String type, DmaDirection dir, long iova, long dmaStart, long span,
            List<Pte> ptes) {
    }

    final int id;
    final IovaAllocator iovad;
    /** Last IOVA the hardware can translate (domain->geometry.aperture_end). */
    final long apertureEnd;
    private final TreeMap<Long, Pte> pageTable = new TreeMap<>();
    private final Map<Long, Mapping> mappings = new HashMap<>();
    /** No group uses this domain and it is empty: nothing may be mapped into it any more. */
    boolean retired;

    IommuDomain(int id, long apertureEnd) {
        this.id = id;
        this.apertureEnd = apertureEnd;
        this.iovad = new IovaAllocator(PAGE_SHIFT, 1); // base_pfn = max(1, aperture_start >> order)
    }

    /** iova_reserve: keep the bus range [start, end] (bytes, inclusive) out of the IOVA space. */
    void reserve(long start, long end) {
        iovad.reserve(start >>> PAGE_SHIFT, end >>> PAGE_SHIFT);
    }

    /** iommu_map for every run of {@code m}, and remember it. */
    void install(Mapping m) {
        for (Pte p : m.ptes()) {
            pageTable.put(p.iova(), p);
        }
        mappings.put(m.iova(), m);
    }

    /** iommu_unmap of {@code m}'s runs and free of its IOVA range. */
    void remove(Mapping m) {
        for (Pte p : m.ptes()) {
            pageTable.remove(p.iova());
        }
        mappings.remove(m.iova());
        iovad.free(m.iova() >>> PAGE_SHIFT);
    }

    /** @return the mapping whose IOVA allocation starts at {@code iova}, or null. */
    Mapping mappingAt(long iova) {
        return mappings.get(iova);
    }

    /** iommu_iova_to_phys: the physical address {@code iova} reaches, or -1 when unmapped. */
    long translate(long iova) {
        Map.Entry<Long, Pte> e = pageTable.floorEntry(iova);
        if (e == null) {
            return -1;
        }
        Pte p = e.getValue();
        long off = iova - p.iova();
        return Long.compareUnsigned(off, p.len()) < 0 ? p.phys() + off : -1;
    }

    boolean isEmpty() {
        return mappings.isEmpty();
    }

    /** @return live mappings per device. */
    Map<PciDevice, Integer> mappingsByDevice() {
        Map<PciDevice, Integer> out = new HashMap<>();
        for (Mapping m : mappings.values()) {
            out.merge(m.dev(), 1, Integer::sum);
        }
        return out;
    }

    /** @return the live mappings of {@code dev}. */
    List<Mapping> mappingsOf(PciDevice dev) {
        List<Mapping> out = new ArrayList<>();
        for (Mapping m : mappings.values()) {
            if (m.dev() == dev) {
                out.add(m);
            }
        }
        return out;
    }

    long allocatedBytes() {
        return iovad.allocatedPages() << PAGE_SHIFT;
    }

    @Override
    public String toString() {
        return "domain " + id;
    }
}
