package org.peerdma.pci.imports.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.sysfs.SysfsParser;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** A sysfs tree: the live /sys or a copy. */
@Component(property = TopologyImporter.FORMAT + "=sysfs")
public class SysfsImporter implements TopologyImporter {
    @Override
    public int probe(TopologySource source) {
        return SysfsParser.probe(source);
    }

    @Override
    public MachineDTO read(TopologySource source) {
        return SysfsParser.parse(source);
    }
}
