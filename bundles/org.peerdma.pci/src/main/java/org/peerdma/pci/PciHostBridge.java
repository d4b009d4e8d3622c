package org.peerdma.pci;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/** A PCI host bridge (struct pci_host_bridge): a root bus and the windows it forwards. */
@ProviderType
public interface PciHostBridge {
    /** @return the name the kernel gives it: "pci0000:00". */
    String name();

    int domain();

    PciBus rootBus();

    /** @return the last bus number below this host bridge. */
    int busEnd();

    /** @return the apertures; empty means identity (bus address = CPU address). */
    List<Window> windows();

    /**
     * device - the "host bridge device" p2pdma checks: the first device on the root bus, if it
     * is devfn 00.0 or a Root Port (pci_host_bridge_dev in the newest p2pdma.c).
     */
    Optional<PciDevice> firstDevice();

    /** @return NUMA node, -1 when unknown. */
    int numaNode();

    /** @return true when no dump named this host bridge and the core inferred it from a root bus. */
    boolean isInferred();

    /** busAddress - pcibios_resource_to_bus for a CPU physical address in one of the windows. */
    long busAddress(long cpu);
}
