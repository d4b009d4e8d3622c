package org.peerdma.iommu.internal;

import static org.peerdma.iommu.internal.IommuDomain.PAGE_MASK;
import static org.peerdma.iommu.internal.IommuDomain.PAGE_SHIFT;
import static org.peerdma.iommu.internal.IommuDomain.PAGE_SIZE;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.errno.KernelException;
import org.peerdma.iommu.internal.IommuDomain.Mapping;
import org.peerdma.iommu.internal.IommuDomain.Pte;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IOMMU's DMA ops, drivers/iommu/dma-iommu.c: __iommu_dma_map (map_page, map_resource),
 * iommu_dma_map_sg with __finalise_sg, __iommu_dma_unmap, and iommu_dma_alloc_iova with its
 * 32-bit-first rule for PCI devices. Unmaps are checked the way CONFIG_DMA_API_DEBUG
 * (kernel/dma/debug.c check_unmap) checks them, as EINVAL.
 */
final class DmaIommu {
    private static final Logger LOG = LoggerFactory.getLogger("iommu");
    static final String SINGLE = "single";
    static final String SG = "scather-gather";
    static final String RESOURCE = "resource";
    /** dma_get_seg_boundary() of a PCI device: pci_device_add sets 0xffffffff. */
    static final long SEG_BOUNDARY = 0xffffffffL;
    static final long DMA_BIT_MASK_32 = 0xffffffffL;

    private final GroupDomains groups;
    private final IntSupplier maxSegSize;

    DmaIommu(GroupDomains groups, IntSupplier maxSegSize) {
        this.groups = groups;
        this.maxSegSize = maxSegSize;
    }

    static long iovaAlign(long size) {
        return (size + PAGE_SIZE - 1) & PAGE_MASK;
    }

    /** map_page / map_resource: __iommu_dma_map. */
    long map(PciDevice dev, long phys, long size, DmaDirection dir, long mask, String type) {
        if (!validDirection(dir) || size <= 0) {
            LOG.warn("{}: {} map of {} bytes, direction {} refused", dev.name(), type, size, dir);
            return DmaApi.DMA_MAPPING_ERROR;
        }
        long off = phys & ~PAGE_MASK;
        long len = iovaAlign(size + off);
        while (true) {
            IommuDomain d = groups.dmaDomain(dev);
            if (d == null) {
                return DmaApi.DMA_MAPPING_ERROR;
            }
            synchronized (d) {
                IommuDomain now = groups.currentDomainLocked(dev);
                if (now == null) {
                    return notTranslated(dev);
                }
                if (d.retired || now != d) {
                    continue; // groups were computed again under us: look again
                }
                long iova = allocIova(d, dev, len, mask);
                if (iova == 0) {
                    return exhausted(dev, d, len, mask);
                }
                d.install(new Mapping(dev, type, dir, iova, iova + off, size, List.of(new Pte(iova, phys - off, len))));
                return iova + off;
            }
        }
    }

