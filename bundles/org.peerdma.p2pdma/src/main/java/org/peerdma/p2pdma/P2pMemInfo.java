package org.peerdma.p2pdma;

/**
 * /sys/bus/pci/devices/BDF/p2pmem/: size and available (gen_pool_size/avail), published.
 *
 * @param size bytes in the pool
 * @param available bytes free
 * @param published whether clients may find it (pci_p2pmem_publish)
 */
public record P2pMemInfo(long size, long available, boolean published) {
    /** @return the three attribute files as sysfs prints them. */
    public String sysfs() {
        return "size: " + size + "\navailable: " + available + "\npublished: " + (published ? 1 : 0) + "\n";
    }
}
