package org.peerdma.dmabuf.resv;

/**
 * enum dma_resv_usage: KERNEL &lt; WRITE &lt; READ &lt; BOOKKEEP. A query for a usage returns every
 * fence whose usage is the same or lower.
 */
public enum DmaResvUsage {
    KERNEL, WRITE, READ, BOOKKEEP;

    /** dma_resv_usage_rw(write): a new write waits for readers and writers, a new read for writers. */
    public static DmaResvUsage rw(boolean write) {
        return write ? READ : WRITE;
    }
}
