package org.peerdma.p2pmem.internal;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.Range;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.module.ModuleUsage;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pmem.P2pmemClass;
import org.peerdma.p2pmem.P2pmemDevice;
import org.peerdma.pci.Bar;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** drivers/memory/p2pmem.c of the 2017 RFC. */
@Component(service = {P2pmemClass.class, ModuleUsage.class})
public class P2pmemClassImpl implements P2pmemClass, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("p2pmem");

    @Reference
    PciCore core;

    @Reference
    ZoneDevice zone;

    private final List<Dev> devices = new CopyOnWriteArrayList<>();
    private final BitSet ida = new BitSet();
    /** pci_request_region claims: "bdf/bar". */
    private final List<String> claimed = new CopyOnWriteArrayList<>();

    /** A chunk of the device's gen_pool: virt, CPU phys (the RFC pools by resource start), bitmap. */
    private record Chunk(long virt, long phys, long size, BitSet used, DevPagemap pg, String region) {
    }

    final class Dev implements P2pmemDevice {
        final int id;
        final PciDevice parent;
        final PciDeviceRef parentRef;
        final List<Chunk> pool = new CopyOnWriteArrayList<>();
        final AtomicInteger refs = new AtomicInteger(1);
        volatile boolean unregistered;
        /** The last reference went: pages unmapped, the parent put. */
        boolean released;

        Dev(int id, PciDevice parent) {
            this.id = id;
            this.parent = parent;
            this.parentRef = core.acquire(parent.bdf(), "p2pmem" + id);
        }

        @Override
        public String name() {
            return "p2pmem" + id;
        }

        @Override
        public int id() {
            return id;
        }

        @Override
        public PciDevice parent() {
            return parent;
        }

        @Override
        public long size() {
            return pool.stream().mapToLong(Chunk::size).sum();
        }

        @Override
        public long available() {
            long n = 0;
            for (Chunk c : pool) {
                synchronized (c.used) {
                    n += c.size - ((long) c.used.cardinality() << Page.PAGE_SHIFT);
                }
            }
            return n;
        }

        @Override
        public boolean unregistered() {
            return unregistered;
        }

        @Override
        public String toString() {
            return name() + " (parent " + parent.name() + ")";
        }
    }

    private Dev dev(P2pmemDevice p) {
        if (!(p instanceof Dev d) || !devices.contains(d) && !d.unregistered) {
            throw KernelException.einval("not a p2pmem device of this class: %s", p);
        }
        return d;
    }

    @Override
    public synchronized P2pmemDevice create(PciDevice parent) {
        if (parent == null || parent.isRemoved()) {
            throw KernelException.enodev("p2pmem_create: parent %s is gone", parent == null ? "null" : parent.name());
        }
        int id = ida.nextClearBit(0);
        ida.set(id);
        Dev d = new Dev(id, parent);
        devices.add(d);
        LOG.info("{}: registered", d.name());
        return d;
    }

    @Override
    public void addPciRegion(P2pmemDevice p, PciDevice pdev, int barIndex) {
        Dev d = dev(p);
        Bar bar = pdev.bar(barIndex).filter(b -> b.isMem() && !b.unassigned()).orElseThrow(
                () -> KernelException.einval("%s: BAR %d is not an assigned memory BAR", pdev.name(), barIndex));
        String region = pdev.name() + "/" + barIndex;
        synchronized (this) {
            if (claimed.contains(region)) {
                throw new KernelException(Errno.EBUSY, String.format("%s: BAR %d [mem %#x-%#x] is already requested",
                        pdev.name(), barIndex, bar.start(), bar.end()));
            }
            claimed.add(region);
        }
        DevPagemap pg = new DevPagemap();
        pg.type = MemoryType.PCI_P2PDMA; // the RFC predates the type; its pages are device memory of a PCI BAR
        pg.name = d.name() + " " + region;
        pg.ranges.add(Range.ofSize(bar.start(), bar.size()));
        pg.ops = page -> {
        };
        pg.owner = d;
        long virt;
        try {
            virt = zone.memremapPages(pg, pdev.numaNode());
        } catch (KernelException ex) {
            claimed.remove(region);
            throw ex;
        }
        d.pool.add(new Chunk(virt, bar.start(), bar.size(), new BitSet(), pg, region));
        LOG.info("{}: added [mem {}-{}]", d.name(), hex(bar.start()), hex(bar.end()));
    }

    @Override
    public long alloc(P2pmemDevice p, long size) {
        Dev d = dev(p);
        if (size <= 0 || d.unregistered) {
            return 0;
        }
        int nbits = (int) ((size + Page.PAGE_SIZE - 1) >>> Page.PAGE_SHIFT);
        for (Chunk c : d.pool) {
            synchronized (c.used) {
                int bits = (int) (c.size >>> Page.PAGE_SHIFT);
                int start = c.used.nextClearBit(0);
                while (start + nbits <= bits) {
                    int set = c.used.nextSetBit(start);
                    if (set < 0 || set >= start + nbits) {
                        c.used.set(start, start + nbits);
                        return c.virt + ((long) start << Page.PAGE_SHIFT);
                    }
                    start = c.used.nextClearBit(set);
                }
            }
        }
        return 0;
    }

    @Override
    public void free(P2pmemDevice p, long virt, long size) {
        Dev d = dev(p);
        for (Chunk c : d.pool) {
            if (virt - c.virt >= 0 && virt - c.virt < c.size) {
                int start = (int) ((virt - c.virt) >>> Page.PAGE_SHIFT);
                int nbits = (int) ((size + Page.PAGE_SIZE - 1) >>> Page.PAGE_SHIFT);
                synchronized (c.used) {
                    if (size <= 0 || c.used.get(start, start + nbits).cardinality() != nbits) {
                        throw KernelException.einval("%s: free of %#x + %d: not allocated", d.name(), virt, size);
                    }
                    c.used.clear(start, start + nbits);
                }
                return;
            }
        }
        throw KernelException.einval("%s: %#x is not its memory", d.name(), virt);
    }

    /** get_upstream_switch_port: pci_upstream_bridge twice from the first PCI device up the parent chain. */
    static PciDevice upstreamSwitchPort(DeviceNode n) {
        PciDevice pci = n.findParentPciDev();
        if (pci == null) {
            return null;
        }
        PciDevice up = pci.upstreamBridge();
        return up == null ? null : up.upstreamBridge();
    }

    @Override
    public Optional<P2pmemDevice> findCompat(List<DeviceNode> clients, List<String> log) {
        if (clients == null || clients.isEmpty()) {
            throw KernelException.einval("p2pmem_find_compat needs at least one DMA device");
        }
        for (Dev d : devices) {
            PciDevice p2pUp = upstreamSwitchPort(DeviceNode.of(d.parent));
            if (p2pUp == null) {
                log.add(d.name() + ": p2pmem is not behind a pci switch");
                continue;
            }
            boolean ok = true;
            for (DeviceNode c : clients) {
                PciDevice up = upstreamSwitchPort(c);
                if (up == null) {
                    log.add(d.name() + ": " + c.name() + " is not a pci device behind a switch");
                    ok = false;
                    break;
                }
                if (up != p2pUp) {
                    log.add(d.name() + ": " + c.name() + " does not reside on the same upstream bridge");
                    ok = false;
                    break;
                }
                log.add(d.name() + ": " + c.name() + " is compatible");
            }
            if (ok) {
                d.refs.incrementAndGet(); // class_find_device takes a reference
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    @Override
    public void put(P2pmemDevice p) {
        if (p == null) {
            return;
        }
        Dev d = (Dev) p;
        if (d.refs.decrementAndGet() < 0) {
            d.refs.incrementAndGet();
            throw KernelException.einval("%s: reference count underflow", d.name());
        }
        maybeRelease(d);
    }

    @Override
    public synchronized void unregister(P2pmemDevice p) {
        Dev d = dev(p);
        if (d.unregistered) {
            return;
        }
        LOG.info("{}: unregistered", d.name());
        d.unregistered = true;
        devices.remove(d);
        ida.clear(d.id);
        put(d); // the creator's reference
    }

    /**
     * The last put_device of an unregistered p2pmem: its devm actions kill and exit the percpu ref
     * and unmap the pages. The RFC's p2pmem_alloc took no reference, so memory still allocated is
     * unmapped under its users (p2pdma fixed this with a reference per allocation).
     */
    private void maybeRelease(Dev d) {
        if (!d.unregistered || d.refs.get() > 0 || d.released) {
            return;
        }
        d.released = true;
        long used = d.size() - d.available();
        if (used > 0) {
            LOG.warn("{}: released with {} bytes still allocated: the RFC held no reference for them, their pages "
                    + "are unmapped under their users", d.name(), used);
        }
        for (Chunk c : d.pool) {
            zone.memunmapPages(c.pg);
            claimed.remove(c.region);
        }
        d.pool.clear();
        d.parentRef.close(); // also when no region was ever added (a failed probe): put_device of the parent
    }

    @Override
    public List<P2pmemDevice> devices() {
        return List.copyOf(devices);
    }

    @Override
    public String stats(P2pmemDevice p) {
        Dev d = dev(p);
        return "total size: " + d.size() + "\navailable:  " + d.available() + "\n";
    }

    @Override
    public List<String> holders() {
        List<String> out = new ArrayList<>();
        for (Dev d : devices) {
            out.add(d.name() + " (parent " + d.parent.name() + ")");
        }
        return out;
    }

    @Deactivate
    void deactivate() {
        for (Dev d : List.copyOf(devices)) {
            unregister(d);
            if (d.refs.get() > 0) {
                LOG.warn("{}: module unloading while {} reference(s) from p2pmem_find_compat are held: revoked",
                        d.name(), d.refs.get());
                d.refs.set(0);
                maybeRelease(d);
            }
        }
    }

    private static String hex(long v) {
        return String.format("%#x", v);
    }
}
