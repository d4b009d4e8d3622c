/**
 * The 2017 p2pmem RFC (Logan Gunthorpe, Microsemi: drivers/memory/p2pmem.c, include/linux/p2pmem.h):
 * peer-to-peer memory as its own device class (/sys/class/p2pmem/p2pmemN) that drivers create,
 * fill with BARs and that clients find with p2pmem_find_compat(), which accepts only clients
 * behind the same PCIe switch. Kept beside p2pdma so the two designs can be compared.
 */
@Export
@Version("1.0.0")
package org.peerdma.p2pmem;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
