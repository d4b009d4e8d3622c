/**
 * gntdev and its dma-buf ioctls (drivers/xen/gntdev.c, gntdev-dmabuf.c, the merged form of
 * xen-zcopy), dumb buffers of a domain's own pages, the xen-zcopy DRM helper calls, and the
 * displif page directory (include/xen/interface/io/displif.h, xen-front-pgdir-shbuf.c).
 */
@Export
@Version("1.0.0")
package org.peerdma.xen.gntdev;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
