package org.peerdma.dmabuf.drivers.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.drivers.AttachmentReport;
import org.peerdma.dmabuf.drivers.GpuExporter;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The GPU-like exporter driver: probe takes VRAM from a BAR, buffers are exported from it. */
@Component(service = GpuExporter.class)
public class GpuExporterImpl implements GpuExporter {
    private static final Logger LOG = LoggerFactory.getLogger("gpu-exporter");
    /** GTT pages are allocated in 64 KiB chunks. */
    static final long CHUNK = 64 << 10;
    @Reference
    DmaBufCore core;

    /** The RAM map: GTT chunks are system memory taken from it. */
    @Reference
    PhysMemory ram;

    @Reference
    P2pdma p2pdma;

    @Reference
    P2pMem p2pmem;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile DmaApi dma;

    private final Map<PciDevice, List<GpuBo>> gpus = new ConcurrentHashMap<>();

    void log(String fmt, Object... args) {
        LOG.info(fmt, args);
    }

    @Override
    public synchronized int probe(PciDevice gpu, int bar, long vramBytes) {
        if (gpus.containsKey(gpu)) {
            return Errno.EBUSY.negative();
        }
        try {
            p2pmem.addResource(gpu, bar, vramBytes, 0);
        } catch (KernelException e) {
            LOG.warn("{}: probe failed: {}", gpu.name(), e.getMessage());
            return e.errno().negative();
        }
        gpus.put(gpu, new ArrayList<>());
        return 0;
    }

    @Override
    public void remove(PciDevice gpu) {
        List<GpuBo> bos;
        synchronized (this) {
            bos = gpus.remove(gpu);
        }
        if (bos == null) {
            return;
        }
        List<GpuBo> copy;
        synchronized (bos) {
            copy = List.copyOf(bos);
        }
        for (GpuBo bo : copy) {
            bo.buf.resv().lock();
            try {
                bo.revoke();
            } finally {
                bo.buf.resv().unlock();
            }
        }
        if (p2pmem.providers().contains(gpu)) {
            p2pmem.release(gpu);
        }
        LOG.info("{}: removed, {} buffer(s) revoked", gpu.name(), copy.size());
    }

    /** Driver unload: every GPU is removed, so nothing handed out outlives the module. */
    @Deactivate
    void deactivate() {
        for (PciDevice gpu : List.copyOf(gpus.keySet())) {
            try {
                remove(gpu);
            } catch (RuntimeException ex) {
                LOG.warn("{}: unbinding at driver unload: {}", gpu.name(), ex.getMessage());
            }
        }
    }

    @Override
    public int allocate(FdTable files, PciDevice gpu, long size) {
        List<GpuBo> bos = gpus.get(gpu);
        if (bos == null) {
            return Errno.ENODEV.negative();
        }
        if (size <= 0) {
            return Errno.EINVAL.negative();
        }
        long len = (size + GpuBo.PAGE - 1) & ~(GpuBo.PAGE - 1);
        long vram = p2pmem.alloc(gpu, len);
        if (vram == 0) {
            return Errno.ENOMEM.negative();
        }
        GpuBo bo = new GpuBo(this, gpu, len, vram);
        bo.buf = core.export(new ExportInfo("amdgpu-like", bo, len, bo, null));
        synchronized (bos) {
            bos.add(bo);
        }
        return files.fd(bo.buf, 0);
    }

    void released(GpuBo bo) {
        List<GpuBo> bos = gpus.get(bo.gpu);
        if (bos != null) {
            synchronized (bos) {
                bos.remove(bo);
            }
        }
    }

    private static GpuBo bo(DmaBuf buf) {
        if (!(buf.priv() instanceof GpuBo bo)) {
            throw new IllegalArgumentException(buf.name() + " was not exported by the GPU exporter");
        }
        return bo;
    }

    @Override
    public Placement placement(DmaBuf buf) {
        return bo(buf).placement;
    }

    @Override
    public List<AttachmentReport> report(DmaBuf buf) {
        GpuBo bo = bo(buf);
        buf.resv().lock();
        try {
            return bo.attachments.keySet().stream().map(bo::report).toList();
        } finally {
            buf.resv().unlock();
        }
    }

    @Override
    public List<PciDevice> gpus() {
        return List.copyOf(gpus.keySet());
    }
}
