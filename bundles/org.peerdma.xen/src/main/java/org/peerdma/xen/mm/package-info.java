/** A domain kernel's page allocator over its own pseudo-physical pages (gfns). */
@Export
@Version("1.0.0")
package org.peerdma.xen.mm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
