package org.peerdma.dmabuf.core;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * struct dma_buf_attach_ops of a dynamic importer: whether it can take peer-to-peer addresses, and
 * the move_notify callback (mandatory for dynamic attachments).
 */
@ConsumerType
public interface ImporterOps {
    /** allow_peer2peer: the importer can handle P2P (bus or MMIO) addresses without struct pages. */
    boolean allowPeer2peer();

    /** move_notify: the exporter moved the buffer; the importer's mapping is stale. Called with the resv lock held. */
    void moveNotify(DmaBufAttachment attach);
}
