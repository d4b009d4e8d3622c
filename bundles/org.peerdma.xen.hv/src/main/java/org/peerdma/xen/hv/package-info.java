/**
 * The hypervisor as the domains see it: {@link org.peerdma.xen.hv.Hypervisor} for the toolstack
 * (create, destroy, crash, pause domains) and {@link org.peerdma.xen.hv.Hypercalls}, one per
 * domain, bound to its id: its own memory, grant table operations (v1), event channels and
 * xenstore. Results are Xen's: negative errno values and GNTST status codes, never exceptions
 * for guest-caused errors, because the classes here are shared by every domain's framework and
 * must not depend on any of them.
 */
@Export
@Version("1.0.0")
package org.peerdma.xen.hv;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
