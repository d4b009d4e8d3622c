package org.peerdma.arch.arm64.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.dma.DmaApi.DMA_MAPPING_ERROR;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

class Arm64DirectOpsTest {
    private static final long MASK32 = 0xffff_ffffL;
    private static final long MASK64 = -1L;
    private static final DmaDirection BIDI = DmaDirection.BIDIRECTIONAL;
    /** BCM2712's PCIe dma-ranges: 64 GiB of CPU memory from 0 at PCIe bus 0x10_0000_0000. */
    private static final String BCM2712 = "0x0:0x1000000000:0x1000000000";

    private static PciMachine machine;
    private static PciDevice nvme;
    private static PciDevice nic;
    private Arm64DirectOps ops;

    @BeforeAll
    static void loadMachine() {
        machine = Arm64Fixtures.machine();
        nvme = Arm64Fixtures.device(machine, Arm64Fixtures.NVME);
        nic = Arm64Fixtures.device(machine, Arm64Fixtures.NIC);
    }

    @BeforeEach
    void setUp() {
        ops = new Arm64DirectOps();
        ops.configure(Arm64Fixtures.dmaConfig(Arm64DmaConfig.DEFAULT_DMA_RANGES));
    }

    private static KernelException configError(Arm64DirectOps o, String ranges) {
        try {
            o.configure(Arm64Fixtures.dmaConfig(ranges));
        } catch (KernelException ex) {
            return ex;
        }
        throw new AssertionError("dma_ranges '" + ranges + "' was accepted");
    }

    @Test
    void defaultWindowShowsTheFirstTwoGibAtBus2Gib() {
        assertThat(ops.physToDma(nvme, 0)).isEqualTo(0x8000_0000L);
        assertThat(ops.physToDma(nvme, 0x123_4000L)).isEqualTo(0x8123_4000L);
        assertThat(ops.physToDma(nvme, 0x7fff_ffffL)).isEqualTo(0xffff_ffffL);
        assertThat(ops.mapPage(nvme, 0x123_4000L, 4096, BIDI, MASK32)).isEqualTo(0x8123_4000L);
        assertThat(ops.mapPage(nvme, 0x7fff_f000L, 4096, BIDI, MASK32)).isEqualTo(0xffff_f000L);
        assertThat(ops.platform().busDmaLimit()).isEqualTo(0xffff_ffffL);
    }

    @Test
    void physOutsideEveryRangeIsDmaMappingError() {
        // 2 GiB is just past the window; 4 GiB is RAM (system_ram) that no dma-range covers
        for (long phys : new long[] {0x8000_0000L, 0x1_0000_0000L, 0x4_7fff_f000L}) {
            assertThat(ops.physToDma(nvme, phys)).as("phys %#x", phys).isEqualTo(DMA_MAPPING_ERROR);
            assertThat(ops.mapPage(nvme, phys, 4096, BIDI, MASK64)).as("phys %#x", phys)
                    .isEqualTo(DMA_MAPPING_ERROR);
        }
    }

    @Test
    void multiRangeTranslationUsesTheRegionHoldingTheAddress() {
        // CPU 0-1 GiB at bus 3 GiB; CPU 4-6 GiB at bus 1 GiB; nothing for CPU 1-4 GiB
        ops.configure(Arm64Fixtures.dmaConfig("0x0:0xc0000000:0x40000000, 0x100000000:0x40000000:0x80000000"));
        assertThat(ops.physToDma(nvme, 0)).isEqualTo(0xc000_0000L);
        assertThat(ops.physToDma(nvme, 0x3fff_ffffL)).isEqualTo(0xffff_ffffL);
        assertThat(ops.physToDma(nvme, 0x1_0000_0000L)).isEqualTo(0x4000_0000L);
        assertThat(ops.physToDma(nvme, 0x1_7fff_ffffL)).isEqualTo(0xbfff_ffffL);
        assertThat(ops.physToDma(nvme, 0x4000_0000L)).isEqualTo(DMA_MAPPING_ERROR);
        assertThat(ops.physToDma(nvme, 0x1_8000_0000L)).isEqualTo(DMA_MAPPING_ERROR);
        assertThat(ops.mapPage(nvme, 0x1_2345_6000L, 8192, BIDI, MASK32)).isEqualTo(0x6345_6000L);
        DmaRanges r = ops.platform().ranges();
        assertThat(r.dmaToPhys(0x6345_6000L)).isEqualTo(0x1_2345_6000L);
        assertThat(r.dmaToPhys(0xc000_1000L)).isEqualTo(0x1000L);
        assertThat(r.dmaToPhys(0x1000L)).isEqualTo(-1L);
        assertThat(ops.platform().busDmaLimit()).isEqualTo(0xffff_ffffL);
        assertThat(r.maxCpuAddress()).isEqualTo(0x1_7fff_ffffL);
    }

