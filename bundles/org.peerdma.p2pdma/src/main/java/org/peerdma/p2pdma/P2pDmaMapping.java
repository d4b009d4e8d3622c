package org.peerdma.p2pdma;

import org.peerdma.dma.DmaMapping;
import org.peerdma.pci.PciDevice;

/**
 * A client's DMA mapping of a provider's P2P memory.
 *
 * @param client the device doing the DMA
 * @param provider the device whose BAR holds the memory
 * @param type how it was mapped
 * @param dmaAddress what the client must put on the bus
 * @param length bytes
 * @param viaDmaApi the DMA API mapping for THRU_HOST_BRIDGE, null for BUS_ADDR (nothing to unmap)
 */
public record P2pDmaMapping(PciDevice client, PciDevice provider, MapType type, long dmaAddress, long length,
        DmaMapping viaDmaApi) {
}
