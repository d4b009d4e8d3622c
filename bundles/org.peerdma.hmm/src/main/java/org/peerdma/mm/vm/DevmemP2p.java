package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * hmm_devmem_ops.p2p_map of the RFC: a device-private memory's owner (the pagemap owner object)
 * may implement it to let another device reach its pages in place. When it refuses (or the owner
 * does not implement it), hmm_range_fault falls back to migrating the page to main memory and
 * retrying, as hmm_range_dma_map did.
 */
@ConsumerType
public interface DevmemP2p {
    /** p2pMap - the DMA address of device-private page {@code pfn} for {@code importer}, or -1 to refuse. */
    long p2pMap(long pfn, Object importer);

    /** p2pUnmap - the importer's mapping of the page goes. */
    void p2pUnmap(long pfn, Object importer);
}
