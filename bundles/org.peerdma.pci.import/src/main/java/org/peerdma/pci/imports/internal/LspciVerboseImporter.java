package org.peerdma.pci.imports.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.lspci.LspciVerboseParser;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** lspci, lspci -nn, -v, -vv, -vvv, -vvvnn. */
@Component(property = TopologyImporter.FORMAT + "=lspci-vvv")
public class LspciVerboseImporter implements TopologyImporter {
    @Override
    public int probe(TopologySource source) {
        return LspciVerboseParser.probe(source);
    }

    @Override
    public MachineDTO read(TopologySource source) {
        return LspciVerboseParser.parse(source);
    }
}
