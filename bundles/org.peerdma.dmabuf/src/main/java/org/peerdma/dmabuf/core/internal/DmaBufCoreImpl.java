package org.peerdma.dmabuf.core.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Component;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.ImporterOps;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.fence.DmaFence;
import org.peerdma.dmabuf.resv.DmaResv;
import org.peerdma.dmabuf.resv.DmaResvUsage;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.module.ModuleUsage;
import org.peerdma.p2pdma.DeviceNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** drivers/dma-buf/dma-buf.c. */
@Component(service = {DmaBufCore.class, ModuleUsage.class})
public class DmaBufCoreImpl implements DmaBufCore, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("dma-buf");

    private final List<BufImpl> buffers = new CopyOnWriteArrayList<>();
    private final Map<String, FdTableImpl> tables = new ConcurrentHashMap<>();
    private final List<String> warnings = new CopyOnWriteArrayList<>();

    /** @return WARNs the kernel would print (driver bugs the model lets through as the kernel does). */
    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    private void warn(String w) {
        warnings.add(w);
        LOG.warn(w);
    }

    static BufImpl impl(DmaBuf buf) {
        if (!(buf instanceof BufImpl b)) {
            throw KernelException.einval("not a dma-buf of this core: %s", buf);
        }
        return b;
    }

    static AttachImpl impl(DmaBufAttachment a) {
        if (!(a instanceof AttachImpl x)) {
            throw KernelException.einval("not a dma-buf attachment of this core: %s", a);
        }
        return x;
    }

    @Override
    public DmaBuf export(ExportInfo info) {
        if (info == null || info.priv() == null || info.ops() == null) {
            throw KernelException.einval("dma_buf_export: %s missing", info == null ? "info" : info.ops() == null
                    ? "ops" : "priv");
        }
        if (info.ops().hasPin() != info.ops().hasUnpin()) {
            throw KernelException.einval("dma_buf_export: pin and unpin must come together");
        }
        if (info.size() <= 0) {
            throw KernelException.einval("dma_buf_export: size %d", info.size());
        }
        BufImpl b = new BufImpl(info.ops(), info.exporter() == null ? "unknown" : info.exporter(), info.size(),
                info.priv(), info.resv() != null ? info.resv() : new DmaResv());
        buffers.add(b);
        return b;
    }

    @Override
    public void get(DmaBuf buf) {
        BufImpl b = impl(buf);
        if (b.refs.getAndIncrement() <= 0) {
            b.refs.decrementAndGet();
            throw KernelException.einval("get_dma_buf on a released dma-buf");
        }
    }

    @Override
    public void put(DmaBuf buf) {
        BufImpl b = impl(buf);
        int v = b.refs.decrementAndGet();
        if (v < 0) {
            b.refs.incrementAndGet();
            throw KernelException.einval("dma_buf_put on a released dma-buf");
        }
        if (v == 0) {
            release(b);
        }
    }

    /** dma_buf_release: the exporter's release; a vmap still held is a BUG, attachments left a WARN. */
    private void release(BufImpl b) {
        synchronized (b) {
            if (b.vmapCount != 0) {
                throw new IllegalStateException("BUG: dma-buf " + b.ino + " released with vmap count " + b.vmapCount);
            }
        }
        if (!b.attachments.isEmpty()) {
            warn("WARN: dma-buf " + b.ino + " released with " + b.attachments.size() + " attachment(s)");
        }
        buffers.remove(b);
        b.ops.release(b);
    }

    @Override
    public FdTable fdTable(String owner) {
        return tables.computeIfAbsent(owner, o -> new FdTableImpl(this, o));
    }

    @Override
    public DmaBufAttachment attach(DmaBuf buf, DeviceNode dev, ImporterOps importerOps, Object priv) {
        if (buf == null || dev == null) {
            throw KernelException.einval("dma_buf_attach: %s is NULL", buf == null ? "buf" : "dev");
        }
        BufImpl b = impl(buf);
        AttachImpl a = new AttachImpl(b, dev, importerOps, priv);
        int r = b.ops.attach(b, a);
        if (r != 0) {
            throw new KernelException(Errno.of(r).orElse(Errno.EINVAL), b.exporter + " refused the attachment of "
                    + dev.name() + " (" + r + ")");
        }
        b.resv.lock();
        try {
            b.attachments.add(a);
        } finally {
            b.resv.unlock();
        }
        return a;
    }

    @Override
    public void detach(DmaBufAttachment attach) {
        AttachImpl a = impl(attach);
        BufImpl b = a.buf;
        b.resv.lock();
        try {
            for (SgTable sgt : List.copyOf(a.live)) {
                warn("WARN: detach of " + a + " with a mapping still held: unmapped");
                unmapLocked(a, sgt, DmaDirection.BIDIRECTIONAL);
            }
            b.attachments.remove(a);
        } finally {
            b.resv.unlock();
        }
        b.ops.detach(b, a);
    }

    private static boolean pinsForMap(AttachImpl a) {
        return a.buf.ops.hasPin() && !a.dynamic();
    }

    @Override
    public SgTable mapAttachment(DmaBufAttachment attach, DmaDirection dir) {
        AttachImpl a = impl(attach);
        if (!a.buf.resv.isLocked()) {
            throw new IllegalStateException("dma_buf_map_attachment: dma_resv_assert_held failed");
        }
        if (dir == null || dir == DmaDirection.NONE) {
            throw KernelException.einval("dma_buf_map_attachment with direction %s", dir);
        }
        if (pinsForMap(a)) {
            int r = a.buf.ops.pin(a);
            if (r != 0) {
                if (r == Errno.EBUSY.negative()) {
                    warn("WARN: " + a.buf.exporter + " returned -EBUSY from pin");
                }
                throw new KernelException(Errno.of(r).orElse(Errno.EINVAL), "pin of " + a + " failed (" + r + ")");
            }
        }
        SgTable sgt;
        try {
            sgt = a.buf.ops.mapDmaBuf(a, dir);
        } catch (RuntimeException e) { // the exporter's ERR_PTR: undo the pin as the kernel does
            if (pinsForMap(a)) {
                a.buf.ops.unpin(a);
            }
            throw e;
        }
        if (sgt == null) {
            if (pinsForMap(a)) {
                a.buf.ops.unpin(a);
            }
            throw new KernelException(Errno.ENOMEM, a.buf.exporter + " could not map the buffer for " + a.dev.name());
        }
        if (!a.dynamic()) {
            long r = a.buf.resv.waitTimeout(DmaResvUsage.KERNEL, true, DmaFence.MAX_SCHEDULE_TIMEOUT);
            if (r < 0) {
                unmapExporter(a, sgt, dir);
                throw new KernelException(Errno.of((int) r).orElse(Errno.EINTR), "waiting for kernel fences of "
                        + a.buf + " failed (" + r + ")");
            }
        }
        a.live.add(sgt);
        return sgt;
    }

    private void unmapExporter(AttachImpl a, SgTable sgt, DmaDirection dir) {
        a.buf.ops.unmapDmaBuf(a, sgt, dir);
        if (pinsForMap(a)) {
            a.buf.ops.unpin(a);
        }
    }

    @Override
    public SgTable mapAttachmentUnlocked(DmaBufAttachment attach, DmaDirection dir) {
        AttachImpl a = impl(attach);
        a.buf.resv.lock();
        try {
            return mapAttachment(a, dir);
        } finally {
            a.buf.resv.unlock();
        }
    }

    @Override
    public void unmapAttachment(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
        AttachImpl a = impl(attach);
        if (!a.buf.resv.isLocked()) {
            throw new IllegalStateException("dma_buf_unmap_attachment: dma_resv_assert_held failed");
        }
        unmapLocked(a, sgt, dir);
    }

    private void unmapLocked(AttachImpl a, SgTable sgt, DmaDirection dir) {
        if (!a.live.remove(sgt)) {
            throw KernelException.einval("dma_buf_unmap_attachment: %s does not hold this mapping", a);
        }
        unmapExporter(a, sgt, dir);
    }

    @Override
    public void unmapAttachmentUnlocked(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
        AttachImpl a = impl(attach);
        a.buf.resv.lock();
        try {
            unmapLocked(a, sgt, dir);
        } finally {
            a.buf.resv.unlock();
        }
    }

    @Override
    public int pin(DmaBufAttachment attach) {
        AttachImpl a = impl(attach);
        if (!a.dynamic()) {
            warn("WARN: dma_buf_pin on a static attachment " + a);
        }
        if (!a.buf.resv.isLocked()) {
            throw new IllegalStateException("dma_buf_pin: dma_resv_assert_held failed");
        }
        return a.buf.ops.hasPin() ? a.buf.ops.pin(a) : 0;
    }

    @Override
    public void unpin(DmaBufAttachment attach) {
        AttachImpl a = impl(attach);
        if (!a.dynamic()) {
            warn("WARN: dma_buf_unpin on a static attachment " + a);
        }
        if (!a.buf.resv.isLocked()) {
            throw new IllegalStateException("dma_buf_unpin: dma_resv_assert_held failed");
        }
        if (a.buf.ops.hasUnpin()) {
            a.buf.ops.unpin(a);
        }
    }

    @Override
    public void moveNotify(DmaBuf buf) {
        BufImpl b = impl(buf);
        if (!b.resv.isLocked()) {
            throw new IllegalStateException("dma_buf_move_notify: dma_resv_assert_held failed");
        }
        for (AttachImpl a : b.attachments) {
            if (a.dynamic()) {
                a.importerOps.moveNotify(a);
            }
        }
    }

    @Override
    public int beginCpuAccess(DmaBuf buf, DmaDirection dir) {
        if (buf == null) {
            return Errno.EINVAL.negative();
        }
        BufImpl b = impl(buf);
        int r = b.ops.beginCpuAccess(b, dir);
        if (r != 0) {
            return r;
        }
        boolean write = dir == DmaDirection.BIDIRECTIONAL || dir == DmaDirection.TO_DEVICE;
        long w = b.resv.waitTimeout(DmaResvUsage.rw(write), true, DmaFence.MAX_SCHEDULE_TIMEOUT);
        return w < 0 ? (int) w : 0;
    }

    @Override
    public int endCpuAccess(DmaBuf buf, DmaDirection dir) {
        if (buf == null) {
            return Errno.EINVAL.negative();
        }
        BufImpl b = impl(buf);
        return b.ops.endCpuAccess(b, dir);
    }

    @Override
    public BufMap vmap(DmaBuf buf) {
        BufImpl b = impl(buf);
        if (!b.resv.isLocked()) {
            throw new IllegalStateException("dma_buf_vmap: dma_resv_assert_held failed");
        }
        if (!b.ops.hasVmap()) {
            throw KernelException.einval("%s has no vmap", b.exporter);
        }
        synchronized (b) {
            if (b.vmapCount > 0) {
                b.vmapCount++;
                return b.vmapPtr;
            }
            BufMap m = b.ops.vmap(b);
            if (m == null) {
                throw new KernelException(Errno.ENOMEM, b.exporter + " could not vmap dma-buf " + b.ino);
            }
            b.vmapPtr = m;
            b.vmapCount = 1;
            return m;
        }
    }

    @Override
    public void vunmap(DmaBuf buf, BufMap map) {
        BufImpl b = impl(buf);
        if (!b.resv.isLocked()) {
            throw new IllegalStateException("dma_buf_vunmap: dma_resv_assert_held failed");
        }
        synchronized (b) {
            if (b.vmapCount == 0) {
                throw new IllegalStateException("BUG: dma_buf_vunmap with vmap count 0");
            }
            if (map != b.vmapPtr) {
                throw new IllegalStateException("BUG: dma_buf_vunmap of a different map");
            }
            if (--b.vmapCount == 0) {
                b.ops.vunmap(b, b.vmapPtr);
                b.vmapPtr = null;
            }
        }
    }

    @Override
    public List<DmaBuf> buffers() {
        return List.copyOf(buffers);
    }

    @Override
    public List<String> holders() {
        List<String> out = new ArrayList<>();
        for (BufImpl b : buffers) {
            out.add(b.toString());
        }
        return out;
    }
}
