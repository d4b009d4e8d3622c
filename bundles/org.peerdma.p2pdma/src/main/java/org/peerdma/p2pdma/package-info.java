/**
 * p2pdma API (include/linux/pci-p2pdma.h): whether and how a PCI provider's memory can be
 * reached by clients peer-to-peer, with the kernel's map types and distances, and the
 * explanation of each verdict. Several kernel versions' rules are selectable.
 */
@Export
@Version("1.2.0")
package org.peerdma.p2pdma;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
