package org.peerdma.pci.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bar;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.Capability;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CapabilityDTO;
import org.peerdma.pci.dto.DeviceDTO;

/**
 * Places devices of a description into a live machine, the model's pci_scan_child_bus: every
 * device lands on its bus, every bus below the bridge whose secondary number it is. Checks
 * everything first and changes the machine only when all devices can be placed, so a failure
 * leaves the machine as it was.
 */
final class Enumerator {
    private final MachineImpl m;
    private final boolean allowNewRoots;
    private final Map<Bdf, DevImpl> fresh = new LinkedHashMap<>();
    private final Map<Long, BusImpl> newBuses = new HashMap<>();
    private final List<HostBridgeImpl> newHosts = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    private Enumerator(MachineImpl m, boolean allowNewRoots) {
        this.m = m;
        this.allowNewRoots = allowNewRoots;
    }

    /**
     * add - validate and place {@code dtos} into {@code m}.
     * @param allowNewRoots lenient placement for whole dumps: a bus that no bridge leads to hangs
     *        below the host bridge whose range holds it, or becomes the root bus of an inferred host
     *        bridge; otherwise (hot-add, rescan) such a device is refused
     * Return: the new devices in address order. Errors: EINVAL / EEXIST; {@code m} unchanged.
     */
    static List<DevImpl> add(MachineImpl m, List<DeviceDTO> dtos, boolean allowNewRoots) {
        Enumerator e = new Enumerator(m, allowNewRoots);
        e.build(dtos);
        e.placeAll();
        e.commit();
        return List.copyOf(e.fresh.values());
    }

    private void build(List<DeviceDTO> dtos) {
        for (int i = 0; i < dtos.size(); i++) {
            DeviceDTO d = dtos.get(i);
            if (d == null || d.bdf == null) {
                throw KernelException.einval("device #%d has no address (bdf)", i + 1);
            }
            Bdf bdf;
            try {
                bdf = Bdf.parse(d.bdf);
            } catch (KernelException ex) {
                throw KernelException.einval("device #%d: %s", i + 1, ex.detail());
            }
            if (fresh.containsKey(bdf)) {
                throw KernelException.einval("duplicate device %s in the description (entries %d and another)", bdf,
                        i + 1);
            }
            if (m.byBdf.containsKey(bdf)) {
                throw new KernelException(Errno.EEXIST, "device " + bdf + " is already present");
            }
            fresh.put(bdf, newDevice(bdf, Dtos.copy(d)));
        }
        List<DevImpl> bridges = allBridges();
        for (DevImpl b : bridges) {
            if (!fresh.containsKey(b.bdf)) {
                continue;
            }
            if (b.secondary <= b.bdf.bus() && b.secondary != -1) {
                throw KernelException.einval("bridge %s: secondary bus %02x is not above its own bus %02x", b.bdf,
                        b.secondary, b.bdf.bus());
            }
            if (b.subordinateNr < b.secondary) {
                throw KernelException.einval("bridge %s: subordinate bus %02x is below secondary bus %02x", b.bdf,
                        b.subordinateNr, b.secondary);
            }
            for (DevImpl o : bridges) {
                if (o == b || o.bdf.domain() != b.bdf.domain() || o.secondary < 0) {
                    continue;
                }
                if (o.secondary == b.secondary) {
                    throw KernelException.einval("bridges %s and %s both claim secondary bus %02x", b.bdf, o.bdf,
                            b.secondary);
                }
                boolean overlap = b.secondary <= o.subordinateNr && o.secondary <= b.subordinateNr;
                boolean nested = contains(b, o) || contains(o, b);
                if (overlap && !nested) {
                    throw KernelException.einval("bridges %s [%02x-%02x] and %s [%02x-%02x] have overlapping bus ranges",
                            b.bdf, b.secondary, b.subordinateNr, o.bdf, o.secondary, o.subordinateNr);
                }
            }
        }
    }

    private static boolean contains(DevImpl outer, DevImpl inner) {
        return outer.secondary <= inner.secondary && inner.subordinateNr <= outer.subordinateNr;
    }

