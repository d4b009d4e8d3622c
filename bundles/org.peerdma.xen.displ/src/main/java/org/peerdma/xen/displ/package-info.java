/**
 * A para-virtual display pair (the shape of xen-drm-front and displ_be): the frontend in a guest
 * publishes its framebuffer (one page-directory ref, size, format, an event channel) in xenstore;
 * the backend in dom0 imports the same pages with gntdev and reads frames from them.
 */
@Export
@Version("1.0.0")
package org.peerdma.xen.displ;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
