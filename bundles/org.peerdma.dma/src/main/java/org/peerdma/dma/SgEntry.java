package org.peerdma.dma;

/**
 * One scatterlist entry: what the CPU gave (physical address, length) and, once mapped, what the
 * device uses (dma address, dma length).
 *
 * @param phys physical address of the segment
 * @param length bytes
 * @param dmaAddress bus/IOVA address, or -1 when not mapped
 * @param dmaLength bytes the device sees at dmaAddress (entries may be merged when mapping)
 */
public record SgEntry(long phys, long length, long dmaAddress, long dmaLength) {
    /** of - an unmapped entry. */
    public static SgEntry of(long phys, long length) {
        return new SgEntry(phys, length, -1, 0);
    }
}
