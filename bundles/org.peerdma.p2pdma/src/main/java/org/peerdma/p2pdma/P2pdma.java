package org.peerdma.p2pdma;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/**
 * The p2pdma decisions on the loaded machine (drivers/pci/p2pdma.c): distance, map type and the
 * explanation, for the kernel version selected by configuration (or given per call).
 */
@ProviderType
public interface P2pdma {
    /** @return the rule set in force (module parameter kernel_version of module p2pdma). */
    KernelVersion version();

    /**
     * check - calc_map_type_and_dist(provider, client) with its explanation.
     * Errors: ENODEV when a device was removed.
     */
    P2pVerdict check(PciDevice provider, PciDevice client, KernelVersion version);

    /**
     * check - the same question on another machine, e.g. a detached what-if copy
     * (PciCore.detached), with the arch rules in force.
     */
    P2pVerdict check(org.peerdma.pci.PciMachine machine, PciDevice provider, PciDevice client, KernelVersion version);

    /** @return the arch whose rules apply: the loaded arch module's, or the machine's own when none is loaded. */
    String arch();

    /**
     * distanceMany - pci_p2pdma_distance_many(provider, clients, n, verbose).
     * @param log receives the warnings the kernel would print (verbose ones only when {@code verbose})
     * Return: the summed distance, or -1 when a client cannot do P2P (in every version: the -2
     *         of v4.20/v5.2 only reaches callers of the per-pair check).
     */
    int distanceMany(PciDevice provider, List<DeviceNode> clients, boolean verbose, List<String> log);
}
