package org.peerdma.p2pdma.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.PhysMemory;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.p2pdma.DeviceDma;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.pci.Bar;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;

/** The fabric's routing of device-issued memory requests, over the loaded machine. */
@Component(service = DeviceDma.class)
public class DeviceDmaImpl implements DeviceDma {
    static final int PAGE = Page.PAGE_SIZE;

    @Reference
    PciCore core;
    @Reference
    P2pdma p2pdma;
    @Reference
    DmaApi dma;
    @Reference
    PhysMemory ram;
    @Reference
    ZoneDevice zone;

    /** standalone - wired by hand for tests outside OSGi. */
    public static DeviceDmaImpl standalone(PciCore core, P2pdma p2pdma, DmaApi dma, PhysMemory ram, ZoneDevice zone) {
        DeviceDmaImpl d = new DeviceDmaImpl();
        d.core = core;
        d.p2pdma = p2pdma;
        d.dma = dma;
        d.ram = ram;
        d.zone = zone;
        return d;
    }

    /** One page-or-less piece of a transfer and the memory it reaches. */
    private record Piece(Route route, ByteBuffer mem, int len) {
    }

    @Override
    public Route route(PciDevice initiator, long addr) {
        return resolve(initiator, addr, 1, new HashMap<>()).route;
    }

    @Override
    public void read(PciDevice initiator, long addr, ByteBuffer dst) {
        transfer(initiator, addr, dst, false);
    }

    @Override
    public void write(PciDevice initiator, long addr, ByteBuffer src) {
        transfer(initiator, addr, src, true);
    }

    private void transfer(PciDevice initiator, long addr, ByteBuffer buf, boolean write) {
        int n = buf.remaining();
        Map<PciDevice, Boolean> peerCache = new HashMap<>();
        List<Piece> pieces = new ArrayList<>();
        long at = addr;
        long end = addr + n;
        while (at < end) {
            int k = (int) Math.min(end - at, PAGE - Math.floorMod(at, PAGE));
            pieces.add(resolve(initiator, at, k, peerCache));
            at += k;
        }
        for (Piece p : pieces) {
            int k = p.len;
            if (p.mem == null) {
                // RAM: the RAM map moves the bytes (its regions may be released meanwhile: EFAULT)
                ByteBuffer part = buf.slice().limit(k);
                if (write) {
                    ram.write(p.route.phys(), part);
                } else {
                    ram.read(p.route.phys(), part);
                }
                buf.position(buf.position() + part.limit());
            } else if (write) {
                p.mem.put(buf.slice().limit(k));
                buf.position(buf.position() + k);
            } else {
                buf.put(p.mem);
            }
        }
    }

    /** Route {@code len} bytes at {@code addr} (within one page); mem is set for BAR memory. */
    private Piece resolve(PciDevice initiator, long addr, int len, Map<PciDevice, Boolean> peerCache) {
        if (initiator == null) {
            throw KernelException.einval("no initiating device");
        }
        if (initiator.isRemoved()) {
            throw KernelException.enodev("%s was removed: it issues no DMA", initiator.name());
        }
        // 1. the switches: a peer's BAR decoded below the root complex
        for (PciDevice peer : core.machine().devices()) {
            if (peer == initiator || peer.isRemoved()) {
                continue;
            }
            for (Bar b : peer.bars()) {
                if (b.io() || b.unassigned() || b.size() == 0) {
                    continue;
                }
                long off = addr - b.busStart();
                if (off < 0 || off >= b.size()) {
                    continue;
                }
                boolean viaSwitch = peerCache.computeIfAbsent(peer,
                        p -> p2pdma.check(p, initiator, null).mapType() == MapType.BUS_ADDR);
                if (viaSwitch) {
                    long phys = b.start() + off;
                    return new Piece(new Route(Path.PEER, peer, phys, String.format(
                            "peer-to-peer through the switch to %s BAR %d (bus %#x = CPU %#x)", peer.name(), b.index(),
                            addr, phys)), barMemory(peer, phys, len), len);
                }
            }
        }
        // 2. the root complex: the device's DMA translation
        long phys = dma.dmaToPhys(initiator, addr);
        String how = dma.opsName(initiator);
        String owner = ram.ownerOf(phys);
        if (owner != null) {
            return new Piece(new Route(Path.RAM, null, phys, String.format("RAM of %s at %#x (through %s)", owner, phys,
                    how)), null, len);
        }
        for (PciDevice peer : core.machine().devices()) {
            for (Bar b : peer.bars()) {
                if (!b.io() && !b.unassigned() && b.size() > 0 && phys >= b.start() && phys - b.start() < b.size()) {
                    return new Piece(new Route(Path.HOST_BRIDGE_MMIO, peer, phys, String.format(
                            "%s BAR %d at %#x through the host bridge (through %s)", peer.name(), b.index(), phys, how)),
                            barMemory(peer, phys, len), len);
                }
            }
        }
        throw new KernelException(Errno.EFAULT, String.format(
                "%s: DMA to %#x reached physical address %#x (through %s): no RAM and no BAR there", initiator.name(),
                addr, phys, how));
    }

    /** The ZONE_DEVICE page behind a BAR address: only p2pdma (or coherent) memory has one. */
    private ByteBuffer barMemory(PciDevice dev, long phys, int len) {
        Page page;
        try {
            page = zone.pfnToPage(phys >>> Page.PAGE_SHIFT);
        } catch (KernelException e) {
            throw new KernelException(Errno.EFAULT, String.format(
                    "%#x is in a BAR of %s that is not p2pdma memory: the model has no memory behind it", phys,
                    dev.name()));
        }
        if (page.pgmap().type == MemoryType.DEVICE_PRIVATE) {
            throw new KernelException(Errno.EFAULT, String.format("%#x is a device-private page: not addressable", phys));
        }
        int off = (int) (phys & (PAGE - 1));
        return page.data().position(off).limit(off + len);
    }
}
