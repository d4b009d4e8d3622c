/**
 * PCI core API: the live model of a machine's PCI topology (host bridges, buses, devices,
 * BARs, capabilities, ACS), exact enough for the kernel's P2P rules to run on it, and the
 * {@link org.peerdma.pci.PciCore} service that loads, hot-plugs and changes it.
 * Mirrors include/linux/pci.h for what consumers may see.
 */
@Export
@Version("1.4.0")
package org.peerdma.pci;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
