package org.peerdma.dmaheap.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.PciDevice;

/**
 * A heap buffer's dma_buf_ops: chunks of real memory with physical addresses, mapped for devices
 * through the DMA API, mmap/vmap over the chunks themselves.
 */
final class HeapBuffer implements DmaBufOps {
    /** A physically contiguous chunk. */
    record Chunk(long phys, ByteBuffer mem) {
    }

    private final List<Chunk> chunks;
    private final Runnable onRelease;
    private final java.util.function.Supplier<DmaApi> dma;
    private final Map<SgTable, DmaMapping> maps = new ConcurrentHashMap<>();

    HeapBuffer(List<Chunk> chunks, Runnable onRelease, java.util.function.Supplier<DmaApi> dma) {
        this.chunks = List.copyOf(chunks);
        this.onRelease = onRelease;
        this.dma = dma;
    }

    List<Chunk> chunks() {
        return chunks;
    }

    @Override
    public SgTable mapDmaBuf(DmaBufAttachment attach, DmaDirection dir) {
        PciDevice pci = attach.device().findParentPciDev();
        DmaApi api = dma.get();
        if (pci == null || api == null) {
            throw KernelException.enodev("dma-heap: %s has no DMA ops to map the buffer with", attach.device().name());
        }
        List<SgEntry> sg = new ArrayList<>();
        for (Chunk c : chunks) {
            sg.add(SgEntry.of(c.phys(), c.mem().capacity()));
        }
        DmaMapping m = api.mapSg(pci, sg, dir);
        SgTable t = new SgTable(m.entries());
        maps.put(t, m);
        return t;
    }

    @Override
    public void unmapDmaBuf(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
        DmaMapping m = maps.remove(sgt);
        DmaApi api = dma.get();
        if (m != null && api != null && m.isLive()) {
            api.unmap(m);
        }
    }

    @Override
    public void release(DmaBuf buf) {
        onRelease.run();
    }

    @Override
    public boolean hasMmap() {
        return true;
    }

    @Override
    public BufMap mmap(DmaBuf buf, long pgoff, long length, boolean shared) {
        return BufMap.of(memory()).slice(pgoff << 12, length);
    }

    @Override
    public boolean hasVmap() {
        return true;
    }

    @Override
    public BufMap vmap(DmaBuf buf) {
        return BufMap.of(memory());
    }

    private List<ByteBuffer> memory() {
        return chunks.stream().map(Chunk::mem).toList();
    }
}
