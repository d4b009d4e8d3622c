package org.peerdma.pci;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** A PCI bus (struct pci_bus). */
@ProviderType
public interface PciBus {
    int domain();

    int number();

    /** @return the bridge leading to this bus (bus->self); null for root buses and elided buses. */
    PciDevice self();

    /** @return the parent bus; null for root buses. */
    PciBus parent();

    /** @return true for a host bridge's root bus. */
    boolean isRoot();

    /**
     * isElided - true when the dump did not show the bridge leading to this bus (lspci -tv with
     * "…", partial dumps). The bus hangs below the deepest bridge whose bus range contains it,
     * so ancestry is right but hop counts through it are unknown.
     */
    boolean isElided();

    /** @return present devices on this bus, by devfn (the order of bus->devices). */
    List<PciDevice> devices();

    PciHostBridge hostBridge();
}
