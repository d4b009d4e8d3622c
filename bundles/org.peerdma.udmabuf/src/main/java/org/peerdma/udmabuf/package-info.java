/**
 * udmabuf (include/uapi/linux/udmabuf.h, drivers/dma-buf/udmabuf.c): dma-bufs made from the pages of
 * a sealed memfd, and the memfd model they need (memfd_create, ftruncate, F_ADD_SEALS/F_GET_SEALS).
 */
@Export
@Version("1.0.0")
package org.peerdma.udmabuf;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
