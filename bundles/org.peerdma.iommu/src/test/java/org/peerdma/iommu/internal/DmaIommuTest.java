package org.peerdma.iommu.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.iommu.internal.Machines.ISOLATED;
import static org.peerdma.iommu.internal.Machines.get;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.iommu.Iommu;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.internal.PciCoreImpl;

/** The IOMMU DMA ops on real machines: IOVA placement, translation, sg merging, unmap checks, concurrency. */
class DmaIommuTest {
    private static final long MASK64 = -1L;
    private static final long MASK32 = 0xffff_ffffL;
    private static final DmaDirection BIDI = DmaDirection.BIDIRECTIONAL;

    private PciCoreImpl core;
    private IommuImpl iommu;
    private PciDevice gpu;
    private PciDevice nvme;

    @BeforeEach
    void setUp() {
        core = Machines.load(Machines.switchBox(ISOLATED, ISOLATED, ISOLATED));
        iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        gpu = get(core, "03:00.0");
        nvme = get(core, "04:00.0");
    }

    private static Errno errno(Runnable r) {
        try {
            r.run();
        } catch (KernelException ex) {
            return ex.errno();
        }
        throw new AssertionError("no error");
    }

    @Test
    void pagesAreMappedTopDownBelow4GiBAndTranslateBackToTheirPhysicalAddress() {
        assertThat(iommu.translates(nvme)).isTrue();
        long a = iommu.mapPage(nvme, 0x1_2345_6678L, 0x100, BIDI, MASK64);
        long b = iommu.mapPage(nvme, 0x2_0000_0000L, 0x1000, BIDI, MASK64);
        assertThat(a).isEqualTo(0xffff_f678L); // iova + (phys & ~PAGE_MASK), first page below 4 GiB
        assertThat(b).isEqualTo(0xffff_e000L);
        assertThat(iommu.translate(nvme, a)).isEqualTo(0x1_2345_6678L);
        assertThat(iommu.translate(nvme, a + 0x10)).isEqualTo(0x1_2345_6688L);
        assertThat(iommu.translate(nvme, b + 0xfff)).isEqualTo(0x2_0000_0fffL);
        assertThat(iommu.translate(nvme, 0xffff_d000L)).isEqualTo(-1);
        assertThat(iommu.iovaInUse(nvme)).isEqualTo(0x2000);
        // another group has its own IOVA space
        assertThat(iommu.mapPage(gpu, 0x3000, 0x1000, BIDI, MASK64)).isEqualTo(0xffff_f000L);
        assertThat(iommu.translate(nvme, 0xffff_f000L)).isEqualTo(0x1_2345_6000L);
        assertThat(iommu.translate(gpu, 0xffff_f000L)).isEqualTo(0x3000);
        assertThat(iommu.holders()).containsExactly("iommu: 0000:03:00.0 (1 IOVA mapping in domain 5)",
                "iommu: 0000:04:00.0 (2 IOVA mappings in domain 6)");
        iommu.unmapPage(nvme, a, 0x100, BIDI);
        iommu.unmapPage(nvme, b, 0x1000, BIDI);
        assertThat(iommu.iovaInUse(nvme)).isZero();
        assertThat(iommu.translate(nvme, a)).isEqualTo(-1);
    }

    @Test
    void smallRangesAreRoundedToAPowerOfTwoAndSizeAligned() {
        long a = iommu.mapPage(nvme, 0x10_0000, 3 * 4096, BIDI, MASK64);
        assertThat(a).isEqualTo(0xffff_c000L); // 4 pages, aligned to 4 pages
        assertThat(iommu.iovaInUse(nvme)).isEqualTo(4 * 4096);
        assertThat(iommu.translate(nvme, a + 3 * 4096)).isEqualTo(-1); // the rounding is not mapped
        long b = iommu.mapPage(nvme, 0x20_0000, 100 * 4096, BIDI, MASK64); // >= 32 pages: not rounded, 128-aligned
        assertThat(b).isEqualTo(0xfff8_0000L);
        assertThat(iommu.iovaInUse(nvme)).isEqualTo(104 * 4096);
    }

