package org.peerdma.dma;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/**
 * A live mapping for one device. The ops that made it unmap it, even after newer ops took over;
 * when the ops that made it are gone, the mapping has been revoked and unmapping only forgets it.
 */
@ProviderType
public interface DmaMapping {
    PciDevice device();

    /** @return "page", "sg" or "resource". */
    String kind();

    /** @return the entries as mapped (one for page and resource mappings). */
    List<SgEntry> entries();

    DmaDirection direction();

    /** @return the ops that made it, e.g. "x86-direct", "iommu". */
    String opsName();

    /** @return false once unmapped or revoked. */
    boolean isLive();
}
