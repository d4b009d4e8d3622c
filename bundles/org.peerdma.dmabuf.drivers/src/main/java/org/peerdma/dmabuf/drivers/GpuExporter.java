package org.peerdma.dmabuf.drivers;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.pci.PciDevice;

/**
 * A GPU-like dma-buf exporter (amdgpu_dma_buf.c). Buffers start in VRAM, a part of the GPU's BAR
 * registered as p2pdma memory. attach clears peer2peer when pci_p2pdma_distance_many says the
 * importer cannot reach the GPU; pin (static importers) and map of a non-P2P attachment move the
 * buffer to system memory (GTT) first, copying its bytes, and tell dynamic importers with
 * move_notify. Buffers are revoked (mappings torn down, importers notified, VRAM returned) when the
 * driver goes away.
 */
@ProviderType
public interface GpuExporter {
    /** Where a buffer's pages are. */
    enum Placement {
        VRAM, GTT
    }

    /**
     * probe - take {@code vramBytes} of BAR {@code bar} as VRAM (pci_p2pdma_add_resource). Return: 0, or
     * the errno of add_resource negated (EINVAL bad BAR or size, ENOMEM overlap, ...); EBUSY if already probed.
     */
    int probe(PciDevice gpu, int bar, long vramBytes);

    /** remove - the driver unbinds from {@code gpu}: its buffers are revoked and its VRAM released. */
    void remove(PciDevice gpu);

    /**
     * allocate - a buffer object in VRAM, exported, with an fd in {@code files}. Return: the fd;
     * -ENODEV for a GPU that is not probed, -EINVAL for a size that is not positive, -ENOMEM when VRAM is full.
     */
    int allocate(FdTable files, PciDevice gpu, long size);

    /** @return the buffer's placement; IllegalArgumentException for a buffer of another exporter. */
    Placement placement(DmaBuf buf);

    /** @return one report per attachment of {@code buf}, in attach order. */
    List<AttachmentReport> report(DmaBuf buf);

    /** @return the probed GPUs. */
    List<PciDevice> gpus();
}
