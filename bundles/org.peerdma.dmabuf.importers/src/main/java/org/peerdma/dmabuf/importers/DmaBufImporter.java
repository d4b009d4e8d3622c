package org.peerdma.dmabuf.importers;

import java.nio.ByteBuffer;
import java.util.List;

import org.peerdma.p2pdma.DeviceDma;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.SgTable;

/**
 * An importing device driver. A dynamic one (RDMA NIC) attaches with allow_peer2peer and move_notify:
 * on a move it drops its mapping and maps again on next use. A static one (NVMe) attaches without
 * importer ops, so the exporter pins the buffer while it is mapped, and never gets P2P addresses.
 */
@ProviderType
public interface DmaBufImporter {
    /** attach - dma_buf_(dynamic_)attach for this device. Errors as the core's attach. */
    DmaBufAttachment attach(DmaBuf buf);

    /**
     * map - a mapping of the attachment for {@code dir}: one the driver holds for that direction or
     * BIDIRECTIONAL, or a new one (taken under the reservation lock) when there is none or a
     * move_notify dropped them. Another direction than those held is a second mapping, as
     * dma_buf_map_attachment gives for exporters whose mapping the core does not cache.
     */
    SgTable map(DmaBufAttachment attach, DmaDirection dir);

    /** unmap - drop the attachment's mappings (under the reservation lock); false when none was held. */
    boolean unmap(DmaBufAttachment attach);

    /** @return whether the attachment holds a mapping now (a move_notify drops them). */
    boolean mapped(DmaBufAttachment attach);

    /** @return the directions of the mappings the attachment holds, in the order made (empty for none). */
    List<DmaDirection> directions(DmaBufAttachment attach);

    /** detach - unmap what is still mapped, then dma_buf_detach. */
    void detach(DmaBufAttachment attach);

    /**
     * dmaRead - the device reads {@code dst.remaining()} bytes of the buffer from {@code offset}
     * with its own DMA engine: the DMA addresses of the attachment's mapping, routed by the
     * fabric (a switch to a peer's BAR, or the root complex and the device's translation to RAM
     * or a BAR). The bytes are the exporter's memory itself. A dynamic importer whose mapping a
     * move_notify dropped maps again first, as its page-fault path does. Errors: EINVAL when the
     * range is outside the buffer or no mapping held has a direction allowing the access; ENODEV when no
     * DMA engine (p2pdma module) is loaded; the map's errors; EFAULT as DeviceDma.
     */
    void dmaRead(DmaBufAttachment attach, long offset, ByteBuffer dst);

    /** dmaWrite - the device writes {@code src.remaining()} bytes at {@code offset}. Errors as dmaRead. */
    void dmaWrite(DmaBufAttachment attach, long offset, ByteBuffer src);

    /** route - where the device's access to {@code offset} of the buffer goes now. Errors as dmaRead. */
    DeviceDma.Route route(DmaBufAttachment attach, long offset);

    /** @return the move_notify calls this importer received. */
    int moveNotifications();

    /** @return whether the importer is dynamic. */
    boolean dynamic();
}
