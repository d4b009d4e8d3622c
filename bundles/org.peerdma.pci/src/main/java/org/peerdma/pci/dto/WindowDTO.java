package org.peerdma.pci.dto;

import org.osgi.dto.DTO;

/** A host bridge aperture: bus address = CPU address - offset. */
public class WindowDTO extends DTO {
    public long cpuStart;
    public long size;
    public long offset;
    public boolean io;
    public boolean prefetchable;
}
