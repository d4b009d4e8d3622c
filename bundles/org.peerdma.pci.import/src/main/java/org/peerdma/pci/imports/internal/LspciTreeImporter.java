package org.peerdma.pci.imports.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.lspci.LspciTreeParser;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** lspci -t, -tv, -tvnn. */
@Component(property = TopologyImporter.FORMAT + "=lspci-tv")
public class LspciTreeImporter implements TopologyImporter {
    @Override
    public int probe(TopologySource source) {
        return LspciTreeParser.probe(source);
    }

    @Override
    public MachineDTO read(TopologySource source) {
        return LspciTreeParser.parse(source);
    }
}
