package org.peerdma.dmabuf.core;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.resv.DmaResv;

/** struct dma_buf. */
@ProviderType
public interface DmaBuf {
    long size();

    /** @return the exporter's name (exp_name). */
    String exporter();

    /** @return the name set with DMA_BUF_SET_NAME, or empty. */
    String name();

    DmaResv resv();

    /** @return the exporter's private data (priv). */
    Object priv();

    /** @return the file reference count. */
    int refcount();

    List<DmaBufAttachment> attachments();

    /** @return the vmap counter. */
    int vmapCount();

    /** @return a unique inode number, as /sys/kernel/debug/dma_buf/bufinfo shows. */
    long ino();
}
