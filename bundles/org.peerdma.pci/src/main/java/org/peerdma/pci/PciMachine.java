package org.peerdma.pci;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A whole machine's PCI view at one moment. The same object stays current while devices are
 * hot-plugged or ACS bits change; {@link #generation()} increases on every change so callers can
 * key caches on it.
 */
@ProviderType
public interface PciMachine {
    String name();

    /** @return where it came from: a file path, "sysfs:/sys", "sample", ... */
    String source();

    /** @return "x86_64", "arm64", ... */
    String arch();

    CpuInfo cpu();

    List<PciHostBridge> hostBridges();

    /** @return present devices in pci_get_device()/for_each_pci_dev order (domain, bus, devfn). */
    List<PciDevice> devices();

    Optional<PciDevice> device(Bdf bdf);

    /** @return importer and core notes: what the dump did not contain, what was inferred. */
    List<String> notes();

    /** @return the kernel release the description was taken on (a capture's uname -r), or null when unknown. */
    /** @return the NVIDIA driver's view of this machine (nvidia-smi topo -m), when its description had one. */
    default java.util.Optional<DriverTopology> driverTopology() {
        return java.util.Optional.empty();
    }

    default String kernelRelease() {
        return null;
    }

    /** @return a counter that increases with every change of topology or ACS state. */
    long generation();
}
