package org.peerdma.mm.p2pvma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peerdma.mm.vm.Vm.*;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.mm.vm.Hmm;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.MmuInterval;
import org.peerdma.mm.vm.Vma;
import org.peerdma.mm.vm.internal.HmmImpl;
import org.peerdma.mm.vm.internal.ProcessesImpl;
import org.peerdma.p2pdma.internal.P2pdmaImpl;
import org.peerdma.pci.Bar;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.internal.TopologyIOImpl;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.internal.TestCmdline;

/**
 * The 2019 RFC on the what-if sample machine (ACS redirect off above the NIC 05:00.0, socket 1 on a
 * non-whitelisted root port): a process maps the A100's memory; the near NIC gets bus addresses of
 * it through the vma, the far NIC is refused by the exporter; munmap invalidates the NIC's mapping
 * before the device memory is freed.
 */
class P2pThroughVmaTest {
    static final long P = PAGE_SIZE;
    static final long MB = 1 << 20;

    private PciCoreImpl pci;
    private P2pdmaImpl p2p;
    private DeviceMemoryMapperImpl mapper;
    private Mm mm;
    private PciDevice gpu;
    private final Hmm hmm = new HmmImpl();

    @BeforeEach
    void boot() {
        pci = TestCmdline.core("disable_acs_redir=0000:02:08.0");
        MachineDTO m = new TopologyIOImpl().sample();
        m.devices.stream().filter(d -> d.bdf.equals("0000:80:00.0")).findFirst().orElseThrow().device = 0x6f02;
        pci.load(m);
        ZoneDevice zone = TestZone.zone();
        p2p = P2pdmaImpl.standalone(pci, zone, TestDma.api(), "newest", 200);
        gpu = pci.get(Bdf.parse("03:00.0"));
        p2p.addResource(gpu, 1, 64 * MB, 0);
        mapper = new DeviceMemoryMapperImpl(p2p);
        mm = new ProcessesImpl(TestDma.ram(), zone).create("app");
    }

    @AfterEach
    void invariants() {
        mm.mmput();
        assertThat(mapper.peerMappings()).isEmpty();
        assertThat(p2p.info(gpu).available()).as("the provider's pool is whole again").isEqualTo(64 * MB);
    }

    /** An RDMA-NIC-like importer with its own page table of the process, kept coherent by a notifier. */
    final class Nic {
        final PciDevice dev;
        final MmuInterval sub;
        final long[] pas = new long[16];
        final List<String> log;

        Nic(String bdf, long addr, long len, List<String> log) {
            this.dev = pci.get(Bdf.parse(bdf));
            this.log = log;
            this.sub = mm.insertNotifier(addr, len, (s, start, end, ev, blockable, cur) -> {
                s.setSeq(cur);
                Vma v = mm.findVma(start);
                if (v != null && v.ops() != null && v.ops().hasP2p()) {
                    v.ops().p2pUnmap(v, dev, start, end); // the contract: drop the mapping on any invalidation
                    log.add(dev.name() + " unmapped (" + ev + "), device memory still mapped: " + mapper.mapped(gpu));
                }
                return true;
            });
        }

        long[] map(long addr, int n) {
            Hmm.Range r = new Hmm.Range();
            r.notifier = sub;
            r.start = addr;
            r.end = addr + n * P;
            r.hmmPfns = new long[n];
            r.defaultFlags = HMM_PFN_REQ_FAULT;
            r.device = dev;
            r.pas = pas;
            while (true) {
                r.notifierSeq = sub.readBegin();
                mm.mmapLock().readLock().lock();
                try {
                    int ret = hmm.rangeFault(mm, r);
                    if (ret == -16) {
                        continue;
                    }
                    assertThat(ret).isZero();
                    return r.hmmPfns;
                } finally {
                    mm.mmapLock().readLock().unlock();
                }
            }
        }
    }

    @Test
    void theNearNicGetsBusAddressesTheFarOneIsRefusedAndMunmapInvalidatesBeforeTheMemoryGoes() {
        long a = mapper.mmap(mm, gpu, 16 * P);
        assertThat(a).isPositive();
        assertThat(p2p.info(gpu).available()).isEqualTo(64 * MB - 16 * P);
        assertThat(mm.handleFault(a, false)).as("the CPU fault inserts the BAR's pfn").isZero();
        assertThat(mm.pte(a).special()).isTrue();
        List<String> log = new CopyOnWriteArrayList<>();
        Nic near = new Nic("05:00.0", a, 16 * P, log);
        Nic far = new Nic("82:00.0", a, 16 * P, log);
        long[] got = near.map(a, 16);
        Bar bar1 = gpu.bar(1).orElseThrow();
        for (int i = 0; i < 16; i++) {
            assertThat(got[i] & (HMM_PFN_VALID | HMM_PFN_P2PDMA)).isEqualTo(HMM_PFN_VALID | HMM_PFN_P2PDMA);
            assertThat(near.pas[i]).as("a PCI bus address in the GPU's BAR 1")
                    .isBetween(bar1.busStart(), bar1.busStart() + bar1.size() - 1);
        }
        assertThat(near.pas[1] - near.pas[0]).isEqualTo(P);
        assertThat(near.map(a, 16)[3]).as("mapping again succeeds (the contract)").isEqualTo(got[3]);
        assertThat(mapper.peerMappings()).hasSize(1);
        long[] refused = far.map(a, 16);
        assertThat(refused).as("the exporter refuses the far NIC: error entries").containsOnly(HMM_PFN_ERROR);
        // the process unmaps: the NIC drops its mapping first, then the memory goes back to the pool
        assertThat(mm.munmap(a, 16 * P)).isZero();
        assertThat(log).contains("0000:05:00.0 unmapped (unmap), device memory still mapped: " + 16 * P);
        assertThat(mapper.peerMappings()).isEmpty();
        assertThat(mapper.mapped(gpu)).isZero();
        near.sub.remove();
        far.sub.remove();
    }

    @Test
    void refusedMappingsAndAnEmptyPool() {
        assertThat(mapper.mmap(mm, gpu, 100)).isEqualTo(-22);
        assertThat(mapper.mmap(mm, pci.get(Bdf.parse("05:00.0")), 16 * P)).as("no p2pdma memory").isEqualTo(-19);
        assertThat(mapper.mmap(mm, gpu, 128 * MB)).as("more than the pool").isEqualTo(-12);
    }
}
