package org.peerdma.pci.dto;

import org.osgi.dto.DTO;

/** A BAR: index 0..5 (6 = expansion ROM), CPU address and size. */
public class BarDTO extends DTO {
    public int index;
    /** CPU physical start; null when unassigned. */
    public Long start;
    public long size;
    /** Bus address when the dump states it; otherwise derived from the host bridge windows. */
    public Long busStart;
    public boolean io;
    public boolean prefetchable;
    public boolean mem64;
    /** lspci "[disabled]" or "&lt;unassigned&gt;". */
    public boolean disabled;
}
