package org.peerdma.pci.imports.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.own.PeerdmaFormat;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** The project's own YAML/JSON topology file. */
@Component(property = TopologyImporter.FORMAT + "=peerdma")
public class PeerdmaImporter implements TopologyImporter {
    @Override
    public int probe(TopologySource source) {
        return PeerdmaFormat.probe(source);
    }

    @Override
    public MachineDTO read(TopologySource source) {
        return PeerdmaFormat.parse(source);
    }
}
