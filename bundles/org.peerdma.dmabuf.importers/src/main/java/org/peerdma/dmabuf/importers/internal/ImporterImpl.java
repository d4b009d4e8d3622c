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

import java.nio.ByteBuffer;
import java.util.function.Supplier;

import org.peerdma.dma.SgEntry;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.DeviceDma;

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

    private final Supplier<DeviceDma> engine;

    ImporterImpl(DmaBufCore core, PciDevice dev, boolean dynamic, Supplier<DeviceDma> engine) {
        if (dev == null) {
            throw KernelException.einval("an importer driver binds to a PCI device: none given");
        }
        this.core = core;
        this.dev = DeviceNode.of(dev);
        this.dynamic = dynamic;
        this.engine = engine;
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
                // dma_buf_map_attachment with a cached mapping: two directions for one attachment are not allowed
                if (m.dir() != dir && m.dir() != DmaDirection.BIDIRECTIONAL) {
                    throw new KernelException(Errno.EBUSY, String.format("%s: the attachment is mapped %s: unmap it "
                            + "before mapping it %s", dev.pci().name(), m.dir(), dir));
                }
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
    public void dmaRead(DmaBufAttachment a, long offset, ByteBuffer dst) {
        access(a, offset, dst, false);
    }

    @Override
    public void dmaWrite(DmaBufAttachment a, long offset, ByteBuffer src) {
        access(a, offset, src, true);
    }

    @Override
    public DeviceDma.Route route(DmaBufAttachment a, long offset) {
        DeviceDma e = engine();
        a.buf().resv().lock();
        try {
            Mapped m = mappingFor(a, offset, 1);
            long[] at = locate(m.sgt(), offset);
            return e.route(dev.pci(), at[0]);
        } finally {
            a.buf().resv().unlock();
        }
    }

    private DeviceDma engine() {
        DeviceDma e = engine.get();
        if (e == null) {
            throw KernelException.enodev("%s: no device DMA engine: the p2pdma module is not loaded", dev.pci().name());
        }
        return e;
    }

    /** The mapping to use (mapped now when there is none), after the range checks. */
    private Mapped mappingFor(DmaBufAttachment a, long offset, long len) {
        long size = a.buf().size();
        if (offset < 0 || len < 0 || offset > size || len > size - offset) {
            throw KernelException.einval("%s: DMA of %d bytes at offset %d is outside the buffer of %d bytes",
                    dev.pci().name(), len, offset, size);
        }
        Mapped m = mapped.get(a);
        if (m == null) {
            map(a, DmaDirection.BIDIRECTIONAL);
            m = mapped.get(a);
            if (m == null) { // a move_notify between map and here: one more try, as a fault would retry
                map(a, DmaDirection.BIDIRECTIONAL);
                m = mapped.get(a);
            }
        }
        if (m == null) {
            throw new KernelException(Errno.EAGAIN, dev.pci().name() + ": the mapping keeps moving");
        }
        return m;
    }

    /** @return {dma address of offset, bytes of the same segment from there}. */
    private static long[] locate(SgTable sgt, long offset) {
        long seen = 0;
        for (SgEntry e : sgt.entries()) {
            if (e.dmaAddress() == -1 || e.dmaLength() == 0) {
                continue;
            }
            if (offset < seen + e.dmaLength()) {
                long in = offset - seen;
                return new long[] {e.dmaAddress() + in, e.dmaLength() - in};
            }
            seen += e.dmaLength();
        }
        throw KernelException.einval("offset %d is past the mapping's %d bytes", offset, seen);
    }

    /**
     * The device's access, under the reservation lock: the exporter moves the buffer (and calls
     * move_notify) with that lock held, so a move waits for an access in flight, as it waits for the
     * importer's fences, and the access never uses addresses a move has already unmapped.
     */
    private void access(DmaBufAttachment a, long offset, ByteBuffer buf, boolean write) {
        DeviceDma e = engine();
        a.buf().resv().lock();
        try {
            accessLocked(e, a, offset, buf, write);
        } finally {
            a.buf().resv().unlock();
        }
    }

    private void accessLocked(DeviceDma e, DmaBufAttachment a, long offset, ByteBuffer buf, boolean write) {
        Mapped m = mappingFor(a, offset, buf.remaining());
        DmaDirection d = m.dir();
        if (write ? d == DmaDirection.TO_DEVICE : d == DmaDirection.FROM_DEVICE) {
            throw KernelException.einval("%s: device %s through a %s mapping", dev.pci().name(),
                    write ? "write" : "read", d);
        }
        long off = offset;
        while (buf.hasRemaining()) {
            long[] at = locate(m.sgt(), off);
            int k = (int) Math.min(buf.remaining(), at[1]);
            ByteBuffer part = buf.slice().limit(k);
            if (write) {
                e.write(dev.pci(), at[0], part);
            } else {
                e.read(dev.pci(), at[0], part);
            }
            buf.position(buf.position() + k);
            off += k;
        }
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
