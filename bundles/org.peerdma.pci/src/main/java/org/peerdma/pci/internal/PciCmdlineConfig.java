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

    @AttributeDefinition(name = "iommu", description = "Whether an IOMMU driver initialised at boot and called "
            + "pci_request_acs(): on or pt (intel_iommu=on, amd_iommu, arm-smmu; iommu=pt still requests ACS) makes "
            + "pci_enable_acs() set SV RR CR UF where a device advertises them before the pci= options apply; off "
            + "leaves the firmware's ACS.", options = {
                @org.osgi.service.metatype.annotations.Option(value = "off"),
                @org.osgi.service.metatype.annotations.Option(value = "on"),
                @org.osgi.service.metatype.annotations.Option(value = "pt")})
    String iommu() default "off";

    @AttributeDefinition(name = "release", description = "The kernel release whose pci_enable_acs() applies the "
            + "options (6.12, 6.12.23, 5.15.0-91-generic): before 6.11 disable_acs_redir= clears RR CR EC of the "
            + "value after the kernel's default and config_acs= is unknown; 6.11 until the fix 9cf8a952d57b (6.15; "
            + "6.12.23, 6.13.11, 6.14.2) has its bugs; later a named device gets (fw_ctrl & ~mask) | (flags & mask). "
            + "Empty: the loaded machine's own release, else the newest.")
    String release() default "";
}
