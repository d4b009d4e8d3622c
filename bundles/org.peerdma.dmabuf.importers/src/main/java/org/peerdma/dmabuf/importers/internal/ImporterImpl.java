package org.peerdma.dmabuf.importers.internal;

import java.util.ArrayList;
import java.util.List;
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
 * the attachment's mappings so the next use maps again. Static (NVMe): dma_buf_attach, the mappings are
 * kept (and the buffer pinned by the core) until unmapped or detached.
 *
 * <p>Mappings: the driver keeps what it mapped per attachment and hands a mapping out again for the
 * same direction, or any direction when it is BIDIRECTIONAL (as ib_umem_dmabuf reuses its sgt).
 * Another direction is a second dma_buf_map_attachment: the kernel refuses that with EBUSY only when
 * the core cached the first mapping (exporters that set cache_sgt_mapping, such as udmabuf and the
 * DRM PRIME helpers, in the kernels that have that flag); the system heap and amdgpu cache nothing,
 * and the core just maps again. The model's core caches no
 * mapping (DmaBufOps has no cache_sgt_mapping flag), so no exporter here gives that EBUSY.
 */
final class ImporterImpl implements DmaBufImporter {
    private record Mapped(SgTable sgt, DmaDirection dir) {
    }

    private final DmaBufCore core;
    private final DeviceNode dev;
    private final boolean dynamic;
    /** The mappings held, per attachment, in the order made; changed only under the buffer's resv lock. */
    private final Map<DmaBufAttachment, List<Mapped>> mapped = new ConcurrentHashMap<>();
    private final AtomicInteger moves = new AtomicInteger();
    private final ImporterOps ops = new ImporterOps() {
        @Override
        public boolean allowPeer2peer() {
            return true;
        }

        /** ib_umem_dmabuf_invalidate: resv lock held; drop the mappings, the next fault maps again. */
        @Override
        public void moveNotify(DmaBufAttachment a) {
            moves.incrementAndGet();
            unmapAll(a);
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
            List<Mapped> held = mapped.getOrDefault(a, List.of());
            for (Mapped m : held) {
                if (m.dir() == dir || m.dir() == DmaDirection.BIDIRECTIONAL) {
                    return m.sgt(); // the driver's own mapping serves it
                }
            }
            // none for this direction: a second mapping (no EBUSY: the core caches nothing, see above)
            SgTable sgt = core.mapAttachment(a, dir);
            List<Mapped> next = new ArrayList<>(held);
            next.add(new Mapped(sgt, dir));
            mapped.put(a, List.copyOf(next));
            return sgt;
        } finally {
            a.buf().resv().unlock();
        }
    }

    @Override
    public boolean unmap(DmaBufAttachment a) {
        a.buf().resv().lock();
        try {
            return unmapAll(a);
        } finally {
            a.buf().resv().unlock();
        }
    }

    /** Every mapping of {@code a} unmapped, the latest first (resv lock held). Return: whether there was one. */
    private boolean unmapAll(DmaBufAttachment a) {
        List<Mapped> held = mapped.remove(a);
        if (held == null) {
            return false;
        }
        for (int i = held.size() - 1; i >= 0; i--) {
            core.unmapAttachment(a, held.get(i).sgt(), held.get(i).dir());
        }
        return true;
    }

    @Override
    public boolean mapped(DmaBufAttachment a) {
        return mapped.containsKey(a);
    }

    @Override
    public List<DmaDirection> directions(DmaBufAttachment a) {
        return mapped.getOrDefault(a, List.of()).stream().map(Mapped::dir).toList();
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
            Mapped m = mappingFor(a, offset, 1, null);
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

    /**
     * The mapping to use (mapped BIDIRECTIONAL now when there is none, as the fault path does), after
     * the range checks: for an access ({@code write} non-null), one whose direction allows it (EINVAL
     * naming the directions held when none does); for a route, the first held.
     */
    private Mapped mappingFor(DmaBufAttachment a, long offset, long len, Boolean write) {
        long size = a.buf().size();
        if (offset < 0 || len < 0 || offset > size || len > size - offset) {
            throw KernelException.einval("%s: DMA of %d bytes at offset %d is outside the buffer of %d bytes",
                    dev.pci().name(), len, offset, size);
        }
        List<Mapped> held = mapped.get(a);
        if (held == null) {
            map(a, DmaDirection.BIDIRECTIONAL);
            held = mapped.get(a);
            if (held == null) { // a move_notify between map and here: one more try, as a fault would retry
                map(a, DmaDirection.BIDIRECTIONAL);
                held = mapped.get(a);
            }
        }
        if (held == null) {
            throw new KernelException(Errno.EAGAIN, dev.pci().name() + ": the mapping keeps moving");
        }
        if (write == null) {
            return held.get(0);
        }
        DmaDirection forbidden = write ? DmaDirection.TO_DEVICE : DmaDirection.FROM_DEVICE;
        for (Mapped m : held) {
            if (m.dir() != forbidden) {
                return m;
            }
        }
        throw KernelException.einval("%s: device %s through a %s mapping", dev.pci().name(), write ? "write" : "read",
                forbidden);
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
     * move_notify) with that lock held, so a move waits for an access in flight and the access never
     * uses addresses a move has already unmapped. A modelling choice, not what the kernel's importers
     * do: ib_umem_dmabuf and mlx5 do not hold dma_resv across the hardware's DMA; a move is kept off
     * pages in use by move_notify's synchronous invalidate (the driver stops the device using the old
     * mapping before it returns) and by the fences the exporter waits for. Holding the lock here gives
     * the same guarantee for an access that the model performs in one call.
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
        Mapped m = mappingFor(a, offset, buf.remaining(), write);
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
