package org.peerdma.pci.imports.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.framework.Constants;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.spi.TopologyImporter;

/** The importers wired as DS would wire them, for tests outside an OSGi framework. */
public final class TestIo {
    private TestIo() {
    }

    public static TopologyIO io() {
        TopologyIOImpl io = new TopologyIOImpl();
        Map<String, TopologyImporter> all = new LinkedHashMap<>();
        all.put("peerdma", new PeerdmaImporter());
        all.put("lspci-vvv", new LspciVerboseImporter());
        all.put("lspci-tv", new LspciTreeImporter());
        all.put("hwloc-xml", new HwlocXmlImporter());
        all.put("lstopo-v", new LstopoTextImporter());
        all.put("nccl-topo-xml", new NcclXmlImporter());
        long id = 1;
        for (Map.Entry<String, TopologyImporter> e : all.entrySet()) {
            Map<String, Object> props = new HashMap<>();
            props.put(TopologyImporter.FORMAT, e.getKey());
            props.put(Constants.SERVICE_ID, id++);
            io.addImporter(e.getValue(), props);
        }
        return io;
    }

    public static Path shared() {
        for (String p : new String[] {System.getProperty("peerdma.shared"), "../../../shared", "/work/shared"}) {
            if (p != null && Files.isDirectory(Path.of(p, "topologies/real"))) {
                return Path.of(p);
            }
        }
        throw new IllegalStateException("shared/topologies/real not found next to the checkout");
    }
}
