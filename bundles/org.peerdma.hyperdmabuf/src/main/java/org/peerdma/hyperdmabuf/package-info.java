/**
 * hyper_dmabuf (Intel's never-merged cross-VM dma-buf driver, downor/linux_hyper_dmabuf): the
 * /dev/hyper_dmabuf operations of one domain, its ids, queries and import events.
 */
@Export
@Version("1.0.0")
package org.peerdma.hyperdmabuf;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
