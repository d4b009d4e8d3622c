/**
 * The DMA mapping API drivers use (include/linux/dma-mapping.h): map pages, scatterlists and
 * MMIO resources for a device, unmap them, sync them, set masks. Which arch ops or IOMMU does
 * the work is decided per device, as get_dma_ops() does.
 */
@Export
@Version("1.2.0")
package org.peerdma.dma;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
