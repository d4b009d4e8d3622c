package org.peerdma.dmabuf.core;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.p2pdma.DeviceNode;

/** struct dma_buf_attachment. */
@ProviderType
public interface DmaBufAttachment {
    DmaBuf buf();

    DeviceNode device();

    /** @return whether the importer gets peer-to-peer addresses: importer_ops->allow_peer2peer, then the exporter's say. */
    boolean peer2peer();

    /** The exporter's decision in its attach callback (amdgpu clears it when pci_p2pdma_distance &lt; 0). */
    void setPeer2peer(boolean p2p);

    /** @return whether the importer is dynamic (has importer ops with move_notify). */
    boolean dynamic();

    ImporterOps importerOps();

    /** @return the importer's private data. */
    Object importerPriv();

    /** @return the exporter's per-attachment data. */
    Object priv();

    void setPriv(Object priv);
}