    private List<DevImpl> allBridges() {
        List<DevImpl> l = new ArrayList<>();
        for (PciDevice d : m.ordered) {
            if (d.isBridge() && d.secondaryBus() >= 0) {
                l.add((DevImpl) d);
            }
        }
        for (DevImpl d : fresh.values()) {
            if (d.isBridge() && d.secondary >= 0) {
                l.add(d);
            }
        }
        return l;
    }

    private static DevImpl newDevice(Bdf bdf, DeviceDTO d) {
        int cls = d.classCode == null ? 0 : d.classCode;
        int header;
        if (d.headerType != null) {
            header = d.headerType & 0x7f;
        } else if (d.secondaryBus != null || (cls >> 8) == 0x0604 || (cls >> 8) == 0x0609) {
            header = 1;
        } else {
            header = 0;
        }
        if (header == 1 && d.secondaryBus == null) {
            d.notes.add("bridge without a secondary bus number in the dump: nothing can be placed below it");
        }
        PciePortType type;
        if (d.portType == null) {
            type = PciePortType.UNKNOWN;
        } else {
            try {
                type = PciePortType.valueOf(d.portType);
            } catch (IllegalArgumentException ex) {
                throw KernelException.einval("device %s: unknown port type '%s'", bdf, d.portType);
            }
        }
        List<Capability> caps = new ArrayList<>();
        for (CapabilityDTO c : d.capabilities) {
            if (c.id >= 0) {
                caps.add(new Capability(c.extended, c.id, c.offset, c.version));
            }
        }
        AcsDTO acs = d.acs;
        boolean present = acs != null;
        int offset = 0;
        int cap = 0;
        int ctrl = 0;
        boolean unknown;
        if (present) {
            offset = acs.offset == null ? 0 : acs.offset;
            ctrl = acs.ctrl == null ? 0 : acs.ctrl & 0x7f;
            if (acs.cap == null) {
                cap = ctrl;
                d.notes.add("ACSCap not in the dump: capability assumed to implement the control bits shown");
            } else {
                cap = acs.cap & 0x7f;
            }
            unknown = acs.ctrl == null;
        } else {
            unknown = !Boolean.TRUE.equals(d.extendedCapsKnown);
        }
        return new DevImpl(bdf, d, present, offset, cap, ctrl, unknown, caps, type, header);
    }

    private void placeAll() {
        for (DevImpl d : fresh.values()) {
            d.bus = bus(d.bdf.domain(), d.bdf.bus(), d);
        }
        for (DevImpl d : fresh.values()) {
            if (d.dto.physfn != null) {
                Bdf pf = Bdf.parse(d.dto.physfn);
                DevImpl p = fresh.containsKey(pf) ? fresh.get(pf) : m.byBdf.get(pf);
                if (p == null) {
                    d.dto.notes.add("physical function " + pf + " is not in the dump");
                } else {
                    d.physfn = p;
                }
            }
            d.bars = bars(d);
        }
        // every bridge gets its (possibly empty) subordinate bus, as pci_scan_bridge does
        for (DevImpl d : fresh.values()) {
            if (d.isBridge() && d.secondary >= 0) {
                d.subordinate = bus(d.bdf.domain(), d.secondary, d);
            }
        }
    }

    private BusImpl lookup(long key) {
        BusImpl b = newBuses.get(key);
        return b != null ? b : m.buses.get(key);
    }

