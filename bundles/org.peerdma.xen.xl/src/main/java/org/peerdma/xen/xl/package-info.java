/** The toolstack (xl) in dom0: guest domains as their own OSGi frameworks above the hypervisor. */
@Export
@Version("1.0.0")
package org.peerdma.xen.xl;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
