package org.peerdma.p2pdma;

/**
 * enum pci_p2pdma_map_type of the newest kernel: UNKNOWN=0, NONE, NOT_SUPPORTED, BUS_ADDR,
 * THRU_HOST_BRIDGE. v5.1x had no NONE (UNKNOWN=0, NOT_SUPPORTED=1, BUS_ADDR=2, THRU_HOST_BRIDGE=3).
 */
public enum MapType {
    /** Not computed yet (an empty map-type cache slot). */
    UNKNOWN,
    /** Not a P2PDMA page (newest kernels only). */
    NONE,
    /** The pair cannot do P2P DMA. */
    NOT_SUPPORTED,
    /** Transactions stay below a common switch: DMA to the PCI bus address, no IOMMU. */
    BUS_ADDR,
    /** Transactions go through the host bridge: the normal DMA API (IOMMU) maps them. */
    THRU_HOST_BRIDGE;

    /** @return the kernel's constant name, e.g. PCI_P2PDMA_MAP_BUS_ADDR. */
    public String kernelName() {
        return "PCI_P2PDMA_MAP_" + name();
    }

    /** value - the numeric value in a given kernel version's enum. */
    public int value(KernelVersion v) {
        if (v.hasMapTypeNone()) {
            return ordinal();
        }
        return switch (this) {
            case UNKNOWN -> 0;
            case NOT_SUPPORTED -> 1;
            case BUS_ADDR -> 2;
            case THRU_HOST_BRIDGE -> 3;
            case NONE -> throw new IllegalArgumentException("no MAP_NONE in " + v.label());
        };
    }
}
