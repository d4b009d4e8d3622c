package org.peerdma.dma;

/** enum dma_data_direction. */
public enum DmaDirection {
    BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE, NONE
}
