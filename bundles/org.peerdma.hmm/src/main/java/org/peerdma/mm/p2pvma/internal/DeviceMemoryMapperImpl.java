package org.peerdma.mm.p2pvma.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dma.DmaDirection;
import org.peerdma.mm.p2pvma.DeviceMemoryMapper;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.Vma;
import org.peerdma.mm.vm.VmOps;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pDmaMapping;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.pci.Bar;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The exporting driver's side of the RFC. */
@Component(service = DeviceMemoryMapper.class)
public class DeviceMemoryMapperImpl implements DeviceMemoryMapper {
    private static final Logger LOG = LoggerFactory.getLogger("p2p-vma");
    static final long P = Vm.PAGE_SIZE;

    @Reference
    P2pMem p2pmem;

    private final Map<PciDevice, Long> mappedBytes = new ConcurrentHashMap<>();
    private final Map<String, P2pDmaMapping> peers = new ConcurrentHashMap<>();

    public DeviceMemoryMapperImpl() {
    }

    /** For tests outside OSGi. */
    public DeviceMemoryMapperImpl(P2pMem p2pmem) {
        this.p2pmem = p2pmem;
    }

    private static PciDevice pci(Object importer) {
        if (importer instanceof PciDevice p) {
            return p;
        }
        if (importer instanceof DeviceNode n) {
            return n.findParentPciDev();
        }
        return null;
    }

    /** CPU physical address of a provider page (its bus address minus the BAR's host-bridge offset). */
    private static long phys(PciDevice gpu, long bus) {
        for (Bar b : gpu.bars()) {
            if (!b.io() && b.size() > 0 && bus - b.busStart() >= 0 && bus - b.busStart() < b.size()) {
                return bus - b.busOffset();
            }
        }
        throw new IllegalStateException(gpu.name() + ": bus address " + Long.toHexString(bus) + " in no BAR");
    }

    @Override
    public long mmapP2pmem(Mm mm, PciDevice provider, long size) {
        if (size <= 0 || size % P != 0) {
            return -22;
        }
        if (!p2pmem.providers().contains(provider)) {
            return -19;
        }
        org.peerdma.p2pdma.P2pMapping m;
        try {
            m = p2pmem.mmapAllocate(provider, size, 0, true);
        } catch (org.peerdma.errno.KernelException e) {
            return e.returnValue();
        }
        try {
            // no fault handler: every page is inserted now; once the device's memory is gone a fault is SIGBUS
            AutoCloseable[] noted = new AutoCloseable[1];
            VmOps file = new VmOps() {
                @Override
                public int fault(Mm mm2, Vma v, long a, boolean w) {
                    return -14;
                }

                @Override
                public void close(Vma v) {
                    // the last piece of the mapping is gone: nothing left for the teardown to zap
                    if (noted[0] != null && mm.vmas().stream().noneMatch(o -> o != v && o.ops() == this)) {
                        try {
                            noted[0].close();
                        } catch (Exception ignored) {
                            // a list removal
                        }
                    }
                }
            };
            long addr = mm.mmapDevice(0, size, Vm.PROT_READ | Vm.PROT_WRITE, Vm.MAP_SHARED, file);
            if (addr < 0) {
                return addr;
            }
            Vma vma = mm.findVma(addr);
            for (int i = 0; i < m.pages().size(); i++) {
                int r = mm.insertPage(vma, addr + i * P, m.pages().get(i).pfn());
                if (r != 0) {
                    mm.munmap(addr, size);
                    return r;
                }
            }
            // the provider's teardown zaps this mapping's ptes (they hold the page references)
            noted[0] = p2pmem.addUserMapping(provider, () -> mm.unmapMappingRange(file, addr, size));
            if (noted[0] == null) {
                mm.munmap(addr, size);
                return -19;
            }
            return addr;
        } finally {
            m.close(); // put_page after vm_insert_page: the page tables hold the only references
        }
    }

    @Override
    public long mmap(Mm mm, PciDevice gpu, long size) {
        if (size <= 0 || size % P != 0) {
            return -22;
        }
        if (!p2pmem.providers().contains(gpu)) {
            return -19;
        }
        long virt = p2pmem.alloc(gpu, size);
        if (virt == 0) {
            return -12;
        }
        String tag = gpu.name() + "@" + Long.toHexString(virt);
        VmOps ops = new VmOps() {
            @Override
            public int fault(Mm m, Vma vma, long addr, boolean write) {
                long bus = p2pmem.virtToBus(gpu, virt + (addr - vma.start()));
                return m.insertPfn(vma, addr, phys(gpu, bus) >>> Vm.PAGE_SHIFT, true);
            }

            @Override
            public boolean hasP2p() {
                return true;
            }

            @Override
            public long p2pMap(Vma vma, Object importer, long start, long end, long[] pas, int index0, boolean write) {
                PciDevice client = pci(importer);
                if (client == null) {
                    return -22;
                }
                MapType t = p2pmem.mapType(gpu, client);
                if (t != MapType.BUS_ADDR && t != MapType.THRU_HOST_BRIDGE) {
                    LOG.info("{}: p2p_map for {} refused: p2pdma says {}", gpu.name(), client.name(), t);
                    return -121; // -EREMOTEIO: the exporter's policy
                }
                String key = tag + " " + client.name() + " " + Long.toHexString(start) + "-" + Long.toHexString(end);
                P2pDmaMapping m = peers.get(key);
                if (m == null) {
                    m = p2pmem.mapForDma(client, gpu, virt + (start - vma.start()), end - start,
                            write ? DmaDirection.BIDIRECTIONAL : DmaDirection.TO_DEVICE);
                    peers.put(key, m);
                }
                for (long a = start; a < end; a += P) {
                    pas[index0 + (int) ((a - start) / P)] = m.dmaAddress() + (a - start);
                }
                return 0;
            }

            @Override
            public long p2pUnmap(Vma vma, Object importer, long start, long end) {
                PciDevice client = pci(importer);
                long n = 0;
                for (String k : List.copyOf(peers.keySet())) {
                    if (k.startsWith(tag + " " + (client == null ? "" : client.name() + " "))) {
                        String[] r = k.substring(k.lastIndexOf(' ') + 1).split("-");
                        long s = Long.parseUnsignedLong(r[0], 16);
                        long e = Long.parseUnsignedLong(r[1], 16);
                        if (s < end && e > start) {
                            p2pmem.unmapForDma(peers.remove(k));
                            n += (e - s) / P;
                        }
                    }
                }
                return n;
            }

            @Override
            public void close(Vma vma) {
                for (String k : List.copyOf(peers.keySet())) {
                    if (k.startsWith(tag + " ")) { // an importer broke the contract: it still maps the memory
                        LOG.error("{}: {} still mapped by a peer at close: unmapping it now", gpu.name(), k);
                        p2pmem.unmapForDma(peers.remove(k));
                    }
                }
                p2pmem.free(gpu, virt, size);
                mappedBytes.merge(gpu, -size, Long::sum);
            }
        };
        long addr = mm.mmapSpecial(0, size, Vm.PROT_READ | Vm.PROT_WRITE, ops);
        if (addr < 0) {
            p2pmem.free(gpu, virt, size);
            return addr;
        }
        mappedBytes.merge(gpu, size, Long::sum);
        return addr;
    }

    @Override
    public List<String> peerMappings() {
        return new ArrayList<>(peers.keySet());
    }

    @Override
    public long mapped(PciDevice gpu) {
        return mappedBytes.getOrDefault(gpu, 0L);
    }
}
