package org.peerdma.mm;

/** enum memory_type of the newest kernel: 0 is reserved. */
public enum MemoryType {
    /** Device memory the CPU cannot address; pages migrate back on CPU fault. */
    DEVICE_PRIVATE(1),
    /** Device memory the CPU can address coherently. */
    DEVICE_COHERENT(2),
    FS_DAX(3),
    GENERIC(4),
    /** A PCI BAR given struct pages for peer-to-peer DMA. */
    PCI_P2PDMA(5);

    private final int value;

    MemoryType(int value) {
        this.value = value;
    }

    /** @return MEMORY_DEVICE_* value. */
    public int value() {
        return value;
    }
}
