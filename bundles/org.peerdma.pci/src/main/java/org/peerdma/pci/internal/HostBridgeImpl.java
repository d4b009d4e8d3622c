package org.peerdma.pci.internal;

import java.util.List;
import java.util.Optional;

import org.peerdma.pci.PciBus;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.Window;

/** struct pci_host_bridge of the model. */
final class HostBridgeImpl implements PciHostBridge {
    final String name;
    final int domain;
    final int busStart;
    final int busEnd;
    final List<Window> windows;
    final int numaNode;
    final boolean inferred;
    BusImpl root;

    HostBridgeImpl(String name, int domain, int busStart, int busEnd, List<Window> windows, int numaNode,
            boolean inferred) {
        this.name = name;
        this.domain = domain;
        this.busStart = busStart;
        this.busEnd = busEnd;
        this.windows = List.copyOf(windows);
        this.numaNode = numaNode;
        this.inferred = inferred;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int domain() {
        return domain;
    }

    @Override
    public PciBus rootBus() {
        return root;
    }

    @Override
    public int busEnd() {
        return busEnd;
    }

    @Override
    public List<Window> windows() {
        return windows;
    }

    @Override
    public Optional<PciDevice> firstDevice() {
        List<PciDevice> devs = root.devices;
        if (devs.isEmpty()) {
            return Optional.empty();
        }
        PciDevice first = devs.get(0);
        if (first.bdf().devfn() == 0 || first.portType() == PciePortType.ROOT_PORT) {
            return Optional.of(first);
        }
        return Optional.empty();
    }

    @Override
    public int numaNode() {
        return numaNode;
    }

    @Override
    public boolean isInferred() {
        return inferred;
    }

    @Override
    public long busAddress(long cpu) {
        for (Window w : windows) {
            if (!w.io() && w.contains(cpu)) {
                return cpu - w.offset();
            }
        }
        return cpu;
    }

    @Override
    public String toString() {
        return name;
    }
}
