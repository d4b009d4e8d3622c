package org.peerdma.dma.spi;

import org.osgi.annotation.versioning.ConsumerType;
import org.peerdma.pci.PciMachine;

/**
 * The arch's part in p2pdma decisions. Service property {@value #ARCH} names the arch
 * ("x86_64", "arm64"); the best-ranked service is the running kernel's arch.
 */
@ConsumerType
public interface ArchPolicy {
    String ARCH = "peerdma.arch";

    /** @return the arch name. */
    String arch();

    /** cpu_supports_p2pdma(): true bypasses the host-bridge whitelist (x86: AMD family &gt;= 0x17). */
    boolean cpuSupportsP2pdma(PciMachine machine);

    /** @return whether crossing a host bridge may be allowed by pci_p2pdma_whitelist at all. */
    boolean hostBridgeWhitelist();
}
