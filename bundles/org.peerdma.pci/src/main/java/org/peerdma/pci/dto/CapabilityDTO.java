package org.peerdma.pci.dto;

import org.osgi.dto.DTO;

/** A capability list entry. */
public class CapabilityDTO extends DTO {
    public boolean extended;
    public int id;
    public int offset;
    public int version;
}
