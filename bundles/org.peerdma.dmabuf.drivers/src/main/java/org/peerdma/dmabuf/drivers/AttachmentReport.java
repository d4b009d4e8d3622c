package org.peerdma.dmabuf.drivers;

import java.util.List;

/**
 * What one importer of a GPU buffer got, and why.
 *
 * @param device the importing device
 * @param dynamic whether the importer is dynamic (has move_notify)
 * @param allowPeer2peer what the importer asked for (importer_ops->allow_peer2peer; false for static importers)
 * @param peer2peer what the exporter granted (attach->peer2peer after its attach callback)
 * @param path how the current mapping reaches the memory: {@code P2P_BUS_ADDR} (bus addresses through
 *        the switch), {@code P2P_THRU_HOST_BRIDGE} (the BAR mapped through the host bridge),
 *        {@code SYSTEM_MEMORY} (the buffer was moved to system memory), or {@code UNMAPPED}
 * @param dmaAddresses the addresses the importer puts on the bus, empty while unmapped
 * @param reason why: the importer's request, p2pdma's verdict (with its rule) or the migration
 */
public record AttachmentReport(String device, boolean dynamic, boolean allowPeer2peer, boolean peer2peer, String path,
        List<Long> dmaAddresses, String reason) {
}
