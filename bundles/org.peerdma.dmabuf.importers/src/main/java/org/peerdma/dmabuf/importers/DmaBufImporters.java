package org.peerdma.dmabuf.importers;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/** Importer drivers bound to devices. */
@ProviderType
public interface DmaBufImporters {
    /** @return an RDMA-NIC-like dynamic importer on {@code dev} (allow_peer2peer, move_notify). */
    DmaBufImporter rdmaNic(PciDevice dev);

    /** @return an NVMe-like static importer on {@code dev}. */
    DmaBufImporter nvme(PciDevice dev);
}
