/**
 * SPI for topology importers: plug-ins that read one dump format into a
 * {@link org.peerdma.pci.dto.MachineDTO}. Registered as whiteboard services and chosen by
 * format name or by probing, best service ranking first.
 */
@Export
@Version("1.1.0")
package org.peerdma.pci.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
