package org.peerdma.pci;

/**
 * A host bridge aperture (resource_entry of the bridge's windows): CPU range and the offset
 * the kernel subtracts to get the PCI bus address (pcibios_resource_to_bus: bus = cpu - offset).
 *
 * @param cpuStart first CPU physical address of the window
 * @param size window length
 * @param offset CPU address minus bus address
 * @param io I/O port window
 * @param prefetchable prefetchable memory window
 */
public record Window(long cpuStart, long size, long offset, boolean io, boolean prefetchable) {
    /** @return true if the CPU address lies in this window. */
    public boolean contains(long cpu) {
        return Long.compareUnsigned(cpu, cpuStart) >= 0 && Long.compareUnsigned(cpu - cpuStart, size) < 0;
    }
}
