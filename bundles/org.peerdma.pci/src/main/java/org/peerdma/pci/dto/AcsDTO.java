package org.peerdma.pci.dto;

import org.osgi.dto.DTO;

/** The ACS extended capability: PCI_ACS_CAP and PCI_ACS_CTRL bits (see org.peerdma.pci.Acs). */
public class AcsDTO extends DTO {
    /** Config offset of the capability; null when the dump does not give it. */
    public Integer offset;
    /** Capability bits; null when only the control line was seen. */
    public Integer cap;
    /** Control bits; null when unknown. */
    public Integer ctrl;
}
