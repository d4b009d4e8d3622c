package org.peerdma.pci.imports.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.hwloc.HwlocXmlParser;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** hwloc lstopo --of xml. */
@Component(property = TopologyImporter.FORMAT + "=hwloc-xml")
public class HwlocXmlImporter implements TopologyImporter {
    private static final HwlocXmlParser PARSER = new HwlocXmlParser();

    @Override
    public int probe(TopologySource source) {
        return PARSER.probe(source);
    }

    @Override
    public MachineDTO read(TopologySource source) {
        return PARSER.parse(source);
    }
}
