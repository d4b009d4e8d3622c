/**
 * What arch code and IOMMU drivers implement (include/linux/dma-map-ops.h and the arch hooks
 * p2pdma calls): DMA ops, the arch's P2P host-bridge policy, and IOMMU grouping.
 */
@Export
@Version("2.0.0")
package org.peerdma.dma.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
