/**
 * The IOMMU as the rest of the model sees it (include/linux/iommu.h, /sys/kernel/iommu_groups):
 * the mode the kernel booted in, IOMMU groups derived from ACS isolation the way
 * drivers/iommu/iommu.c pci_device_group() derives them, each group's default domain type, and
 * what a device's IOMMU page table says about an IOVA. The IOMMU's DMA ops are published
 * separately as an {@code org.peerdma.dma.spi.DmaOps} service with {@code peerdma.dma.ops=iommu}.
 */
@Export
@Version("1.0.0")
package org.peerdma.iommu;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
