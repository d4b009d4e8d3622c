package org.peerdma.dmabuf.drivers.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.drivers.AttachmentReport;
import org.peerdma.dmabuf.drivers.GpuExporter.Placement;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pDmaMapping;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.pci.PciDevice;

/**
 * One buffer object and its dma_buf_ops (amdgpu_dma_buf.c). Every op runs with the buffer's
 * reservation lock held (the core's rule), which also guards this object's state; attach and detach,
 * which the core calls unlocked, take it themselves.
 */
final class GpuBo implements DmaBufOps {
    static final long PAGE = 4096;

    /** Per-attachment state (attach->priv): the exporter's decision and the live mapping. */
    static final class AttachState {
        final boolean allow;
        String reason;
        SgTable sgt;
        Object mapping; // P2pDmaMapping or DmaMapping
        String path = "UNMAPPED";

        AttachState(boolean allow, String reason) {
            this.allow = allow;
            this.reason = reason;
        }
    }

    private final GpuExporterImpl drv;
    final PciDevice gpu;
    final long size;
    Placement placement = Placement.VRAM;
    long vram; // kernel virt of the VRAM pages while in VRAM
    List<ByteBuffer> gtt = List.of();
    /** The GTT chunks' RAM, physically scattered as TTM's pages are. */
    List<PhysMemory.PhysRegion> gttRam = List.of();
    int pins;
    boolean revoked;
    DmaBuf buf;
    final Map<DmaBufAttachment, AttachState> attachments = new LinkedHashMap<>();

    GpuBo(GpuExporterImpl drv, PciDevice gpu, long size, long vram) {
        this.drv = drv;
        this.gpu = gpu;
        this.size = size;
        this.vram = vram;
    }

    /** amdgpu_dma_buf_attach: peer2peer only when the importer asked and p2pdma can reach the GPU. */
    @Override
    public int attach(DmaBuf b, DmaBufAttachment a) {
        if (revoked) {
            return Errno.ENODEV.negative();
        }
        boolean allow = a.peer2peer();
        String reason;
        if (!allow) {
            reason = a.dynamic() ? "importer does not allow peer2peer" : "static importer: no peer2peer without importer ops";
        } else {
            PciDevice client = a.device().findParentPciDev();
            List<String> log = new ArrayList<>();
            int dist = client == null ? -1 : drv.p2pdma.distanceMany(gpu, List.of(a.device()), true, log);
            if (dist < 0) {
                a.setPeer2peer(false);
                reason = "pci_p2pdma_distance_many < 0: " + verdict(client);
            } else {
                reason = "p2pdma: " + verdict(client);
            }
        }
        // the core calls attach and detach without the reservation lock (as dma_buf_attach does): this map
        // is read under that lock by every other op, so it is changed under it too
        b.resv().lock();
        try {
            attachments.put(a, new AttachState(allow, reason));
        } finally {
            b.resv().unlock();
        }
        return 0;
    }

    private String verdict(PciDevice client) {
        if (client == null) {
            return "not a PCI device";
        }
        P2pVerdict v = drv.p2pdma.check(gpu, client, drv.p2pdma.version());
        return v.mapType() + " (" + v.rule() + ")";
    }

    @Override
    public void detach(DmaBuf b, DmaBufAttachment a) {
        b.resv().lock();
        try {
            attachments.remove(a);
        } finally {
            b.resv().unlock();
        }
    }

    @Override
    public boolean hasPin() {
        return true;
    }

    /**
     * amdgpu_dma_buf_pin: VRAM stays an allowed domain only if every attachment can do P2P; otherwise
     * the buffer moves to GTT, then is pinned.
     */
    @Override
    public int pin(DmaBufAttachment a) {
        if (revoked) {
            return Errno.ENODEV.negative();
        }
        DmaBufAttachment blocker = attachments.keySet().stream().filter(x -> !x.peer2peer()).findFirst().orElse(null);
        if (blocker != null && placement == Placement.VRAM) {
            if (pins > 0) {
                return Errno.EINVAL.negative(); // amdgpu_bo_pin: pinned in a domain the caller cannot use
            }
            try {
                migrateToGtt(a, "pinned for " + a.device().name() + " while " + blocker.device().name()
                        + " (attached) cannot reach VRAM");
            } catch (KernelException e) {
                return e.errno().negative();
            }
        }
        pins++;
        return 0;
    }