    @Test
    void noDmaRangesIsTheIdentityWithoutBusLimit() {
        ops.configure(Arm64Fixtures.dmaConfig(""));
        assertThat(ops.physToDma(nvme, 0x4_0000_0000L)).isEqualTo(0x4_0000_0000L);
        assertThat(ops.mapPage(nvme, 0x4_0000_0000L, 4096, BIDI, MASK64)).isEqualTo(0x4_0000_0000L);
        assertThat(ops.mapPage(nvme, 0x4_0000_0000L, 4096, BIDI, MASK32)).isEqualTo(DMA_MAPPING_ERROR);
        assertThat(ops.platform().busDmaLimit()).isZero();
    }

    @Test
    void a32BitMaskCannotReachAWindowAbove4Gib() {
        ops.configure(Arm64Fixtures.dmaConfig(BCM2712));
        assertThat(ops.mapPage(nvme, 0x1000, 4096, BIDI, MASK32)).isEqualTo(DMA_MAPPING_ERROR);
        assertThat(ops.mapPage(nvme, 0x1000, 4096, BIDI, 0xf_ffff_ffffL)).isEqualTo(DMA_MAPPING_ERROR); // 36 bits
        assertThat(ops.mapPage(nvme, 0x1000, 4096, BIDI, 0x1f_ffff_ffffL)).isEqualTo(0x10_0000_1000L); // 37 bits
        assertThat(ops.mapPage(nvme, 0x1000, 4096, BIDI, MASK64)).isEqualTo(0x10_0000_1000L);
        assertThat(ops.platform().busDmaLimit()).isEqualTo(0x1f_ffff_ffffL);
    }

    @Test
    void theLastByteDecidesOverflowAndTheBusLimitBindsA64BitMask() {
        // 0x7ffff000 + 8 KiB: the start translates, the end runs to bus 0x100000fff
        assertThat(ops.mapPage(nvme, 0x7fff_f000L, 8192, BIDI, MASK32)).isEqualTo(DMA_MAPPING_ERROR);
        // a 64-bit mask does not help: bus_dma_limit is the window's top, 0xffffffff
        assertThat(ops.mapPage(nvme, 0x7fff_f000L, 8192, BIDI, MASK64)).isEqualTo(DMA_MAPPING_ERROR);
        assertThat(ops.mapPage(nvme, 0x7fff_e000L, 8192, BIDI, MASK32)).isEqualTo(0xffff_e000L);
        // a 31-bit mask cannot reach any of the window
        assertThat(ops.mapPage(nvme, 0x1000, 4096, BIDI, 0x7fff_ffffL)).isEqualTo(DMA_MAPPING_ERROR);
        assertThat(Arm64DirectOps.dmaCapable(DMA_MAPPING_ERROR, 1, MASK64, 0)).isFalse();
        assertThat(Arm64DirectOps.dmaCapable(0xffff_f000L, 4096, MASK32, 0)).isTrue();
        assertThat(Arm64DirectOps.dmaCapable(0xffff_f000L, 4097, MASK32, 0)).isFalse();
    }

    @Test
    void overflowIsReportedWithTheKernelsMessage() {
        ops.configure(Arm64Fixtures.dmaConfig(BCM2712));
        assertThat(Arm64DirectOps.overflowMessage(nvme, 0x10_0000_1000L, 4096, MASK32, 0x1f_ffff_ffffL))
                .isEqualTo("nvme 0000:01:00.0: DMA addr 0x0000001000001000+4096 overflow "
                        + "(mask ffffffff, bus limit 1fffffffff).");
        assertThat(Arm64DirectOps.overflowMessage(nic, DMA_MAPPING_ERROR, 4096, MASK64, 0xffff_ffffL))
                .isEqualTo("pci 0001:01:00.0: DMA addr 0xffffffffffffffff+4096 overflow "
                        + "(mask ffffffffffffffff, bus limit ffffffff).");
    }

