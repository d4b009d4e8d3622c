package org.peerdma.dmabuf.importers;

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
     * map - the attachment's current mapping: the cached one, or a new one (taken under the
     * reservation lock) when there is none or a move_notify dropped it.
     */
    SgTable map(DmaBufAttachment attach, DmaDirection dir);

    /** unmap - drop the attachment's mapping (under the reservation lock); false when none was held. */
    boolean unmap(DmaBufAttachment attach);

    /** @return whether the attachment holds a mapping now (a move_notify drops it). */
    boolean mapped(DmaBufAttachment attach);

    /** detach - unmap what is still mapped, then dma_buf_detach. */
    void detach(DmaBufAttachment attach);

    /** @return the move_notify calls this importer received. */
    int moveNotifications();

    /** @return whether the importer is dynamic. */
    boolean dynamic();
}
