/**
 * dma-fence (include/linux/dma-fence.h, drivers/dma-buf/dma-fence.c, dma-fence-array.c): one-shot
 * completion events with callbacks and waits. Functions return what the kernel returns (0, negative
 * errno, remaining jiffies), because callers and the kernel's selftests test those values.
 * Time is counted in jiffies of {@link DmaFence#HZ} per second.
 */
@Export
@Version("1.0.0")
package org.peerdma.dmabuf.fence;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