    @Test
    void mapSgDoesNotMergeContiguousEntriesAsDmaDirectMapSg() {
        List<SgEntry> sgl = List.of(SgEntry.of(0x1000, 0x1000), SgEntry.of(0x2000, 0x1000), SgEntry.of(0x9000, 0x800));
        List<SgEntry> mapped = ops.mapSg(nvme, sgl, BIDI, MASK32);
        assertThat(mapped).containsExactly(
                new SgEntry(0x1000, 0x1000, 0x8000_1000L, 0x1000),
                new SgEntry(0x2000, 0x1000, 0x8000_2000L, 0x1000),
                new SgEntry(0x9000, 0x800, 0x8000_9000L, 0x800));
        ops.unmapSg(nvme, mapped, BIDI);
    }

    @Test
    void mapSgIsAllOrNothing() {
        List<SgEntry> sgl = List.of(SgEntry.of(0x1000, 0x1000), SgEntry.of(0x8000_0000L, 0x1000));
        assertThat(ops.mapSg(nvme, sgl, BIDI, MASK64)).isNull();
        List<SgEntry> tooHigh = List.of(SgEntry.of(0x1000, 0x1000), SgEntry.of(0x7fff_f000L, 0x2000));
        assertThat(ops.mapSg(nvme, tooHigh, BIDI, MASK32)).isNull();
        assertThat(ops.mapSg(nvme, List.of(), BIDI, MASK32)).isEmpty();
        assertThatThrownBy(() -> ops.mapSg(nvme, null, BIDI, MASK32)).isInstanceOf(KernelException.class)
                .extracting(ex -> ((KernelException) ex).errno()).isEqualTo(Errno.EINVAL);
    }

    @Test
    void mapResourceUsesTheCpuAddressAsTheKernelDoes() {
        // the NIC's BAR at 0xf0000000 is below the bus limit: mapped as is, dma-ranges not applied
        long bar = nic.bar(0).orElseThrow().start();
        assertThat(ops.mapResource(nvme, bar, 1 << 20, BIDI, MASK32)).isEqualTo(0xf000_0000L);
        assertThat(ops.physToDma(nvme, bar)).isEqualTo(DMA_MAPPING_ERROR);
        // the NVMe BAR at 0x1b00000000 is above the window's top: overflow even with a 64-bit mask
        long high = nvme.bar(0).orElseThrow().start();
        assertThat(ops.mapResource(nic, high, 4096, BIDI, MASK64)).isEqualTo(DMA_MAPPING_ERROR);
        // without dma-ranges there is no bus limit
        ops.configure(Arm64Fixtures.dmaConfig(""));
        assertThat(ops.mapResource(nic, high, 4096, BIDI, MASK64)).isEqualTo(high);
        assertThat(ops.mapResource(nic, high, 4096, BIDI, MASK32)).isEqualTo(DMA_MAPPING_ERROR);
        ops.unmapResource(nic, high, 4096, BIDI);
    }

    @Test
    void supportedFollowsDmaDirectSupported() {
        // default: ZONE_DMA is CPU 0-2 GiB, seen at bus up to 0xffffffff
        assertThat(ops.supported(nvme, MASK32)).isTrue();
        assertThat(ops.supported(nvme, MASK64)).isTrue();
        assertThat(ops.supported(nvme, 0x7fff_ffffL)).isFalse();
        // a 1 GiB identity window: ZONE_DMA is 30 bits, so a 30-bit mask is enough and 29 bits are not
        ops.configure(Arm64Fixtures.dmaConfig("0x0:0x0:0x40000000", "0x0-0x7fffffff"));
        assertThat(ops.platform().zoneDmaLimit()).isEqualTo(0x3fff_ffffL);
        assertThat(ops.supported(nvme, 0x3fff_ffffL)).isTrue();
        assertThat(ops.supported(nvme, 0x1fff_ffffL)).isFalse();
        // RAM smaller than the zone: the last page of RAM is what must be reachable
        ops.configure(Arm64Fixtures.dmaConfig("0x0:0x0:0x40000000", "0x0-0xffffff"));
        assertThat(ops.supported(nvme, 0xff_ffffL)).isTrue(); // 24 bits reach the last page, 0xfff000
        assertThat(ops.supported(nvme, 0xff_efffL)).isFalse();
        // a window above 4 GiB: 32-bit masks are still "supported" (the kernel's shortcut), smaller ones not
        ops.configure(Arm64Fixtures.dmaConfig(BCM2712));
        assertThat(ops.platform().zoneDmaLimit()).isEqualTo(0xffff_ffffL); // RAM starts below 4 GiB
        assertThat(ops.supported(nvme, MASK32)).isTrue();
        assertThat(ops.supported(nvme, 0x7fff_ffffL)).isFalse();
    }

