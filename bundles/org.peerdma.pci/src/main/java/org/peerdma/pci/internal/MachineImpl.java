package org.peerdma.pci.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.peerdma.pci.Bdf;
import org.peerdma.pci.CpuInfo;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciMachine;

/** The live machine. Mutated only by {@link Enumerator} under the core's lock; read lock-free. */
final class MachineImpl implements PciMachine {
    final String name;
    final String source;
    final String arch;
    final CpuInfo cpu;
    final List<HostBridgeImpl> hosts = new CopyOnWriteArrayList<>();
    /** Present devices by address; replaced, never mutated, so readers need no lock. */
    volatile Map<Bdf, DevImpl> byBdf = Map.of();
    volatile List<PciDevice> ordered = List.of();
    final Map<Long, BusImpl> buses = new HashMap<>();
    final List<String> notes = new CopyOnWriteArrayList<>();
    final AtomicLong generation = new AtomicLong();
    /** uname -r of the machine described, or null. */
    volatile String kernelRelease;
    volatile org.peerdma.pci.DriverTopology driverTopology;

    MachineImpl(String name, String source, String arch, CpuInfo cpu) {
        this.name = name;
        this.source = source;
        this.arch = arch;
        this.cpu = cpu;
    }

    static long busKey(int domain, int bus) {
        return ((long) domain << 8) | bus;
    }

    void publish(Map<Bdf, DevImpl> devices) {
        List<PciDevice> l = new ArrayList<>(devices.values());
        l.sort((a, b) -> a.bdf().compareTo(b.bdf()));
        byBdf = Map.copyOf(devices);
        ordered = List.copyOf(l);
        generation.incrementAndGet();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public java.util.Optional<org.peerdma.pci.DriverTopology> driverTopology() {
        return java.util.Optional.ofNullable(driverTopology);
    }

    @Override
    public String kernelRelease() {
        return kernelRelease;
    }

    @Override
    public String arch() {
        return arch;
    }

    @Override
    public CpuInfo cpu() {
        return cpu;
    }

    @Override
    public List<PciHostBridge> hostBridges() {
        return List.copyOf(hosts);
    }

    @Override
    public List<PciDevice> devices() {
        return ordered;
    }

    @Override
    public Optional<PciDevice> device(Bdf bdf) {
        return Optional.ofNullable(byBdf.get(bdf));
    }

    @Override
    public List<String> notes() {
        return List.copyOf(notes);
    }

    @Override
    public long generation() {
        return generation.get();
    }

    @Override
    public String toString() {
        return name + " (" + ordered.size() + " devices, from " + source + ")";
    }
}