    private BusImpl bus(int domain, int nr, DevImpl forDev) {
        long key = MachineImpl.busKey(domain, nr);
        BusImpl b = lookup(key);
        if (b != null) {
            return b;
        }
        DevImpl self = null;
        DevImpl deepest = null;
        for (DevImpl br : allBridges()) {
            if (br.bdf.domain() != domain) {
                continue;
            }
            if (br.secondary == nr) {
                self = br;
            } else if (br.secondary < nr && nr <= br.subordinateNr
                    && (deepest == null || contains(deepest, br))) {
                deepest = br;
            }
        }
        if (self != null) {
            BusImpl parent = bus(domain, self.bdf.bus(), self);
            b = new BusImpl(domain, nr, self, parent, parent.host, false);
            self.subordinate = b;
        } else if (deepest != null) {
            BusImpl parent = bus(domain, deepest.secondary, deepest);
            b = new BusImpl(domain, nr, null, parent, parent.host, true);
            notes.add(String.format("bus %04x:%02x: the bridge leading to it is not in the dump; placed below %s "
                    + "by bus range (hop counts through it are unknown)", domain, nr, deepest.bdf));
        } else {
            HostBridgeImpl host = hostFor(domain, nr);
            if (host != null && host.busStart == nr) {
                b = new BusImpl(domain, nr, null, null, host, false);
                host.root = b;
            } else if (host != null && allowNewRoots) {
                BusImpl root = bus(domain, host.busStart, forDev);
                b = new BusImpl(domain, nr, null, root, host, true);
                notes.add(String.format("bus %04x:%02x: lies in %s's bus range but no bridge leads to it in the dump",
                        domain, nr, host.name));
            } else if (allowNewRoots) {
                host = new HostBridgeImpl(String.format("pci%04x:%02x", domain, nr), domain, nr, nr, List.of(), -1,
                        true);
                newHosts.add(host);
                b = new BusImpl(domain, nr, null, null, host, false);
                host.root = b;
                notes.add(String.format("host bridge pci%04x:%02x inferred: bus %02x has no bridge above it in the dump",
                        domain, nr, nr));
            } else {
                throw KernelException.einval("device %s: no bridge or host bridge leads to bus %04x:%02x",
                        forDev.bdf, domain, nr);
            }
        }
        newBuses.put(key, b);
        return b;
    }

    /** The host bridge whose root bus is {@code nr}, or whose known range holds it. */
    private HostBridgeImpl hostFor(int domain, int nr) {
        HostBridgeImpl best = null;
        for (HostBridgeImpl h : hostsNow()) {
            if (h.domain != domain) {
                continue;
            }
            if (h.busStart == nr) {
                return h;
            }
            if (h.busStart < nr && nr <= h.busEnd && (best == null || h.busStart > best.busStart)) {
                best = h;
            }
        }
        return best;
    }

    private List<HostBridgeImpl> hostsNow() {
        List<HostBridgeImpl> l = new ArrayList<>(m.hosts);
        l.addAll(newHosts);
        return l;
    }

    private static List<Bar> bars(DevImpl d) {
        List<Bar> out = new ArrayList<>();
        List<BarDTO> sorted = new ArrayList<>(d.dto.bars);
        sorted.sort(Comparator.comparingInt(b -> b.index));
        int last = -1;
        for (BarDTO b : sorted) {
            if (b.index < 0 || b.index > 6) {
                throw KernelException.einval("device %s: BAR index %d out of range 0..6", d.bdf, b.index);
            }
            if (b.index == last) {
                throw KernelException.einval("device %s: BAR %d listed twice", d.bdf, b.index);
            }
            last = b.index;
            if (b.size < 0) {
                throw KernelException.einval("device %s: BAR %d has negative size", d.bdf, b.index);
            }
            if (b.size == 0) {
                continue;
            }
            long start = b.start == null ? 0 : b.start;
            long bus = b.busStart != null ? b.busStart : d.bus.host.busAddress(start);
            out.add(new Bar(b.index, start, b.size, bus, b.io, b.prefetchable, b.mem64,
                    b.start == null || b.disabled));
        }
        return List.copyOf(out);
    }

    private void commit() {
        m.hosts.addAll(newHosts);
        m.buses.putAll(newBuses);
        Map<Bdf, DevImpl> all = new HashMap<>();
        for (PciDevice p : m.ordered) {
            all.put(p.bdf(), (DevImpl) p);
        }
        for (DevImpl d : fresh.values()) {
            d.bus.add(d);
            all.put(d.bdf, d);
        }
        m.notes.addAll(notes);
        m.publish(all);
    }
}