    @Test
    void zoneDmaLimitIsNotCappedWhenRamStartsAbove4Gib() {
        ops.configure(Arm64Fixtures.dmaConfig("0x800000000:0x80000000:0x80000000", "0x800000000-0x8ffffffff"));
        assertThat(ops.platform().zoneDmaLimit()).isEqualTo(0x8_7fff_ffffL);
        assertThat(ops.physToDma(nvme, 0x8_0000_0000L)).isEqualTo(0x8000_0000L);
        assertThat(ops.supported(nvme, 0x7fff_ffffL)).isFalse();
    }

    @Test
    void badEntriesAreEinvalNamingTheEntry() {
        KernelException zz = configError(ops, "zz");
        assertThat(zz.errno()).isEqualTo(Errno.EINVAL);
        assertThat(zz.getMessage()).contains("'zz'").contains("cpuStart:busStart:size");

        KernelException missing = configError(ops, "0x0:0x80000000:0x80000000,0x80000000:0x0");
        assertThat(missing.errno()).isEqualTo(Errno.EINVAL);
        assertThat(missing.getMessage()).contains("'0x80000000:0x0'");

        KernelException notHex = configError(ops, "0x0:0xzz:0x1000");
        assertThat(notHex.errno()).isEqualTo(Errno.EINVAL);
        assertThat(notHex.getMessage()).contains("'0x0:0xzz:0x1000'").contains("busStart '0xzz'");

        KernelException empty = configError(ops, "0x0::0x1000");
        assertThat(empty.errno()).isEqualTo(Errno.EINVAL);
        assertThat(empty.getMessage()).contains("'0x0::0x1000'");

        KernelException sizeZero = configError(ops, "0x0:0x0:0x0");
        assertThat(sizeZero.errno()).isEqualTo(Errno.EINVAL);
        assertThat(sizeZero.getMessage()).contains("'0x0:0x0:0x0'").contains("size 0");

        KernelException wraps = configError(ops, "0xfffffffffffff000:0x0:0x2000");
        assertThat(wraps.errno()).isEqualTo(Errno.EINVAL);
        assertThat(wraps.getMessage()).contains("'0xfffffffffffff000:0x0:0x2000'");
    }

    @Test
    void overlappingEntriesAreEinvalNamingBoth() {
        KernelException cpu = configError(ops, "0x0:0x80000000:0x80000000, 0x40000000:0x100000000:0x1000");
        assertThat(cpu.errno()).isEqualTo(Errno.EINVAL);
        assertThat(cpu.getMessage()).contains("'0x40000000:0x100000000:0x1000'")
                .contains("'0x0:0x80000000:0x80000000'").contains("CPU side");

        KernelException bus = configError(ops, "0x0:0x80000000:0x1000, 0x100000000:0x80000800:0x1000");
        assertThat(bus.errno()).isEqualTo(Errno.EINVAL);
        assertThat(bus.getMessage()).contains("'0x100000000:0x80000800:0x1000'").contains("bus side");

        // adjacent is not overlapping
        ops.configure(Arm64Fixtures.dmaConfig("0x0:0x80000000:0x1000, 0x1000:0x80001000:0x1000"));
        assertThat(ops.physToDma(nvme, 0x1800)).isEqualTo(0x8000_1800L);
    }

    @Test
    void aRefusedConfigurationKeepsTheOldOne() {
        ops.configure(Arm64Fixtures.dmaConfig(BCM2712));
        configError(ops, "zz");
        assertThatThrownBy(() -> ops.configure(Arm64Fixtures.dmaConfig(BCM2712, "0x1000-0x0")))
                .isInstanceOf(KernelException.class).hasMessageContaining("'0x1000-0x0'");
        assertThatThrownBy(() -> ops.configure(Arm64Fixtures.dmaConfig(BCM2712, "")))
                .isInstanceOf(KernelException.class).hasMessageContaining("system_ram is empty");
        assertThat(ops.physToDma(nvme, 0x1000)).isEqualTo(0x10_0000_1000L);
    }
}
