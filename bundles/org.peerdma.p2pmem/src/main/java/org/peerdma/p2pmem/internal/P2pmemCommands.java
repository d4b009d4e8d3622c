package org.peerdma.p2pmem.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.p2pmem.P2pmemClass;
import org.peerdma.p2pmem.P2pmemDevice;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;

/** The RFC's p2pmem class from the shell, and a comparison with p2pdma on the same clients. */
@Component(service = P2pmemCommands.class, property = {"osgi.command.scope=p2pmem", "osgi.command.function=ls",
    "osgi.command.function=probe", "osgi.command.function=find", "osgi.command.function=unregister",
    "osgi.command.function=stats", "osgi.command.function=compare"})
public class P2pmemCommands {
    @Reference
    PciCore core;

    @Reference
    P2pmemClass cls;

    @Reference
    P2pMem p2pmem;

    @Reference
    P2pdma p2pdma;

    @Descriptor("ls /sys/class/p2pmem")
    public String ls() {
        StringBuilder sb = new StringBuilder();
        for (P2pmemDevice d : cls.devices()) {
            sb.append(String.format(Locale.ROOT, "%s -> ../../devices/%s/%s  size %d available %d%n", d.name(),
                    d.parent().name(), d.name(), d.size(), d.available()));
        }
        return sb.length() == 0 ? "/sys/class/p2pmem is empty (a driver creates one: p2pmem:probe BDF BAR)"
                : sb.substring(0, sb.length() - 1);
    }

    @Descriptor("what a driver does in the RFC design: p2pmem_create(&pdev->dev) then p2pmem_add_pci_region(BAR)")
    public String probe(@Descriptor("device") String bdf, @Descriptor("BAR index") int bar) {
        PciDevice d = dev(bdf);
        P2pmemDevice p = cls.create(d);
        try {
            cls.addPciRegion(p, d, bar);
        } catch (KernelException ex) {
            cls.unregister(p);
            throw ex;
        }
        return p.name() + ": registered, added BAR " + bar + " of " + d.name() + " (" + p.size() + " bytes)";
    }

    @Descriptor("p2pmem_find_compat: the first p2pmem device behind the same switch as every client")
    public String find(@Descriptor("client devices") String... clients) {
        List<String> log = new ArrayList<>();
        Optional<P2pmemDevice> found = cls.findCompat(nodes(clients), log);
        found.ifPresent(cls::put);
        return found.map(P2pmemDevice::name).orElse("none") + "\n" + String.join("\n", log);
    }

    @Descriptor("p2pmem_unregister")
    public String unregister(@Descriptor("p2pmemN") String name) {
        cls.unregister(byName(name));
        return name + " unregistered";
    }

    @Descriptor("the debugfs stats of a p2pmem device")
    public String stats(@Descriptor("p2pmemN") String name) {
        return cls.stats(byName(name)).stripTrailing();
    }

    @Descriptor("the two designs on the same clients: the RFC's p2pmem_find_compat and p2pdma's find_many")
    public String compare(@Descriptor("client devices") String... clients) {
        List<DeviceNode> n = nodes(clients);
        List<String> log = new ArrayList<>();
        Optional<P2pmemDevice> rfc = cls.findCompat(n, log);
        rfc.ifPresent(cls::put);
        String merged;
        Optional<PciDeviceRef> ref = p2pmem.findMany(n, "p2pmem:compare");
        if (ref.isPresent()) {
            try (PciDeviceRef r = ref.get()) {
                merged = r.device().name() + " (distance " + p2pdma.distanceMany(r.device(), n, false,
                        new ArrayList<>()) + ")";
            }
        } else {
            merged = "none";
        }
        return "2017 RFC (same switch only, first match): " + rfc.map(d -> d.name() + " on " + d.parent().name())
                .orElse("none") + "\nmerged p2pdma (" + p2pdma.version().label() + ", closest, random among equals): "
                + merged;
    }

    private List<DeviceNode> nodes(String[] clients) {
        if (clients == null || clients.length == 0) {
            throw KernelException.einval("give at least one client device");
        }
        List<DeviceNode> n = new ArrayList<>();
        for (String c : clients) {
            n.add(DeviceNode.of(dev(c)));
        }
        return n;
    }

    private P2pmemDevice byName(String name) {
        return cls.devices().stream().filter(d -> d.name().equals(name)).findFirst()
                .orElseThrow(() -> KernelException.enodev("no %s in /sys/class/p2pmem", name));
    }

    private PciDevice dev(String bdf) {
        Bdf b = Bdf.parse(bdf);
        return core.machine().device(b).orElseThrow(() -> KernelException.enodev("no PCI device %s", b));
    }
}
