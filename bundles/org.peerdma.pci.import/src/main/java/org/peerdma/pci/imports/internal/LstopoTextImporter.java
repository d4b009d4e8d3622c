package org.peerdma.pci.imports.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.hwloc.LstopoTextParser;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** hwloc lstopo -v text. */
@Component(property = TopologyImporter.FORMAT + "=lstopo-v")
public class LstopoTextImporter implements TopologyImporter {
    private static final LstopoTextParser PARSER = new LstopoTextParser();

    @Override
    public int probe(TopologySource source) {
        return PARSER.probe(source);
    }

    @Override
    public MachineDTO read(TopologySource source) {
        return PARSER.parse(source);
    }
}