    @Override
    public void unpin(DmaBufAttachment a) {
        if (pins > 0) {
            pins--;
        }
    }

    /** amdgpu_dma_buf_map: validate into an allowed domain, then VRAM by P2P or GTT by the DMA API. */
    @Override
    public SgTable mapDmaBuf(DmaBufAttachment a, DmaDirection dir) {
        if (revoked) {
            throw KernelException.enodev("%s: buffer revoked, the GPU driver is gone", gpu.name());
        }
        AttachState st = attachments.get(a);
        PciDevice client = a.device().findParentPciDev();
        if (client == null) {
            throw KernelException.enodev("%s is not behind a PCI device", a.device().name());
        }
        if (placement == Placement.VRAM && !a.peer2peer()) {
            if (pins > 0) {
                throw new KernelException(Errno.EINVAL, gpu.name() + ": buffer pinned in VRAM, "
                        + a.device().name() + " cannot reach it");
            }
            migrateToGtt(a, "mapped for " + a.device().name() + ", which cannot reach VRAM");
        }
        SgTable sgt;
        if (placement == Placement.VRAM) {
            P2pDmaMapping m = drv.p2pmem.mapForDma(client, gpu, vram, size, dir);
            long phys = drv.p2pmem.page(gpu, vram).phys();
            sgt = new SgTable(List.of(new SgEntry(phys, size, m.dmaAddress(), size)));
            st.mapping = m;
            st.path = m.type() == MapType.BUS_ADDR ? "P2P_BUS_ADDR" : "P2P_THRU_HOST_BRIDGE";
        } else {
            DmaApi api = drv.dma;
            if (api == null) {
                throw KernelException.enodev("no DMA API to map %s's buffer for %s", gpu.name(), client.name());
            }
            List<SgEntry> sg = new ArrayList<>();
            for (PhysMemory.PhysRegion r : gttRam) {
                sg.add(SgEntry.of(r.phys(), r.size()));
            }
            DmaMapping m = api.mapSg(client, sg, dir);
            sgt = new SgTable(m.entries());
            st.mapping = m;
            st.path = "SYSTEM_MEMORY";
        }
        st.sgt = sgt;
        return sgt;
    }

    @Override
    public void unmapDmaBuf(DmaBufAttachment a, SgTable sgt, DmaDirection dir) {
        AttachState st = attachments.get(a);
        if (st == null || st.sgt != sgt) {
            return; // already torn down by a revoke
        }
        unmap(st);
    }

    private void unmap(AttachState st) {
        if (st.mapping instanceof P2pDmaMapping p) {
            drv.p2pmem.unmapForDma(p);
        } else if (st.mapping instanceof DmaMapping m && m.isLive() && drv.dma != null) {
            drv.dma.unmap(m);
        }
        st.mapping = null;
        st.sgt = null;
        st.path = "UNMAPPED";
    }

