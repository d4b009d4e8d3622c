package org.peerdma.pci.imports.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Which machine the runtime boots on. */
@ObjectClassDefinition(id = BootConfig.PID, name = "PCI topology at boot",
        description = "The machine the PCI core is loaded with when the runtime starts.")
@interface BootConfig {
    String PID = "org.peerdma.pci.boot";

    @AttributeDefinition(name = "topology", description = "'auto' (this host's /sys/bus/pci when readable and "
            + "non-empty, else the sample), 'host', 'sample', 'none', or a path to a dump or topology file. "
            + "The framework property peerdma.topology overrides the default.")
    String topology() default "auto";

    @AttributeDefinition(name = "format", description = "Importer format for a path, or 'auto'.")
    String format() default "auto";
}
