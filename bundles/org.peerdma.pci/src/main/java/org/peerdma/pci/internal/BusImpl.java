package org.peerdma.pci.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.peerdma.pci.PciBus;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;

/** struct pci_bus of the model. The device list is copy-on-write, sorted by devfn. */
final class BusImpl implements PciBus {
    final int domain;
    final int number;
    final DevImpl self;
    final BusImpl parent;
    final HostBridgeImpl host;
    final boolean elided;
    volatile List<PciDevice> devices = List.of();

    BusImpl(int domain, int number, DevImpl self, BusImpl parent, HostBridgeImpl host, boolean elided) {
        this.domain = domain;
        this.number = number;
        this.self = self;
        this.parent = parent;
        this.host = host;
        this.elided = elided;
    }

    void add(DevImpl d) {
        List<PciDevice> l = new ArrayList<>(devices);
        l.add(d);
        l.sort(Comparator.comparingInt(x -> x.bdf().devfn()));
        devices = List.copyOf(l);
    }

    void remove(DevImpl d) {
        List<PciDevice> l = new ArrayList<>(devices);
        l.remove(d);
        devices = List.copyOf(l);
    }

    @Override
    public int domain() {
        return domain;
    }

    @Override
    public int number() {
        return number;
    }

    @Override
    public PciDevice self() {
        return self;
    }

    @Override
    public PciBus parent() {
        return parent;
    }

    @Override
    public boolean isRoot() {
        return parent == null;
    }

    @Override
    public boolean isElided() {
        return elided;
    }

    @Override
    public List<PciDevice> devices() {
        return devices;
    }

    @Override
    public PciHostBridge hostBridge() {
        return host;
    }

    @Override
    public String toString() {
        return String.format("%04x:%02x", domain, number);
    }
}
