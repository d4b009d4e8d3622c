package org.peerdma.pci;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A counted reference to a device (pci_dev_get/pci_dev_put). While any is open the PCI core
 * module reports itself in use, as the kernel does for a held struct pci_dev.
 */
@ProviderType
public interface PciDeviceRef extends AutoCloseable {
    PciDevice device();

    /** @return who took the reference. */
    String holder();

    /** pci_dev_put. Idempotent. */
    @Override
    void close();
}
