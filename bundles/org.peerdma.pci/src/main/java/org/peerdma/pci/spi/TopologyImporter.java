package org.peerdma.pci.spi;

import org.osgi.annotation.versioning.ConsumerType;
import org.peerdma.pci.dto.MachineDTO;

/**
 * An importer for one dump format. Service properties:
 * <ul>
 * <li>{@value #FORMAT} (String, mandatory): the format name users pass, e.g. "lspci-vvv";</li>
 * <li>{@code service.ranking} (Integer, optional): which importer wins when several claim a format
 * or probe equally.</li>
 * </ul>
 * Importers are stateless and thread-safe.
 */
@ConsumerType
public interface TopologyImporter {
    String FORMAT = "peerdma.topology.format";

    /**
     * probe - how sure this importer is that it can read {@code source} (mandatory).
     * Return: 0 = not this format, 1..100 = confidence.
     */
    int probe(TopologySource source);

    /**
     * read - parse the source (mandatory).
     * Errors: {@link org.peerdma.pci.TopologyFormatException} naming file and line for malformed
     * or truncated content. What the format cannot express goes into the notes, not an error.
     */
    MachineDTO read(TopologySource source);
}
