/**
 * The dma-buf core (include/linux/dma-buf.h, drivers/dma-buf/dma-buf.c, include/uapi/linux/dma-buf.h):
 * exporters share buffers, importers attach and map them, user space holds them as file
 * descriptors. Calls return what the kernel returns where callers test the value (0 or a negative
 * errno); object-returning calls throw KernelException with the errno.
 */
@Export
@Version("1.1.0")
package org.peerdma.dmabuf.core;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
