package org.peerdma.p2pdma;

import org.peerdma.pci.PciDevice;

/**
 * What pci_p2pdma_enable_store parsed (the nvmet configfs "p2pmem" attribute).
 *
 * @param use whether P2P memory is to be used
 * @param device the provider named, or null for "any" (use=true) or none (use=false)
 */
public record P2pEnable(boolean use, PciDevice device) {
    /** pci_p2pdma_enable_show: "0\n", "1\n" or the device name. */
    public String show() {
        if (!use) {
            return "0\n";
        }
        return device == null ? "1\n" : device.name() + "\n";
    }
}