    /** iommu_dma_map_sg: the whole list in one IOVA allocation, merged per __finalise_sg. */
    List<SgEntry> mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir, long mask) {
        if (!validDirection(dir) || sgl == null || sgl.isEmpty()) {
            return null;
        }
        int n = sgl.size();
        long[] off = new long[n];
        long[] len = new long[n];
        long[] iovaLen = new long[n];
        long total = 0;
        int prev = -1;
        for (int i = 0; i < n; i++) {
            SgEntry s = sgl.get(i);
            if (s == null || s.length() <= 0 || s.length() > 0xffffffffL) {
                LOG.warn("{}: scatterlist entry {} has length {}", dev.name(), i, s == null ? null : s.length());
                return null;
            }
            off[i] = s.phys() & ~PAGE_MASK;
            len[i] = s.length();
            long padLen = (SEG_BOUNDARY - total + 1) & SEG_BOUNDARY;
            long sLength = iovaAlign(len[i] + off[i]);
            iovaLen[i] = sLength;
            if (padLen != 0 && padLen < sLength - 1) {
                iovaLen[prev] += padLen;
                total += padLen;
            }
            total += sLength;
            prev = i;
        }
        int maxLen = maxSegSize.getAsInt();
        while (true) {
            IommuDomain d = groups.dmaDomain(dev);
            if (d == null) {
                return null;
            }
            synchronized (d) {
                IommuDomain now = groups.currentDomainLocked(dev);
                if (now == null) {
                    notTranslated(dev);
                    return null;
                }
                if (d.retired || now != d) {
                    continue;
                }
                long iova = allocIova(d, dev, total, mask);
                if (iova == 0) {
                    exhausted(dev, d, total, mask);
                    return null;
                }
                List<Pte> ptes = new ArrayList<>(n);
                long cursor = iova;
                for (int i = 0; i < n; i++) {
                    ptes.add(new Pte(cursor, sgl.get(i).phys() - off[i], iovaLen[i]));
                    cursor += iovaLen[i];
                }
                List<SgEntry> out = finaliseSg(sgl, off, len, iovaLen, iova, maxLen);
                SgEntry last = out.get(out.size() - 1);
                long start = out.get(0).dmaAddress();
                d.install(new Mapping(dev, SG, dir, iova, start, last.dmaAddress() + last.dmaLength() - start,
                        List.copyOf(ptes)));
                return out;
            }
        }
    }

    /**
     * __finalise_sg: an entry is appended to the current output segment if there is one, it
     * starts on an IOVA page boundary, its address is not on a segment boundary and the result
     * stays within the device's max segment size; an entry not ending on a page boundary closes
     * the segment.
     */
    static List<SgEntry> finaliseSg(List<SgEntry> sgl, long[] off, long[] len, long[] iovaLen, long iova,
            long maxLen) {
        List<SgEntry> out = new ArrayList<>();
        long dmaAddr = iova;
        long curLen = 0;
        long curPhys = 0;
        long curDma = 0;
        for (int i = 0; i < sgl.size(); i++) {
            if (curLen != 0 && off[i] == 0 && (dmaAddr & SEG_BOUNDARY) != 0 && maxLen - curLen >= len[i]) {
                curLen += len[i];
                out.set(out.size() - 1, new SgEntry(curPhys, curLen, curDma, curLen));
            } else {
                curPhys = sgl.get(i).phys();
                curDma = dmaAddr + off[i];
                curLen = len[i];
                out.add(new SgEntry(curPhys, curLen, curDma, curLen));
            }
            dmaAddr += iovaLen[i];
            if (len[i] + off[i] < iovaLen[i]) {
                curLen = 0;
            }
        }
        return out;
    }

    /**
     * iommu_dma_alloc_iova: below 4 GiB first for a PCI device whose limit is above it (until that
     * fails once: dev-&gt;iommu-&gt;pci_32bit_workaround is then cleared for good), then up to
     * min(mask, aperture end). Return: the IOVA, 0 when the space is exhausted.
     */
    long allocIova(IommuDomain d, PciDevice dev, long size, long dmaMask) {
        long pages = size >>> PAGE_SHIFT;
        long limit = Long.compareUnsigned(dmaMask, d.apertureEnd) < 0 ? dmaMask : d.apertureEnd;
        if (Long.compareUnsigned(limit, DMA_BIT_MASK_32) > 0 && groups.pci32bitWorkaround(dev)) {
            long pfn = d.iovad.allocFast(pages, DMA_BIT_MASK_32 >>> PAGE_SHIFT);
            if (pfn != 0) {
                return pfn << PAGE_SHIFT;
            }
            groups.clearPci32bitWorkaround(dev);
            LOG.info("{}: Using {}-bit DMA addresses", dev.name(), 64 - Long.numberOfLeadingZeros(limit));
        }
        long pfn = d.iovad.allocFast(pages, limit >>> PAGE_SHIFT);
        return pfn << PAGE_SHIFT;
    }

    /** iommu_dma_unmap_sg: the range from the first to the end of the last non-empty segment. */
    void unmapSg(PciDevice dev, List<SgEntry> mapped, DmaDirection dir) {
        if (mapped == null || mapped.isEmpty() || mapped.get(0).dmaLength() == 0) {
            throw KernelException.einval("%s: DMA-API: device driver frees an empty scatterlist", dev.name());
        }
        long start = mapped.get(0).dmaAddress();
        long end = 0;
        for (SgEntry s : mapped) {
            if (s.dmaLength() == 0) {
                break;
            }
            end = s.dmaAddress() + s.dmaLength();
        }
        unmap(dev, start, end - start, dir, SG);
    }

    /**
     * unmap_page / unmap_resource: __iommu_dma_unmap, with dma-debug's check_unmap first.
     * Errors: EINVAL, and nothing changed.
     */
    void unmap(PciDevice dev, long dma, long size, DmaDirection dir, String type) {
        long iova = dma & PAGE_MASK;
        for (IommuDomain d : groups.domainsFor(dev)) {
            synchronized (d) {
                Mapping m = d.mappingAt(iova);
                if (m == null || m.dev() != dev || m.dmaStart() != dma) {
                    continue;
                }
                if (m.span() != size) {
                    throw KernelException.einval("%s: DMA-API: device driver frees DMA memory with different size "
                            + "[device address=%#018x] [map size=%d bytes] [unmap size=%d bytes]",
                            dev.name(), dma, m.span(), size);
                }
                if (!m.type().equals(type)) {
                    throw KernelException.einval("%s: DMA-API: device driver frees DMA memory with wrong function "
                            + "[device address=%#018x] [size=%d bytes] [mapped as %s] [unmapped as %s]",
                            dev.name(), dma, size, m.type(), type);
                }
                if (m.dir() != dir) {
                    throw KernelException.einval("%s: DMA-API: device driver frees DMA memory with different "
                            + "direction [device address=%#018x] [size=%d bytes] [mapped with %s] [unmapped with %s]",
                            dev.name(), dma, size, m.dir(), dir);
                }
                d.remove(m);
                return;
            }
        }
        throw KernelException.einval("%s: DMA-API: device driver tries to free DMA memory it has not allocated "
                + "[device address=%#018x] [size=%d bytes]", dev.name(), dma, size);
    }

    private static boolean validDirection(DmaDirection dir) {
        return dir == DmaDirection.BIDIRECTIONAL || dir == DmaDirection.TO_DEVICE || dir == DmaDirection.FROM_DEVICE;
    }

    private static long notTranslated(PciDevice dev) {
        LOG.warn("{}: IOMMU DMA ops called for a device the IOMMU does not translate", dev.name());
        return DmaApi.DMA_MAPPING_ERROR;
    }

    private static long exhausted(PciDevice dev, IommuDomain d, long size, long mask) {
        LOG.debug("{}: no IOVA space for {} bytes below {} in {} ({} bytes allocated)", dev.name(), size,
                Long.toHexString(Long.compareUnsigned(mask, d.apertureEnd) < 0 ? mask : d.apertureEnd), d,
                d.allocatedBytes());
        return DmaApi.DMA_MAPPING_ERROR;
    }
}
