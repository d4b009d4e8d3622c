package org.peerdma.pci.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/** A host bridge and its root bus range. */
public class HostBridgeDTO extends DTO {
    /** "pci0000:00" when not given. */
    public String name;
    public int domain;
    /** Root bus number. */
    public int bus;
    /** Last bus number below it; null = up to the next host bridge's root bus (or 0xff). */
    public Integer busEnd;
    public Integer numaNode;
    /** Apertures with their CPU-to-bus offsets; empty = identity mapping. */
    public List<WindowDTO> windows = new ArrayList<>();
}
