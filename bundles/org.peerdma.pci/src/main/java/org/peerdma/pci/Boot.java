package org.peerdma.pci;

/**
 * How a kernel boots the PCI core, for {@link PciCore#detached(org.peerdma.pci.dto.MachineDTO, Boot)}: what its
 * pci_enable_acs() applies to every device at enumeration. A null field means as the core is configured (its
 * module parameters, else the machine's own command line and release).
 *
 * @param pci the value of pci= ("disable_acs_redir=0000:00:01.0,config_acs=0010001@0000:02:08.0"), "" for none
 * @param iommu on, pt (an IOMMU driver called pci_request_acs()) or off
 * @param release the kernel release whose pci_enable_acs() rules apply ("6.12", "6.12.23", "5.15.0-91-generic")
 */
public record Boot(String pci, String iommu, String release) {
}
