/**
 * dma-resv (include/linux/dma-resv.h, drivers/dma-buf/dma-resv.c): the fences a buffer's users must
 * wait for, each with a usage, behind a lock (a ww_mutex in the kernel).
 */
@Export
@Version("1.0.0")
package org.peerdma.dmabuf.resv;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
