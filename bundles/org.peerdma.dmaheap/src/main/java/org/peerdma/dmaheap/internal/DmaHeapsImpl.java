package org.peerdma.dmaheap.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.PhysMemory;
import org.peerdma.errno.KernelException;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmaheap.DmaHeaps;
import org.peerdma.errno.Errno;

/**
 * dma-heap.c with the system heap (pages in chunks of order 8, 4 and 0, largest first, as
 * system_heap.c allocates them) and a CMA heap (one physically contiguous allocation aligned to its
 * order, capped at CONFIG_CMA_ALIGNMENT = 8, from a fixed region below 2 GiB).
 */
@Component(service = DmaHeaps.class, configurationPid = HeapConfig.PID)
@Designate(ocd = HeapConfig.class)
public class DmaHeapsImpl implements DmaHeaps {
    private static final Logger LOG = LoggerFactory.getLogger("dma-heap");
    static final int PAGE_SHIFT = 12;
    static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    static final int[] ORDERS = {8, 4, 0};
    static final int CMA_ALIGNMENT = 8;
    /** The CMA area ends at 2 GiB (below the System RAM hole in the default memory map). */
    static final long CMA_END = 0x80000000L;
    @Reference
    DmaBufCore dmabuf;

    /** The RAM map: system-heap chunks come from it, CMA buffers are placed in it at their address. */
    @Reference
    PhysMemory ram;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile DmaApi dma;

    private String cmaName = "reserved";
    private long cmaPages;
    private BitSet cmaUsed = new BitSet();
    private long totalramPages;
    private long systemUsedPages;

    @Activate
    void activate(HeapConfig c) {
        cmaName = c.cma__name();
        cmaPages = ((long) Math.max(0, c.cma__mb()) << 20) >> PAGE_SHIFT;
        totalramPages = ((long) Math.max(0, c.totalram__mb()) << 20) >> PAGE_SHIFT;
        cmaUsed = new BitSet((int) cmaPages);
    }

    @Override
    public List<String> heaps() {
        return cmaPages > 0 ? List.of("system", cmaName) : List.of("system");
    }

    @Override
    public int ioctl(FdTable files, String heap, long cmd, Object arg) {
        if (!heaps().contains(heap)) {
            return Errno.ENOENT.negative();
        }
        // dma_heap_ioctl indexes its command table by _IOC_NR alone: nr 0 is ALLOC, anything past it -EINVAL
        if ((cmd & 0xff) >= 1) {
            return Errno.EINVAL.negative();
        }
        if (!(arg instanceof AllocationData d)) {
            return Errno.EFAULT.negative();
        }
        return alloc(files, heap, d);
    }

    @Override
    public int alloc(FdTable files, String heap, AllocationData d) {
        if (!heaps().contains(heap)) {
            return Errno.ENOENT.negative(); // open("/dev/dma_heap/" + heap)
        }
        if (d.fd() != 0) {
            return Errno.EINVAL.negative();
        }
        if ((d.fdFlags() & ~(O_CLOEXEC | O_ACCMODE)) != 0 || d.heapFlags() != 0) {
            return Errno.EINVAL.negative();
        }
        long len = (d.len() + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); // PAGE_ALIGN on a u64: may wrap to 0
        if (len == 0) {
            return Errno.EINVAL.negative();
        }
        if (Long.compareUnsigned(len >>> PAGE_SHIFT, totalramPages) > 0) {
            return Errno.ENOMEM.negative(); // len / PAGE_SIZE > totalram_pages()
        }
        HeapBuffer ops = heap.equals("system") ? system(len) : cma(len);
        if (ops == null) {
            return Errno.ENOMEM.negative();
        }
        DmaBuf buf = dmabuf.export(new ExportInfo(heap, ops, len, ops, null));
        return files.fd(buf, d.fdFlags());
    }

    /** system_heap_allocate: largest orders first; -ENOMEM past totalram. */
    private synchronized HeapBuffer system(long len) {
        long pages = len >> PAGE_SHIFT;
        if (systemUsedPages + pages > totalramPages) {
            return null;
        }
        List<HeapBuffer.Chunk> chunks = new ArrayList<>();
        List<PhysMemory.PhysRegion> regions = new ArrayList<>();
        long left = pages;
        try {
            while (left > 0) {
                for (int order : ORDERS) {
                    long n = 1L << order;
                    if (n <= left) {
                        long bytes = n << PAGE_SHIFT;
                        // the buddy allocator hands out naturally aligned blocks
                        PhysMemory.PhysRegion r = ram.allocate("system heap", bytes, bytes);
                        regions.add(r);
                        chunks.add(new HeapBuffer.Chunk(r.phys(), r.memory()));
                        left -= n;
                        break;
                    }
                }
            }
        } catch (KernelException e) {
            regions.forEach(PhysMemory.PhysRegion::close); // -ENOMEM, nothing kept
            return null;
        }
        systemUsedPages += pages;
        return new HeapBuffer(chunks, () -> {
            regions.forEach(PhysMemory.PhysRegion::close);
            synchronized (this) {
                systemUsedPages -= pages;
            }
        }, () -> dma);
    }

    /** cma_heap_allocate: one contiguous range aligned to min(order(len), CMA_ALIGNMENT). */
    private synchronized HeapBuffer cma(long len) {
        long pages = len >> PAGE_SHIFT;
        if (pages > cmaPages || pages > Integer.MAX_VALUE) {
            return null;
        }
        int order = 63 - Long.numberOfLeadingZeros(Math.max(1, pages - 1)) + 1;
        int align = 1 << Math.min(order, CMA_ALIGNMENT);
        for (int start = 0; start + pages <= cmaPages; start += align) {
            int set = cmaUsed.nextSetBit(start);
            if (set < 0 || set >= start + pages) {
                final int s = start;
                ByteBuffer mem;
                try {
                    mem = ByteBuffer.allocateDirect((int) len);
                } catch (OutOfMemoryError e) {
                    return null;
                }
                long base = CMA_END - (cmaPages << PAGE_SHIFT);
                PhysMemory.PhysRegion r;
                try {
                    r = ram.claim("cma heap " + cmaName, base + ((long) s << PAGE_SHIFT), mem);
                } catch (KernelException e) {
                    LOG.warn("CMA area {}: {}", cmaName, e.getMessage());
                    return null;
                }
                cmaUsed.set(s, (int) (s + pages));
                HeapBuffer.Chunk c = new HeapBuffer.Chunk(r.phys(), mem);
                return new HeapBuffer(List.of(c), () -> {
                    r.close();
                    synchronized (this) {
                        cmaUsed.clear(s, (int) (s + pages));
                    }
                }, () -> dma);
            }
        }
        return null;
    }

    @Override
    public synchronized long[] cmaUsage() {
        return new long[] {(long) cmaUsed.cardinality() << PAGE_SHIFT, cmaPages << PAGE_SHIFT};
    }
}