    @Test
    void iovasStayOutOfHostBridgeWindowsAndTheMsiDoorbells() {
        var m = Machines.switchBox(ISOLATED, ISOLATED, ISOLATED);
        m.hostBridges.get(0).windows.add(Machines.window(0xff00_0000L, 0x100_0000L));
        PciCoreImpl c = Machines.load(m);
        IommuImpl i = Machines.iommu(c, Iommu.MODE_TRANSLATED, 48);
        long a = i.mapPage(get(c, "04:00.0"), 0x5000, 4096, BIDI, MASK64);
        assertThat(a).isEqualTo(0xfeff_f000L); // below the window at 0xff000000, above the MSI range
        long big = i.mapPage(get(c, "04:00.0"), 0x4000_0000L, 0x10_0000L, BIDI, MASK64); // 1 MiB, 1 MiB aligned
        assertThat(big).isEqualTo(0xfed0_0000L); // 0xfee00000-0xfeefffff is reserved
    }

    @Test
    void below4GiBIsTriedFirstThenTheFullMaskAndTheDeviceStaysAbove() {
        long twoGiB = 1L << 31;
        // the 32-bit space cannot hold 2 GiB aligned to 2 GiB (window at 0xe0000000, MSI below 4 GiB)
        long a = iommu.mapPage(nvme, 0x1_0000_0000L, twoGiB, BIDI, MASK64);
        assertThat(a).isEqualTo((1L << 48) - twoGiB);
        assertThat(iommu.translate(nvme, a + 0x1234)).isEqualTo(0x1_0000_1234L);
        // pci_32bit_workaround is now off for this device: small maps go above 4 GiB too
        long b = iommu.mapPage(nvme, 0x7000, 4096, BIDI, MASK64);
        assertThat(b).isEqualTo((1L << 48) - twoGiB - 4096);
        // but not for another device
        assertThat(iommu.mapPage(gpu, 0x7000, 4096, BIDI, MASK64)).isEqualTo(0xffff_f000L);
        // a 32-bit device never leaves the 32-bit space, and fails when it does not fit
        assertThat(iommu.mapPage(gpu, 0, twoGiB, BIDI, MASK32)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(iommu.mapPage(gpu, 0, 0x1000, BIDI, MASK32)).isEqualTo(0xffff_e000L);
    }

    @Test
    void forcedacSkipsThe32BitAttempt() {
        IommuImpl i = Machines.iommu(core, Machines.config(Iommu.MODE_TRANSLATED, 48, true, 65536));
        assertThat(i.mapPage(nvme, 0x7000, 4096, BIDI, MASK64)).isEqualTo((1L << 48) - 4096);
    }

    @Test
    void aTinyApertureRunsOutAndFailsWithDmaMappingErrorUntilSomethingIsFreed() {
        IommuImpl small = Machines.iommu(core, Iommu.MODE_TRANSLATED, 20); // 1 MiB: pfn 1..255
        List<Long> iovas = new ArrayList<>();
        for (int k = 0; k < 255; k++) {
            long a = small.mapPage(nvme, (long) k << 12, 4096, BIDI, MASK64);
            assertThat(a).isNotEqualTo(DmaApi.DMA_MAPPING_ERROR);
            iovas.add(a);
        }
        assertThat(iovas.get(0)).isEqualTo(0xff000L);
        assertThat(iovas.get(254)).isEqualTo(0x1000L); // IOVA 0 is never handed out
        assertThat(small.mapPage(nvme, 0, 4096, BIDI, MASK64)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(small.mapSg(nvme, List.of(SgEntry.of(0, 4096)), BIDI, MASK64)).isNull();
        assertThat(small.iovaInUse(nvme)).isEqualTo(255L * 4096);
        small.unmapPage(nvme, iovas.get(100), 4096, BIDI);
        assertThat(small.mapPage(nvme, 0x9_9000L, 4096, BIDI, MASK64)).isEqualTo(iovas.get(100));
        assertThat(small.translate(nvme, iovas.get(100))).isEqualTo(0x9_9000L);
    }

    @Test
    void mapResourceOfAPeerBarGivesAnIovaThatTranslatesToTheBar() {
        long bar = gpu.bar(0).orElseThrow().start();
        long iova = iommu.mapResource(nvme, bar + 0x2000, 0x10000, DmaDirection.FROM_DEVICE, MASK64);
        assertThat(iova).isNotEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(iova).isNotEqualTo(bar + 0x2000);
        assertThat(iommu.translate(nvme, iova)).isEqualTo(bar + 0x2000);
        assertThat(iommu.translate(nvme, iova + 0xffff)).isEqualTo(bar + 0x11fff);
        // the IOVA is not a bus address a switch would route to a peer
        assertThat(iova >= Machines.WIN32 && iova < Machines.WIN32 + Machines.WIN32_SIZE).isFalse();
        assertThat(errno(() -> iommu.unmapPage(nvme, iova, 0x10000, DmaDirection.FROM_DEVICE)))
                .isEqualTo(Errno.EINVAL); // wrong function
        iommu.unmapResource(nvme, iova, 0x10000, DmaDirection.FROM_DEVICE);
        assertThat(iommu.translate(nvme, iova)).isEqualTo(-1);
    }

    @Test
    void aScatterlistIsMappedIntoOneIovaRangeAndMergedIntoOneSegment() {
        List<SgEntry> sgl = List.of(SgEntry.of(0x10_0000, 4096), SgEntry.of(0x50_0000, 4096), SgEntry.of(0x30_0000, 8192));
        List<SgEntry> out = iommu.mapSg(nvme, sgl, DmaDirection.TO_DEVICE, MASK64);
        assertThat(out).hasSize(1);
        SgEntry s = out.get(0);
        assertThat(s.dmaLength()).isEqualTo(16384);
        assertThat(s.dmaAddress()).isEqualTo(0xffff_c000L);
        assertThat(iommu.translate(nvme, s.dmaAddress())).isEqualTo(0x10_0000);
        assertThat(iommu.translate(nvme, s.dmaAddress() + 4096)).isEqualTo(0x50_0000);
        assertThat(iommu.translate(nvme, s.dmaAddress() + 8192 + 5000)).isEqualTo(0x30_0000 + 5000);
        iommu.unmapSg(nvme, out, DmaDirection.TO_DEVICE);
        assertThat(iommu.iovaInUse(nvme)).isZero();
        assertThat(errno(() -> iommu.unmapSg(nvme, out, DmaDirection.TO_DEVICE))).isEqualTo(Errno.EINVAL);
    }

    @Test
    void sgSegmentsBreakAtUnalignedEntriesAndAtTheMaxSegmentSize() {
        // an entry that does not end on a page boundary closes the segment; one not starting on a page opens one
        List<SgEntry> out = iommu.mapSg(nvme, List.of(SgEntry.of(0x10_0000, 4096), SgEntry.of(0x20_0000, 100),
                SgEntry.of(0x30_0010, 200)), BIDI, MASK64);
        assertThat(out).extracting(SgEntry::dmaLength).containsExactly(4196L, 200L);
        assertThat(out.get(1).dmaAddress() & 0xfff).isEqualTo(0x10);
        assertThat(iommu.translate(nvme, out.get(1).dmaAddress())).isEqualTo(0x30_0010);
        // 32 pages = 128 KiB with PCI's default max segment size of 64 KiB: two segments, one IOVA range
        List<SgEntry> pages = new ArrayList<>();
        for (int k = 0; k < 32; k++) {
            pages.add(SgEntry.of(0x100_0000L + 2L * k * 4096, 4096));
        }
        List<SgEntry> two = iommu.mapSg(gpu, pages, BIDI, MASK64);
        assertThat(two).extracting(SgEntry::dmaLength).containsExactly(65536L, 65536L);
        assertThat(two.get(1).dmaAddress()).isEqualTo(two.get(0).dmaAddress() + 65536);
        IommuImpl wide = Machines.iommu(core, Machines.config(Iommu.MODE_TRANSLATED, 48, false, 1 << 20));
        assertThat(wide.mapSg(gpu, pages, BIDI, MASK64)).singleElement()
                .satisfies(e -> assertThat(e.dmaLength()).isEqualTo(131072));
    }

    @Test
    void unmapsAreCheckedLikeDmaDebug() {
        long a = iommu.mapPage(nvme, 0x4000, 0x800, BIDI, MASK64);
        KernelException notOurs = catchKernel(() -> iommu.unmapPage(gpu, a, 0x800, BIDI));
        assertThat(notOurs.getMessage()).isEqualTo("EINVAL: 0000:03:00.0: DMA-API: device driver tries to free DMA "
                + "memory it has not allocated [device address=0x00000000fffff000] [size=2048 bytes]");
        assertThat(catchKernel(() -> iommu.unmapPage(nvme, a, 0x1000, BIDI)).getMessage())
                .contains("frees DMA memory with different size").contains("[map size=2048 bytes] [unmap size=4096 bytes]");
        assertThat(catchKernel(() -> iommu.unmapPage(nvme, a, 0x800, DmaDirection.TO_DEVICE)).getMessage())
                .contains("different direction");
        assertThat(iommu.translate(nvme, a)).isEqualTo(0x4000); // nothing changed
        iommu.unmapPage(nvme, a, 0x800, BIDI);
        assertThat(catchKernel(() -> iommu.unmapPage(nvme, a, 0x800, BIDI)).getMessage())
                .contains("tries to free DMA memory it has not allocated");
        assertThat(iommu.mapPage(nvme, 0x4000, 0, BIDI, MASK64)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(iommu.mapPage(nvme, 0x4000, 16, DmaDirection.NONE, MASK64)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
    }

    private static KernelException catchKernel(Runnable r) {
        try {
            r.run();
        } catch (KernelException ex) {
            assertThat(ex.errno()).isEqualTo(Errno.EINVAL);
            return ex;
        }
        throw new AssertionError("no error");
    }

    @Test
    void identityModeAndIdentityGroupsAreNotTranslated() {
        IommuImpl pt = Machines.iommu(core, Iommu.MODE_IDENTITY, 48);
        assertThat(pt.translates(nvme)).isFalse();
        assertThat(pt.mapPage(nvme, 0x4000, 4096, BIDI, MASK64)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(pt.translate(nvme, 0x1234_5000L)).isEqualTo(0x1234_5000L);
        assertThat(pt.iovaInUse(nvme)).isZero();
        pt.setIdentity(nvme, false); // echo DMA > type under iommu=pt
        assertThat(pt.translates(nvme)).isTrue();
        assertThat(pt.domainType(nvme)).isEqualTo(Iommu.DOMAIN_DMA);

        IommuImpl off = Machines.iommu(core, Iommu.MODE_OFF, 48);
        assertThat(off.translates(nvme)).isFalse();
        assertThat(off.translate(nvme, 0x5000)).isEqualTo(0x5000);
    }

    @Test
    void aGroupSwitchedToIdentityBypassesTheIommuAndIsRefusedWhileMapped() {
        long a = iommu.mapPage(nvme, 0x4000, 4096, BIDI, MASK64);
        assertThat(errno(() -> iommu.setIdentity(nvme, true))).isEqualTo(Errno.EBUSY);
        iommu.unmapPage(nvme, a, 4096, BIDI);
        iommu.setIdentity(nvme, true);
        assertThat(iommu.domainType(nvme)).isEqualTo(Iommu.DOMAIN_IDENTITY);
        assertThat(iommu.translates(nvme)).isFalse();
        assertThat(iommu.translates(gpu)).isTrue();
        assertThat(iommu.mapPage(nvme, 0x4000, 4096, BIDI, MASK64)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        iommu.setIdentity(nvme, false);
        assertThat(iommu.translates(nvme)).isTrue();
    }

    @Test
    void theGroupTypeCoversEveryMemberAndSurvivesRegrouping() {
        core.setAcsCtrl(Bdf.parse("02:01.0"), Acs.SV); // 02:01.0 and 04:00.0 now share a group
        PciDevice dsp = get(core, "02:01.0");
        iommu.setIdentity(nvme, true);
        assertThat(iommu.domainType(dsp)).isEqualTo(Iommu.DOMAIN_IDENTITY);
        core.setAcsCtrl(Bdf.parse("02:01.0"), ISOLATED); // split again: both keep what was written
        assertThat(iommu.domainType(nvme)).isEqualTo(Iommu.DOMAIN_IDENTITY);
        assertThat(iommu.domainType(dsp)).isEqualTo(Iommu.DOMAIN_IDENTITY);
        assertThat(iommu.domainType(gpu)).isEqualTo(Iommu.DOMAIN_DMA);
    }

    @Test
    void membersShareTheDomainAndLiveMappingsSurviveUnrelatedRegrouping() {
        core.setAcsCtrl(Bdf.parse("02:01.0"), Acs.SV);
        PciDevice dsp = get(core, "02:01.0");
        long a = iommu.mapPage(nvme, 0x4000, 4096, BIDI, MASK64);
        long b = iommu.mapPage(dsp, 0x8000, 4096, BIDI, MASK64);
        assertThat(b).isEqualTo(a - 4096); // one IOVA space for the group
        assertThat(iommu.iovaInUse(dsp)).isEqualTo(iommu.iovaInUse(nvme)).isEqualTo(8192);
        core.setAcsCtrl(Bdf.parse("02:00.0"), Acs.SV); // the GPU's side changes, not ours
        assertThat(iommu.translate(nvme, a)).isEqualTo(0x4000);
        // splitting the group: the first member keeps the domain, the NVMe gets a fresh one
        core.setAcsCtrl(Bdf.parse("02:01.0"), ISOLATED);
        assertThat(iommu.translate(dsp, b)).isEqualTo(0x8000);
        assertThat(iommu.translate(nvme, a)).isEqualTo(-1); // its context now points elsewhere: DMA faults
        iommu.unmapPage(nvme, a, 4096, BIDI); // the old mapping can still be torn down
        iommu.unmapPage(dsp, b, 4096, BIDI);
        assertThat(iommu.holders()).isEmpty();
    }

    /**
     * A mapper that took a device's domain before its group changed must not install into it: the new groups
     * give the device another domain, so the mapping would be live and never translated (seen as a race under
     * load; here the mapper's step after the change, held at the point where it checks the domain).
     */
    @Test
    void aMappingStartedBeforeTheGroupsChangedLooksAgain() {
        core.setAcsCtrl(Bdf.parse("02:01.0"), Acs.SV); // 02:01.0 and 04:00.0 share a group and its domain
        GroupDomains groups = new GroupDomains(() -> core.machine());
        groups.enabled = true;
        IommuDomain shared = groups.dmaDomain(nvme);
        assertThat(shared).isNotNull();
        core.setAcsCtrl(Bdf.parse("02:01.0"), ISOLATED); // the group splits: the NVMe gets a fresh domain
        synchronized (shared) {
            assertThat(groups.currentDomainLocked(nvme)).as("the groups are out of date").isSameAs(GroupDomains.STALE);
        }
        IommuDomain now = groups.dmaDomain(nvme);
        assertThat(now).isNotNull().isNotSameAs(shared);
        synchronized (now) {
            assertThat(groups.currentDomainLocked(nvme)).isSameAs(now);
        }
    }

    @Test
    void unloadingRevokesEverythingAndStopsTranslating() {
        iommu.mapPage(nvme, 0x4000, 4096, BIDI, MASK64);
        assertThat(iommu.holders()).hasSize(1);
        iommu.deactivate();
        assertThat(iommu.holders()).isEmpty();
        assertThat(iommu.translates(nvme)).isFalse();
        assertThat(iommu.mapPage(nvme, 0x4000, 4096, BIDI, MASK64)).isEqualTo(DmaApi.DMA_MAPPING_ERROR);
    }

    @Test
    void concurrentMapsAndUnmapsFromFourThreadsNeverHandOutOverlappingIovas() throws Exception {
        core.setAcsCtrl(Bdf.parse("00:01.0"), 0); // one group, one domain for all four devices
        List<PciDevice> devs = List.of(gpu, nvme, get(core, "02:00.0"), get(core, "02:01.0"));
        TreeMap<Long, Long> live = new TreeMap<>();
        assertThat(devs).allSatisfy(d -> assertThat(iommu.group(d)).isEqualTo(iommu.group(gpu)));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            PciDevice dev = devs.get(t);
            long seed = t;
            results.add(pool.submit(() -> {
                Random rnd = new Random(seed);
                List<long[]> mine = new ArrayList<>();
                start.await();
                int done = 0;
                for (int k = 0; k < 10000; k++) {
                    if (!mine.isEmpty() && (rnd.nextBoolean() || mine.size() > 40)) {
                        long[] m = mine.remove(rnd.nextInt(mine.size()));
                        synchronized (live) {
                            live.remove(m[0] & ~0xfffL);
                        }
                        if (m[2] == 1) {
                            iommu.unmapSg(dev, List.of(new SgEntry(0, m[1], m[0], m[1])), BIDI);
                        } else {
                            iommu.unmapPage(dev, m[0], m[1], BIDI);
                        }
                        continue;
                    }
                    long size = 1 + rnd.nextInt(40 * 4096);
                    long phys = (long) rnd.nextInt(1 << 20) << 12;
                    long dmaAddr;
                    long sg = rnd.nextInt(4) == 0 ? 1 : 0;
                    if (sg == 1) {
                        List<SgEntry> out = iommu.mapSg(dev, List.of(SgEntry.of(phys, 4096), SgEntry.of(phys + 0x10000, 4096)),
                                BIDI, MASK64);
                        dmaAddr = out.get(0).dmaAddress();
                        size = 8192;
                    } else {
                        dmaAddr = iommu.mapPage(dev, phys, size, BIDI, MASK64);
                    }
                    assertThat(dmaAddr).isNotEqualTo(DmaApi.DMA_MAPPING_ERROR);
                    long base = dmaAddr & ~0xfffL;
                    long end = (dmaAddr + size + 0xfff) & ~0xfffL;
                    synchronized (live) {
                        Map.Entry<Long, Long> below = live.floorEntry(base);
                        Map.Entry<Long, Long> above = live.ceilingEntry(base);
                        assertThat(below == null || below.getValue() <= base).as("[%x-%x) sg=%d by %s overlaps %s", base, end, sg, dev.name(), below == null ? null : Long.toHexString(below.getKey()) + "-" + Long.toHexString(below.getValue())).isTrue();
                        assertThat(above == null || above.getKey() >= end).as("[%x-%x) sg=%d by %s overlaps above %s", base, end, sg, dev.name(), above == null ? null : Long.toHexString(above.getKey()) + "-" + Long.toHexString(above.getValue())).isTrue();
                        live.put(base, end);
                    }
                    assertThat(iommu.translate(dev, dmaAddr)).isEqualTo(phys);
                    mine.add(new long[] {dmaAddr, size, sg});
                    done++;
                }
                for (long[] m : mine) {
                    synchronized (live) {
                        live.remove(m[0] & ~0xfffL);
                    }
                    if (m[2] == 1) {
                        iommu.unmapSg(dev, List.of(new SgEntry(0, m[1], m[0], m[1])), BIDI);
                    } else {
                        iommu.unmapPage(dev, m[0], m[1], BIDI);
                    }
                }
                return done;
            }));
        }
        start.countDown();
        int total = 0;
        for (Future<Integer> f : results) {
            total += f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(total).isGreaterThan(15000);
        assertThat(iommu.iovaInUse(gpu)).isZero();
        assertThat(iommu.holders()).isEmpty();
    }
}
