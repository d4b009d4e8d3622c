/**
 * The PCI ID database (pci.ids, dual-licensed GPL-2.0-or-later / BSD-3-Clause, shipped as a
 * resource of this bundle): vendor, device, subsystem and class names, and reverse lookups from
 * names to IDs for dumps printed without {@code lspci -nn}. Implementation package; not exported.
 */
package org.peerdma.pci.imports.pciids;
