/**
 * A domain kernel's grant-table driver (drivers/xen/grant-table.c): grant references to its own
 * pages for other domains, over the hypervisor's table.
 */
@Export
@Version("1.0.0")
package org.peerdma.xen.gnttab;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
