package org.peerdma.udmabuf.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.PciDevice;
import org.peerdma.udmabuf.Memfd;
import org.peerdma.udmabuf.Udmabuf;

/** drivers/dma-buf/udmabuf.c. */
@Component(service = Udmabuf.class, configurationPid = UdmabufConfig.PID)
@Designate(ocd = UdmabufConfig.class)
public class UdmabufImpl implements Udmabuf {
    static final int PAGE_SHIFT = 12;
    static final long PAGE_SIZE = 1L << PAGE_SHIFT;

    @Reference
    DmaBufCore dmabuf;

    /** The RAM map: pinned memfd pages get their physical addresses there while pinned. */
    @Reference
    PhysMemory ram;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile DmaApi dma;

    private volatile int listLimit = 1024;
    private volatile int sizeLimitMb = 64;

    @Activate
    @Modified
    void configure(UdmabufConfig c) {
        listLimit = c.list__limit();
        sizeLimitMb = c.size__limit__mb();
    }

    /** A pinned page of a memfd. */
    record PinnedPage(Memfd memfd, long index) {
    }

    @Override
    public int create(FdTable files, int memfd, int flags, long offset, long size) {
        return createList(files, flags, List.of(new Item(memfd, offset, size)));
    }

    @Override
    public int createList(FdTable files, int flags, List<Item> items) {
        if (items == null || items.size() > listLimit) {
            return Errno.EINVAL.negative();
        }
        long maxPgcnt = ((long) sizeLimitMb << 20) >> PAGE_SHIFT;
        long pgcnt = 0;
        for (Item it : items) {
            if (it.offset() % PAGE_SIZE != 0 || it.size() % PAGE_SIZE != 0 || it.offset() < 0 || it.size() < 0) {
                return Errno.EINVAL.negative();
            }
            pgcnt += it.size() >> PAGE_SHIFT;
            if (pgcnt > maxPgcnt) {
                return Errno.EINVAL.negative();
            }
        }
        if (pgcnt == 0) {
            return Errno.EINVAL.negative();
        }
        List<PinnedPage> pages = new ArrayList<>();
        for (Item it : items) {
            Object f = files.file(it.memfd());
            if (f == null) {
                return Errno.EBADFD.negative(); // fget failed
            }
            if (!(f instanceof Memfd m)) {
                return Errno.EBADFD.negative(); // neither shmem nor hugetlbfs
            }
            int seals = m.seals();
            if ((seals & Memfd.F_SEAL_SHRINK) == 0
                    || (seals & (Memfd.F_SEAL_WRITE | Memfd.F_SEAL_FUTURE_WRITE)) != 0) {
                return Errno.EINVAL.negative();
            }
            if (it.offset() + it.size() > m.size()) {
                return Errno.EINVAL.negative(); // pages past the end of the file cannot be pinned
            }
            for (long p = it.offset() >> PAGE_SHIFT; p < (it.offset() + it.size()) >> PAGE_SHIFT; p++) {
                pages.add(new PinnedPage(m, p));
            }
        }
        List<PhysMemory.PhysRegion> frames = new ArrayList<>(pages.size());
        DmaBuf buf;
        try {
            for (PinnedPage p : pages) {
                frames.add(ram.adopt("udmabuf " + p.memfd().name(), p.memfd().page(p.index())));
            }
            Ops ops = new Ops(pages, frames);
            buf = dmabuf.export(new ExportInfo("udmabuf", ops, pgcnt << PAGE_SHIFT, ops, null));
        } catch (KernelException e) {
            frames.forEach(PhysMemory.PhysRegion::close); // unpin_all_folios
            return e.errno().negative();
        }
        return files.fd(buf, flags & UDMABUF_FLAGS_CLOEXEC);
    }

    @Override
    public int ioctl(FdTable files, long cmd, Object arg) {
        if (cmd == UDMABUF_CREATE) {
            if (!(arg instanceof Item it)) {
                return Errno.EFAULT.negative();
            }
            return create(files, it.memfd(), 0, it.offset(), it.size());
        }
        if (cmd == UDMABUF_CREATE_LIST) {
            if (!(arg instanceof List<?> l) || !l.stream().allMatch(Item.class::isInstance)) {
                return Errno.EFAULT.negative();
            }
            return createList(files, 0, l.stream().map(Item.class::cast).toList());
        }
        return Errno.ENOTTY.negative();
    }

    /** The udmabuf's dma_buf_ops over its pinned pages. */
    final class Ops implements DmaBufOps {
        final List<PinnedPage> pages;
        final Map<SgTable, DmaMapping> dmaMaps = new ConcurrentHashMap<>();
        volatile boolean cpuBegun;

        /** The pinned pages' frames, one per page, released with the buffer. */
        final List<PhysMemory.PhysRegion> frames;

        Ops(List<PinnedPage> pages, List<PhysMemory.PhysRegion> frames) {
            this.pages = List.copyOf(pages);
            this.frames = List.copyOf(frames);
        }

        private List<ByteBuffer> memory(long fromPage, long count) {
            List<ByteBuffer> l = new ArrayList<>();
            for (long i = fromPage; i < fromPage + count; i++) {
                PinnedPage p = pages.get((int) i);
                l.add(p.memfd().page(p.index()));
            }
            return l;
        }

        /** map_dma_buf: a fresh sg table of the pages, DMA-mapped for the attached device. */
        @Override
        public SgTable mapDmaBuf(DmaBufAttachment attach, DmaDirection dir) {
            List<SgEntry> sg = new ArrayList<>();
            for (PhysMemory.PhysRegion f : frames) {
                sg.add(SgEntry.of(f.phys(), PAGE_SIZE));
            }
            PciDevice pci = attach.device().findParentPciDev();
            DmaApi api = dma;
            if (pci == null || api == null) {
                throw KernelException.enodev("udmabuf: %s has no DMA ops to map the pages with",
                        attach.device().name());
            }
            DmaMapping m = api.mapSg(pci, sg, dir);
            SgTable t = new SgTable(m.entries());
            dmaMaps.put(t, m);
            return t;
        }

        @Override
        public void unmapDmaBuf(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
            DmaMapping m = dmaMaps.remove(sgt);
            DmaApi api = dma;
            if (m != null && api != null && m.isLive()) {
                api.unmap(m);
            }
        }

        @Override
        public void release(DmaBuf buf) {
            // release_udmabuf: unpin the pages; their contents stay with the memfd
            frames.forEach(PhysMemory.PhysRegion::close);
        }

        @Override
        public int beginCpuAccess(DmaBuf buf, DmaDirection dir) {
            cpuBegun = true; // the first call builds the sg table, later ones sync for the CPU
            return 0;
        }

        @Override
        public int endCpuAccess(DmaBuf buf, DmaDirection dir) {
            return cpuBegun ? 0 : Errno.EINVAL.negative();
        }

        @Override
        public boolean hasMmap() {
            return true;
        }

        @Override
        public BufMap mmap(DmaBuf buf, long pgoff, long length, boolean shared) {
            if (!shared) {
                throw KernelException.einval("udmabuf: mmap needs a shared mapping (VM_SHARED)");
            }
            long count = (length + PAGE_SIZE - 1) >> PAGE_SHIFT;
            return BufMap.of(memory(pgoff, count)).slice(0, length);
        }

        @Override
        public boolean hasVmap() {
            return true;
        }

        @Override
        public BufMap vmap(DmaBuf buf) {
            return BufMap.of(memory(0, pages.size()));
        }
    }
}
