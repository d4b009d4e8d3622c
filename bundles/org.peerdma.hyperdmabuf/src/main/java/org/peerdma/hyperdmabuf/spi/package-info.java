/**
 * The hypervisor backend of hyper_dmabuf (struct hyper_dmabuf_bknd_ops): channels between domains,
 * message delivery, and sharing pages as one top-level reference. Backends are services; the front
 * end uses the best-ranked one and refuses to switch while buffers are shared.
 */
@Export
@Version("1.0.0")
package org.peerdma.hyperdmabuf.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
