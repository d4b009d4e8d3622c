package org.peerdma.pci.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Module parameters of the PCI core: the kernel's pci= command line option. */
@ObjectClassDefinition(id = PciCmdlineConfig.PID, name = "PCI core (pci= kernel command line)",
        description = "Boot-time options of the PCI core. They take effect when devices are enumerated: "
                + "at machine load, rescan and hot-add, as on a kernel booted with them.")
@interface PciCmdlineConfig {
    String PID = "org.peerdma.pci";

    @AttributeDefinition(name = "pci", description = "Value of pci= as on the kernel command line, options "
            + "separated by ','. Modelled: disable_acs_redir=<pci_dev>[;<pci_dev>...] and "
            + "config_acs=<bits>@<pci_dev>[;<bits>@<pci_dev>...] (bits: 0, 1 or x per ACS bit, rightmost SV) with "
            + "<pci_dev> [<domain>:]<bus>:<dev>.<fn>[/<dev>.<fn>]* or pci:<vendor>:<device>[:<subvendor>:<subdevice>].")
    String pci() default "";
}
