package org.peerdma.dmabuf.importers.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.peerdma.dma.DmaDirection;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.ImporterOps;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.pci.PciDevice;

/**
 * An importing driver. Dynamic (RDMA NIC, as ib_umem_dmabuf): allow_peer2peer, and move_notify unmaps
 * the attachment's mapping so the next use maps again. Static (NVMe): dma_buf_attach, the mapping is
 * kept (and the buffer pinned by the core) until detach.
 */
final class ImporterImpl implements DmaBufImporter {
    private record Mapped(SgTable sgt, DmaDirection dir) {
    }

    private final DmaBufCore core;
    private final DeviceNode dev;
    private final boolean dynamic;
    private final Map<DmaBufAttachment, Mapped> mapped = new ConcurrentHashMap<>();
    private final AtomicInteger moves = new AtomicInteger();
    private final ImporterOps ops = new ImporterOps() {
        @Override
        public boolean allowPeer2peer() {
            return true;
        }

        /** ib_umem_dmabuf_invalidate: resv lock held; drop the mapping, the next fault maps again. */
        @Override
        public void moveNotify(DmaBufAttachment a) {
            moves.incrementAndGet();
            Mapped m = mapped.remove(a);
            if (m != null) {
                core.unmapAttachment(a, m.sgt(), m.dir());
            }
        }
    };

    ImporterImpl(DmaBufCore core, PciDevice dev, boolean dynamic) {
        this.core = core;
        this.dev = DeviceNode.of(dev);
        this.dynamic = dynamic;
    }

    @Override
    public DmaBufAttachment attach(DmaBuf buf) {
        return core.attach(buf, dev, dynamic ? ops : null, this);
    }

    @Override
    public SgTable map(DmaBufAttachment a, DmaDirection dir) {
        a.buf().resv().lock();
        try {
            Mapped m = mapped.get(a);
            if (m != null) {
                return m.sgt();
            }
            SgTable sgt = core.mapAttachment(a, dir);
            mapped.put(a, new Mapped(sgt, dir));
            return sgt;
        } finally {
            a.buf().resv().unlock();
        }
    }

    @Override
    public boolean unmap(DmaBufAttachment a) {
        a.buf().resv().lock();
        try {
            Mapped m = mapped.remove(a);
            if (m != null) {
                core.unmapAttachment(a, m.sgt(), m.dir());
            }
            return m != null;
        } finally {
            a.buf().resv().unlock();
        }
    }

    @Override
    public boolean mapped(DmaBufAttachment a) {
        return mapped.containsKey(a);
    }

    @Override
    public void detach(DmaBufAttachment a) {
        unmap(a);
        core.detach(a);
    }

    @Override
    public int moveNotifications() {
        return moves.get();
    }

    @Override
    public boolean dynamic() {
        return dynamic;
    }
}
