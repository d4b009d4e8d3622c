/**
 * dma-buf importer driver models: an RDMA-NIC-like dynamic importer (allow_peer2peer and
 * move_notify, as drivers/infiniband/core/umem_dmabuf.c) and an NVMe-like static importer.
 */
@Export
@Version("1.1.0")
package org.peerdma.dmabuf.importers;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
