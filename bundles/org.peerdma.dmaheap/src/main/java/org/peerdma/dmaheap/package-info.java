/**
 * dma-buf heaps (include/uapi/linux/dma-heap.h, drivers/dma-buf/dma-heap.c): /dev/dma_heap/NAME and
 * DMA_HEAP_IOCTL_ALLOC, with a system heap and a contiguous (CMA) heap. ION's successor.
 */
@Export
@Version("1.0.0")
package org.peerdma.dmaheap;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
