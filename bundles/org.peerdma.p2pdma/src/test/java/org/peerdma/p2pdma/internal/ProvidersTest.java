package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.Page;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pMapping;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.peerdma.pci.internal.PciCoreImpl;

class ProvidersTest {
    private static final long BAR = 0x3a100000000L;
    private PciCoreImpl core;
    private ZoneDevice zone;
    private P2pdmaImpl p2p;

    static P2pdmaConfig config(String v) {
        return new P2pdmaConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return P2pdmaConfig.class;
            }

            @Override
            public String kernel__version() {
                return v;
            }

            @Override
            public int release__wait__ms() {
                return 200;
            }
        };
    }

    static BarDTO bar(int i, long start, long size, boolean io) {
        BarDTO b = new BarDTO();
        b.index = i;
        b.start = start;
        b.size = size;
        b.io = io;
        b.prefetchable = !io;
        b.mem64 = !io;
        return b;
    }

    /** switches(): NVMe-like providers at 03:00.0 (BAR 2, 1 MiB) and 04:00.0 (BAR 2, 1 MiB), clients elsewhere. */
    @BeforeEach
    void setUp() {
        MachineDTO m = Machines.switches(0x8086, 0x2020, 0);
        m.devices.stream().filter(d -> d.bdf.equals("0000:03:00.0")).findFirst().orElseThrow().bars
                .addAll(List.of(bar(0, 0xc0000000L, 0x4000, false), bar(2, BAR, 1 << 20, false),
                        bar(4, 0xe000, 0x80, true)));
        m.devices.stream().filter(d -> d.bdf.equals("0000:04:00.0")).findFirst().orElseThrow().bars
                .add(bar(2, BAR + (16 << 20), 1 << 20, false));
        // the host bridge window offsets bus addresses by -0x3000_0000_0000
        WindowDTO w = new WindowDTO();
        w.cpuStart = 0x38000000000L;
        w.size = 0x10000000000L;
        w.offset = 0x30000000000L;
        m.hostBridges.get(0).windows.add(w);
        core = new PciCoreImpl();
        core.load(m);
        zone = TestZone.zone();
        p2p = new P2pdmaImpl();
        p2p.core = core;
        p2p.zone = zone;
        p2p.configure(config("newest"));
    }

    private PciDevice d(String bdf) {
        return core.get(Bdf.parse(bdf));
    }

    private static Errno errno(Runnable r) {
        try {
            r.run();
        } catch (KernelException ex) {
            return ex.errno();
        }
        throw new AssertionError("no error");
    }

    /**
     * Many threads allocating and freeing small buffers: a free that returned the range to the pool before it
     * dropped the pagemap reference named after the address let another thread take both over, and the
     * first free's put then removed the second owner's reference ("holds no reference" at its own free).
     */
    @Test
    void concurrentAllocAndFreeKeepEveryReferenceWithItsBuffer() throws Exception {
        PciDevice nvme = d("03:00.0");
        p2p.addResource(nvme, 2, 0, 0);
        List<Throwable> failed = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                try {
                    for (int i = 0; i < 20_000; i++) {
                        long v = p2p.alloc(nvme, 4096);
                        if (v != 0) {
                            p2p.free(nvme, v, 4096);
                        }
                    }
                } catch (Throwable ex) {
                    failed.add(ex);
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join(60_000);
        }
        assertThat(threads).noneMatch(Thread::isAlive);
        assertThat(failed).isEmpty();
        assertThat(p2p.info(nvme).available()).isEqualTo(1 << 20);
        assertThat(zone.holders(zone.pagemaps().get(0))).isEmpty();
    }

    @Test
    void addResourceArgumentChecks() {
        PciDevice nvme = d("03:00.0");
        assertThat(errno(() -> p2p.addResource(nvme, 4, 0, 0))).isEqualTo(Errno.EINVAL); // I/O BAR
        assertThat(errno(() -> p2p.addResource(nvme, 5, 0, 0))).isEqualTo(Errno.EINVAL); // no such BAR
        assertThat(errno(() -> p2p.addResource(nvme, 2, 0, 1 << 20))).isEqualTo(Errno.EINVAL); // offset >= len
        assertThat(errno(() -> p2p.addResource(nvme, 2, 1 << 20, 4096))).isEqualTo(Errno.EINVAL); // past the end
        assertThat(p2p.providers()).isEmpty();
        assertThat(core.references()).isEmpty();
        p2p.addResource(nvme, 2, 0, 0); // size 0: rest of the BAR
        assertThat(p2p.info(nvme).size()).isEqualTo(1 << 20);
        assertThat(p2p.info(nvme).available()).isEqualTo(1 << 20);
        assertThat(p2p.info(nvme).published()).isFalse();
        assertThat(core.references()).containsExactly("p2pdma provider -> 0000:03:00.0");
        // the same range again conflicts in ZONE_DEVICE
        assertThat(errno(() -> p2p.addResource(nvme, 2, 0, 0))).isEqualTo(Errno.ENOMEM);
        assertThat(p2p.info(nvme).size()).isEqualTo(1 << 20);
        assertThat(errno(() -> p2p.info(d("04:00.0")))).isEqualTo(Errno.ENOENT);
    }

    @Test
    void allocRoundsToPagesFirstFitAndVirtToBusUsesTheBusOffset() {
        PciDevice nvme = d("03:00.0");
        assertThat(p2p.alloc(nvme, 4096)).isZero(); // no p2pdma yet: NULL
        p2p.addResource(nvme, 2, 0, 0);
        long a = p2p.alloc(nvme, 100);
        assertThat(p2p.info(nvme).available()).isEqualTo((1 << 20) - 4096);
        long b = p2p.alloc(nvme, 4097);
        assertThat(b - a).isEqualTo(4096);
        assertThat(p2p.info(nvme).available()).isEqualTo((1 << 20) - 3 * 4096);
        assertThat(p2p.virtToBus(nvme, a)).isEqualTo(BAR - 0x30000000000L);
        assertThat(p2p.virtToBus(nvme, b)).isEqualTo(BAR - 0x30000000000L + 4096);
        assertThat(p2p.virtToBus(nvme, 0)).isZero();
        p2p.free(nvme, a, 100);
        assertThat(p2p.alloc(nvme, 4096)).isEqualTo(a); // first fit reuses the hole
        assertThat(p2p.alloc(nvme, 2 << 20)).isZero();
        assertThat(errno(() -> p2p.free(nvme, a + (512 << 10), 4096))).isEqualTo(Errno.EINVAL);
        var sgl = p2p.allocSgl(nvme, 8192).orElseThrow();
        assertThat(sgl.nents()).isEqualTo(1);
        p2p.freeSgl(nvme, sgl);
        assertThat(p2p.allocSgl(nvme, 4 << 20)).isEmpty();
    }

    @Test
    void onlyTheExactAllocationCanBeFreed() {
        PciDevice nvme = d("03:00.0");
        p2p.addResource(nvme, 2, 0, 0);
        long a = p2p.alloc(nvme, 8192);
        long b = p2p.alloc(nvme, 8192);
        assertThat(b).isEqualTo(a + 8192);
        long avail = p2p.info(nvme).available();
        // a range over a live neighbour, a page inside a live allocation, half of one: refused, nothing returned
        assertThat(errno(() -> p2p.free(nvme, a, 16384))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> p2p.free(nvme, a + 4096, 4096))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> p2p.free(nvme, a, 4096))).isEqualTo(Errno.EINVAL);
        assertThat(p2p.info(nvme).available()).isEqualTo(avail);
        // the next 16K allocation does not land on the live second buffer
        long c = p2p.alloc(nvme, 16384);
        assertThat(c).isGreaterThanOrEqualTo(b + 8192);
        p2p.free(nvme, a, 8192);
        p2p.free(nvme, b, 8192);
        p2p.free(nvme, c, 16384);
        assertThat(p2p.info(nvme).available()).isEqualTo(p2p.info(nvme).size());
        p2p.release(nvme);
    }

    @Test
    void findManyPicksRandomlyAmongTheClosestPublished() {
        p2p.addResource(d("03:00.0"), 2, 0, 0);
        p2p.addResource(d("04:00.0"), 2, 0, 0);
        DeviceNode client = DeviceNode.of(d("07:00.0"));
        assertThat(p2p.findMany(List.of(client), "t")).isEmpty(); // nothing published
        p2p.publish(d("03:00.0"), true);
        p2p.publish(d("04:00.0"), true);
        Set<Bdf> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            try (PciDeviceRef r = p2p.findMany(List.of(client), "finder").orElseThrow()) {
                seen.add(r.device().bdf());
                assertThat(core.references()).contains("finder -> " + r.device().name());
            }
        }
        assertThat(seen).containsExactlyInAnyOrder(Bdf.parse("03:00.0"), Bdf.parse("04:00.0"));
        // a closer provider wins alone: 03:00.1 is 2 hops from 03:00.0, 4 from 04:00.0
        DeviceNode sibling = DeviceNode.of(d("03:00.1"));
        for (int i = 0; i < 20; i++) {
            try (PciDeviceRef r = p2p.findMany(List.of(sibling), "f").orElseThrow()) {
                assertThat(r.device().bdf()).isEqualTo(Bdf.parse("03:00.0"));
            }
        }
        assertThat(p2p.findMany(List.of(DeviceNode.platform("not-pci", null)), "f")).isEmpty();
    }

    @Test
    void allocateMmapRules() {
        PciDevice nvme = d("03:00.0");
        assertThat(errno(() -> p2p.mmapAllocate(nvme, 4096, 0, true))).isEqualTo(Errno.ENODEV);
        p2p.addResource(nvme, 2, 0, 0);
        assertThatThrownBy(() -> p2p.mmapAllocate(nvme, 4096, 0, false)).hasMessageContaining("attempted private mapping");
        assertThat(errno(() -> p2p.mmapAllocate(nvme, 4096, 1, true))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> p2p.mmapAllocate(nvme, 2 << 20, 0, true))).isEqualTo(Errno.ENOMEM);
        P2pMapping map = p2p.mmapAllocate(nvme, 3 * 4096, 0, true);
        assertThat(map.pages()).hasSize(3).allMatch(p -> p.refcount() == 1);
        assertThat(p2p.info(nvme).available()).isEqualTo((1 << 20) - 3 * 4096);
        // the mapping is real memory: bytes written through one page object read back through the pool's page
        map.pages().get(1).data().putInt(0, 0xcafe);
        assertThat(p2p.page(nvme, map.virt() + 4096).data().getInt(0)).isEqualTo(0xcafe);
        Page extra = map.pages().get(0);
        extra.get("dma-engine");
        map.close();
        assertThat(p2p.info(nvme).available()).isEqualTo((1 << 20) - 4096); // one page still held
        extra.put("dma-engine");
        assertThat(p2p.info(nvme).available()).isEqualTo(1 << 20);
        map.close();
    }

    @Test
    void mapTypeCacheKeyedPerClientAndDroppedOnChange() {
        PciDevice nvme = d("03:00.0");
        assertThat(p2p.mapType(nvme, d("04:00.0"))).isEqualTo(MapType.NOT_SUPPORTED); // not a provider
        p2p.addResource(nvme, 2, 0, 0);
        assertThat(p2p.mapType(nvme, d("04:00.0"))).isEqualTo(MapType.BUS_ADDR);
        core.setAcsCtrl(Bdf.parse("02:01.0"), Acs.RR);
        assertThat(p2p.mapType(nvme, d("04:00.0"))).isEqualTo(MapType.THRU_HOST_BRIDGE);
        // v5.x returns a cache miss as UNKNOWN; distance fills the cache
        p2p.configure(config("v5.x"));
        assertThat(p2p.mapType(nvme, d("07:00.0"))).isEqualTo(MapType.UNKNOWN);
        p2p.distanceMany(nvme, List.of(DeviceNode.of(d("07:00.0"))), false, new java.util.ArrayList<>());
        assertThat(p2p.mapType(nvme, d("07:00.0"))).isEqualTo(MapType.BUS_ADDR);
    }

    @Test
    void releaseRefusesNewAllocationsRevokesMappingsAndWaitsForKernelUsers() {
        PciDevice nvme = d("03:00.0");
        p2p.addResource(nvme, 2, 0, 0);
        P2pMapping user = p2p.mmapAllocate(nvme, 8192, 0, true);
        long kernelMem = p2p.alloc(nvme, 4096);
        assertThat(p2p.holders()).containsExactly("0000:03:00.0: 12288 bytes of p2pmem allocated");
        var pg = zone.pagemaps().get(0);
        p2p.release(nvme); // waits release_wait_ms for the kernel allocation, then leaves it to finish
        assertThat(user.pages()).allMatch(p -> p.refcount() == 0);
        assertThat(p2p.alloc(nvme, 4096)).isZero();
        assertThat(p2p.providers()).isEmpty();
        assertThat(zone.isDying(pg)).isTrue();
        assertThat(zone.holders(pg)).containsExactly(
                String.format("pci_alloc_p2pmem x1 (pagemap reference; in the pool: %#x+4096)", kernelMem));
        assertThat(core.references()).isEmpty();
        p2p.free(nvme, kernelMem, 4096); // the late driver frees its memory into the dying provider
        assertThat(zone.pagemaps()).isEmpty();
    }

    @Test
    void mappingP2pMemoryForAClientByMapType() {
        PciDevice nvme = d("03:00.0");
        p2p.addResource(nvme, 2, 0, 0);
        long virt = p2p.alloc(nvme, 8192);
        long bus = p2p.virtToBus(nvme, virt);
        long cpu = org.peerdma.mm.ZoneDevice.pa(virt);
        assertThat(bus).isEqualTo(cpu - 0x30000000000L);
        // BUS_ADDR: the sibling function DMAs to the PCI bus address, nothing to unmap
        var m = p2p.mapForDma(d("03:00.1"), nvme, virt, 8192, org.peerdma.dma.DmaDirection.TO_DEVICE);
        assertThat(m.type()).isEqualTo(MapType.BUS_ADDR);
        assertThat(m.dmaAddress()).isEqualTo(bus);
        assertThat(m.viaDmaApi()).isNull();
        // the pre-2021 kernels subtracted the bus offset instead (cpu - (bus - cpu))
        p2p.configure(config("v5.x"));
        p2p.distanceMany(nvme, List.of(DeviceNode.of(d("03:00.1"))), false, new java.util.ArrayList<>());
        assertThat(p2p.mapForDma(d("03:00.1"), nvme, virt, 8192, org.peerdma.dma.DmaDirection.TO_DEVICE).dmaAddress())
                .isEqualTo(cpu + 0x30000000000L);
        // v5.1x: a pair whose distance was never asked has no cached type: mapping fails
        assertThat(errno(() -> p2p.mapForDma(d("07:00.0"), nvme, virt, 4096, org.peerdma.dma.DmaDirection.TO_DEVICE)))
                .isEqualTo(Errno.EREMOTEIO);
        p2p.configure(config("newest"));
        // THRU_HOST_BRIDGE: through the DMA API, which maps the BAR's CPU address
        core.setAcsCtrl(Bdf.parse("02:01.0"), Acs.RR);
        assertThat(errno(() -> p2p.mapForDma(d("04:00.0"), nvme, virt, 4096, org.peerdma.dma.DmaDirection.TO_DEVICE)))
                .isEqualTo(Errno.ENODEV); // no DMA API loaded
        p2p.dmaApi = org.peerdma.dma.internal.TestDma.api();
        var thb = p2p.mapForDma(d("04:00.0"), nvme, virt, 4096, org.peerdma.dma.DmaDirection.TO_DEVICE);
        assertThat(thb.type()).isEqualTo(MapType.THRU_HOST_BRIDGE);
        assertThat(thb.dmaAddress()).isEqualTo(org.peerdma.dma.internal.TestDma.IOVA_BASE + cpu);
        assertThat(p2p.dmaApi.mappings(d("04:00.0"))).hasSize(1);
        p2p.unmapForDma(thb);
        assertThat(p2p.dmaApi.mappings(d("04:00.0"))).isEmpty();
        // NOT_SUPPORTED: -EREMOTEIO, as dma_map_sgtable reports it
        p2p.configure(config("v4.20"));
        assertThat(errno(() -> p2p.mapForDma(d("04:00.0"), nvme, virt, 4096, org.peerdma.dma.DmaDirection.TO_DEVICE)))
                .isEqualTo(Errno.EREMOTEIO);
        assertThat(errno(() -> p2p.mapForDma(d("04:00.0"), nvme, virt + (2 << 20), 4096,
                org.peerdma.dma.DmaDirection.TO_DEVICE))).isEqualTo(Errno.EFAULT);
    }

    @Test
    void hasP2pmemAndMapTypeValuesPerVersion() {
        PciDevice nvme = d("03:00.0");
        assertThat(p2p.hasP2pmem(nvme)).isFalse();
        p2p.addResource(nvme, 2, 0, 0);
        assertThat(p2p.hasP2pmem(nvme)).isFalse(); // not published
        p2p.publish(nvme, true);
        assertThat(p2p.hasP2pmem(nvme)).isTrue();
        p2p.publish(d("04:00.0"), true); // no p2pdma: a no-op
        assertThat(p2p.hasP2pmem(d("04:00.0"))).isFalse();
        // newest: UNKNOWN=0, NONE, NOT_SUPPORTED, BUS_ADDR, THRU_HOST_BRIDGE; v5.1x had no NONE
        assertThat(MapType.THRU_HOST_BRIDGE.value(org.peerdma.p2pdma.KernelVersion.NEWEST)).isEqualTo(4);
        assertThat(MapType.THRU_HOST_BRIDGE.value(org.peerdma.p2pdma.KernelVersion.V5_X)).isEqualTo(3);
        assertThat(MapType.NOT_SUPPORTED.value(org.peerdma.p2pdma.KernelVersion.V5_X)).isEqualTo(1);
        assertThatThrownBy(() -> MapType.NONE.value(org.peerdma.p2pdma.KernelVersion.V5_X))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(MapType.BUS_ADDR.kernelName()).isEqualTo("PCI_P2PDMA_MAP_BUS_ADDR");
    }

    @Test
    void enableStoreParsesAddressesBeforeBooleans() {
        PciDevice nvme = d("03:00.0");
        p2p.addResource(nvme, 2, 0, 0);
        p2p.publish(nvme, true);
        assertThat(p2p.enableStore("0000:03:00.0\n").device()).isSameAs(nvme);
        assertThat(p2p.enableStore("0000:03:00.0").show()).isEqualTo("0000:03:00.0\n");
        assertThatThrownBy(() -> p2p.enableStore("0000:04:00.0")).hasMessageContaining("has no peer-to-peer memory");
        assertThatThrownBy(() -> p2p.enableStore("0000:99:00.0")).hasMessageContaining("No such PCI device");
        assertThatThrownBy(() -> p2p.enableStore("03:00.0")).hasMessageContaining("No such PCI device");
        assertThat(p2p.enableStore("1").show()).isEqualTo("1\n");
        assertThat(p2p.enableStore("1\n").use()).isTrue();
        assertThat(p2p.enableStore("0").show()).isEqualTo("0\n");
        assertThat(p2p.enableStore("yes").use()).isTrue();
        assertThat(p2p.enableStore("off").use()).isFalse();
        assertThat(p2p.enableStore("on").use()).isTrue();
        assertThatThrownBy(() -> p2p.enableStore("01")).hasMessageContaining("No such PCI device");
        assertThatThrownBy(() -> p2p.enableStore("banana")).isInstanceOf(KernelException.class);
        assertThatThrownBy(() -> p2p.enableStore("ox")).isInstanceOf(KernelException.class);
    }

    @Test
    void removingTheDeviceReleasesTheProvider() {
        PciDevice nvme = d("03:00.0");
        p2p.addResource(nvme, 2, 0, 0);
        ProviderRemoval removal = new ProviderRemoval();
        removal.p2pmem = p2p;
        org.peerdma.pci.internal.TestCmdline.addNotifier(core, removal);
        core.remove(Bdf.parse("02:00.0"));
        assertThat(p2p.providers()).isEmpty();
        assertThat(zone.pagemaps()).isEmpty();
        assertThat(core.references()).isEmpty();
    }
}
