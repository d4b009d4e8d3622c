/**
 * Data transfer objects of a machine description: what importers produce, what the topology
 * file stores, and what the PCI core loads. Public fields, no behaviour (org.osgi.dto style);
 * a null field means "the dump did not say".
 */
@Export
@Version("1.2.0")
package org.peerdma.pci.dto;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
