package org.peerdma.pci.imports.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.hwloc.NcclTopoXmlParser;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** NCCL_TOPO_DUMP_FILE XML, fragments included. */
@Component(property = TopologyImporter.FORMAT + "=nccl-topo-xml")
public class NcclXmlImporter implements TopologyImporter {
    private static final NcclTopoXmlParser PARSER = new NcclTopoXmlParser();

    @Override
    public int probe(TopologySource source) {
        return PARSER.probe(source);
    }

    @Override
    public MachineDTO read(TopologySource source) {
        return PARSER.parse(source);
    }
}