    /** ttm_bo_move: copy VRAM to system pages, free the VRAM, tell the dynamic importers. */
    private void migrateToGtt(DmaBufAttachment cause, String why) {
        List<ByteBuffer> chunks = new ArrayList<>();
        List<PhysMemory.PhysRegion> regions = new ArrayList<>();
        try {
            for (long off = 0; off < size; off += GpuExporterImpl.CHUNK) {
                PhysMemory.PhysRegion r = drv.ram.allocate(gpu.name() + " GTT", Math.min(GpuExporterImpl.CHUNK,
                        size - off), PhysMemory.PAGE_SIZE);
                regions.add(r);
                chunks.add(r.memory());
            }
        } catch (KernelException e) { // nothing moved yet: the buffer stays in VRAM
            regions.forEach(PhysMemory.PhysRegion::close);
            throw new KernelException(Errno.ENOMEM, gpu.name() + ": no system memory to move " + size + " bytes to: "
                    + e.getMessage());
        }
        BufMap from = BufMap.of(vramPages());
        BufMap to = BufMap.of(chunks);
        byte[] tmp = new byte[(int) Math.min(size, 1 << 20)];
        for (long off = 0; off < size; off += tmp.length) {
            byte[] part = off + tmp.length <= size ? tmp : new byte[(int) (size - off)];
            from.read(off, part);
            to.write(off, part);
        }
        gtt = chunks;
        gttRam = regions;
        freeVram();
        placement = Placement.GTT;
        for (Map.Entry<DmaBufAttachment, AttachState> e : attachments.entrySet()) {
            if (e.getKey() == cause || !e.getValue().path.equals("UNMAPPED")) {
                e.getValue().reason += "; moved to system memory: " + why;
            }
        }
        drv.log("{}: buffer of {} bytes moved VRAM -> GTT: {}", gpu.name(), size, why);
        drv.core.moveNotify(buf);
        for (AttachState st : attachments.values()) {
            if (st.mapping instanceof P2pDmaMapping) {
                unmap(st); // a static importer cannot be told; its P2P mapping is not left dangling
            }
        }
    }

    private List<ByteBuffer> vramPages() {
        List<ByteBuffer> pages = new ArrayList<>();
        for (long off = 0; off < size; off += PAGE) {
            pages.add(drv.p2pmem.page(gpu, vram + off).data());
        }
        return pages;
    }

    private void freeVram() {
        if (vram != 0) {
            long v = vram;
            vram = 0;
            if (drv.p2pmem.providers().contains(gpu)) {
                drv.p2pmem.free(gpu, v, size);
            } else {
                drv.log("{}: VRAM {} already went with the p2pdma provider (p2pdma was unloaded first)", gpu.name(),
                        String.format("%#x", v));
            }
        }
    }

    /** The driver is going away: importers are told, mappings torn down, VRAM returned. */
    void revoke() {
        if (revoked) {
            return;
        }
        revoked = true;
        drv.core.moveNotify(buf);
        for (AttachState st : attachments.values()) {
            unmap(st);
            st.reason += "; revoked: the GPU driver was removed";
        }
        freeVram();
        freeGtt();
    }

    private void freeGtt() {
        gtt = List.of();
        gttRam.forEach(PhysMemory.PhysRegion::close);
        gttRam = List.of();
    }

    @Override
    public void release(DmaBuf b) {
        freeVram();
        freeGtt();
        drv.released(this);
    }

    /* No mmap: a user mapping would have to follow the buffer when it moves (page faults), which is
     * not modelled; CPU access goes through vmap, which pins the buffer where it is. */

    @Override
    public boolean hasVmap() {
        return true;
    }

    /** amdgpu_dma_buf_vmap pins the buffer where it is for as long as it is mapped. */
    @Override
    public BufMap vmap(DmaBuf b) {
        if (revoked) {
            return null;
        }
        pins++;
        return memory();
    }

    @Override
    public void vunmap(DmaBuf b, BufMap map) {
        unpin(null);
    }

    private BufMap memory() {
        if (revoked) {
            throw KernelException.enodev("%s: buffer revoked, the GPU driver is gone", gpu.name());
        }
        return BufMap.of(placement == Placement.VRAM ? vramPages() : gtt);
    }

    AttachmentReport report(DmaBufAttachment a) {
        AttachState st = attachments.get(a);
        List<Long> addrs = st.sgt == null ? List.of()
                : st.sgt.entries().stream().map(SgEntry::dmaAddress).toList();
        return new AttachmentReport(a.device().name(), a.dynamic(), st.allow, a.peer2peer(), st.path, addrs, st.reason);
    }
}
