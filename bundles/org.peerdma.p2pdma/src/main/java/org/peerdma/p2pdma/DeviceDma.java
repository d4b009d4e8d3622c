package org.peerdma.p2pdma;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/**
 * A device's own DMA engine: memory reads and writes it issues with a DMA address, routed as the
 * fabric routes them. A request first meets the switches above the initiator: when the address
 * falls in a peer's BAR and the path between them is one p2pdma maps by bus address (a common
 * switch, no ACS redirect) the switch delivers it to the peer. Otherwise it goes up to the root
 * complex, where the device's DMA translation applies (the IOMMU's page table, or the direct
 * translation's inverse), and the physical address reaches RAM or a BAR through the host bridge.
 * What is read or written there is the real memory behind it: the exporter's bytes, not a copy.
 */
@ProviderType
public interface DeviceDma {
    /** Where one DMA address went. */
    enum Path {
        /** Routed by a switch to a peer's BAR, never seen by the root complex. */
        PEER,
        /** Through the root complex to a BAR (peer-to-peer through the host bridge). */
        HOST_BRIDGE_MMIO,
        /** Through the root complex to system RAM. */
        RAM
    }

    /**
     * @param path how it was routed
     * @param target the device whose BAR was reached, or null for RAM
     * @param phys the CPU physical address reached
     * @param what a one-line description: the owner of the RAM or the BAR, and the translation used
     */
    record Route(Path path, PciDevice target, long phys, String what) {
    }

    /**
     * route - where a request from {@code initiator} to {@code dma} lands. Errors: ENODEV removed
     * device; EFAULT when nothing answers (an IOMMU fault, no RAM, a BAR with no memory modelled
     * behind it, a device-private page).
     */
    Route route(PciDevice initiator, long dma);

    /**
     * read - a memory read of {@code dst.remaining()} bytes at {@code dma}, page by page as the
     * translation requires. Errors as route; nothing is transferred when any page faults.
     */
    void read(PciDevice initiator, long dma, ByteBuffer dst);

    /** write - a memory write. Errors as read. */
    void write(PciDevice initiator, long dma, ByteBuffer src);
}
