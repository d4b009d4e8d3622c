package org.peerdma.pci;

import java.nio.file.Path;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.dto.MachineDTO;

/**
 * Reading machine descriptions with the registered importers and writing the project's own
 * topology format (YAML or JSON, see docs/topology-format.md).
 */
@ProviderType
public interface TopologyIO {
    /** Format name that picks the importer by probing the content. */
    String AUTO = "auto";

    /**
     * read - import a dump or topology file (or a sysfs directory).
     * @param source a file or directory
     * @param format an importer's format name, or {@link #AUTO}
     * Errors: ENOENT for a missing path, EINVAL ({@link TopologyFormatException}) naming file and
     * line for malformed content or an unknown format.
     */
    MachineDTO read(Path source, String format);

    /** readText - import text held in memory, {@code name} being used in messages. */
    MachineDTO readText(String name, String text, String format);

    /** write - save in the project's format: YAML unless the file name ends in .json. */
    void write(MachineDTO machine, Path target);

    /** @return the text that {@link #write} would save, "yaml" or "json". */
    String format(MachineDTO machine, String syntax);

    /** @return the importer formats available now, best ranked first. */
    List<String> formats();

    /** sample - the bundled sample machine. */
    MachineDTO sample();

    /**
     * host - this machine's own topology from /sys/bus/pci when it is readable and non-empty.
     * Errors: ENOENT when it is not.
     */
    MachineDTO host();
}
