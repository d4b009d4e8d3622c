package org.peerdma.dma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.SgEntry;
import org.peerdma.dma.spi.DmaOps;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

class DmaApiImplTest {
    /** Direct ops adding a fixed offset, recording unmaps. */
    static final class OffsetOps implements DmaOps {
        final long offset;
        final List<String> log = new ArrayList<>();
        boolean translate;

        OffsetOps(long offset) {
            this.offset = offset;
        }

        @Override
        public long mapPage(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
            long dma = phys + offset;
            return Long.compareUnsigned(dma + size - 1, mask) > 0 ? DmaApi.DMA_MAPPING_ERROR : dma;
        }

        @Override
        public void unmapPage(PciDevice dev, long dma, long size, DmaDirection dir) {
            log.add("unmap " + Long.toHexString(dma));
        }

        @Override
        public List<SgEntry> mapSg(PciDevice dev, List<SgEntry> sgl, DmaDirection dir, long mask) {
            List<SgEntry> out = new ArrayList<>();
            for (SgEntry e : sgl) {
                out.add(new SgEntry(e.phys(), e.length(), e.phys() + offset, e.length()));
            }
            return out;
        }

        @Override
        public void unmapSg(PciDevice dev, List<SgEntry> mapped, DmaDirection dir) {
            log.add("unmap_sg " + mapped.size());
        }

        @Override
        public long mapResource(PciDevice dev, long phys, long size, DmaDirection dir, long mask) {
            return mapPage(dev, phys, size, dir, mask);
        }

        @Override
        public void unmapResource(PciDevice dev, long dma, long size, DmaDirection dir) {
            log.add("unmap_resource " + Long.toHexString(dma));
        }

        @Override
        public boolean supported(PciDevice dev, long mask) {
            return Long.compareUnsigned(mask, 0xffffffL) >= 0;
        }

        @Override
        public long physToDma(PciDevice dev, long phys) {
            return phys + offset;
        }

        @Override
        public long dmaToPhys(PciDevice dev, long dma) {
            return dma - offset;
        }

        @Override
        public boolean translates(PciDevice dev) {
            return translate;
        }
    }

    private DmaApiImpl dma;
    private PciDevice nic;
    private PciDevice gpu;
    private long ids = 1;

    private Map<String, Object> props(String name, String kind, int rank) {
        Map<String, Object> p = new HashMap<>();
        if (name != null) {
            p.put(DmaOps.NAME, name);
        }
        p.put(DmaOps.KIND, kind);
        p.put(Constants.SERVICE_RANKING, rank);
        p.put(Constants.SERVICE_ID, ids++);
        return p;
    }

    @BeforeEach
    void setUp() {
        MachineDTO m = new MachineDTO();
        for (String b : List.of("0000:00:00.0", "0000:00:01.0", "0000:00:02.0")) {
            DeviceDTO d = new DeviceDTO();
            d.bdf = b;
            d.vendor = 0x15b3;
            d.device = 0x101b;
            m.devices.add(d);
        }
        PciCoreImpl core = new PciCoreImpl();
        core.load(m);
        nic = core.get(Bdf.parse("00:01.0"));
        gpu = core.get(Bdf.parse("00:02.0"));
        dma = new DmaApiImpl();
    }

    @Test
    void noOpsMeansNoDma() {
        assertThatThrownBy(() -> dma.mapPage(nic, 0x1000, 4096, DmaDirection.TO_DEVICE))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENODEV))
                .hasMessageContaining("no arch module");
        dma.addOps(new OffsetOps(0), props(null, "direct", 0));
        dma.addOps(new OffsetOps(0), props("bad", "weird", 0));
        assertThat(dma.opsNames()).isEmpty();
    }

    @Test
    void bestRankedDirectOpsIommuForTranslatedDevicesAndOverrides() {
        OffsetOps low = new OffsetOps(0);
        OffsetOps high = new OffsetOps(0x1000_0000L);
        OffsetOps iommu = new OffsetOps(0x7000_0000_0000L);
        dma.addOps(low, props("low", "direct", 0));
        dma.addOps(high, props("high", "direct", 10));
        assertThat(dma.opsName(nic)).isEqualTo("high");
        dma.setMask(nic, -1L);
        DmaMapping m = dma.mapPage(nic, 0x2000, 4096, DmaDirection.FROM_DEVICE);
        assertThat(m.entries().get(0).dmaAddress()).isEqualTo(0x1000_2000L);
        dma.addOps(iommu, props("iommu", "iommu", 0));
        assertThat(dma.opsName(nic)).isEqualTo("high"); // the IOMMU does not translate it
        iommu.translate = true;
        assertThat(dma.opsName(nic)).isEqualTo("iommu");
        dma.setOpsOverride(gpu, "low");
        assertThat(dma.opsName(gpu)).isEqualTo("low");
        assertThatThrownBy(() -> dma.setOpsOverride(gpu, "nope")).hasMessageContaining("no DMA ops named 'nope'");
        dma.setOpsOverride(gpu, null);
        assertThat(dma.opsName(gpu)).isEqualTo("iommu");
        // the mapping made through 'high' is unmapped through 'high' though the IOMMU took over
        dma.unmap(m);
        assertThat(high.log).containsExactly("unmap 10002000");
        assertThatThrownBy(() -> dma.unmap(m)).hasMessageContaining("has not allocated");
    }

    @Test
    void masksAndMappingErrors() {
        dma.addOps(new OffsetOps(0), props("x", "direct", 0));
        assertThat(dma.mask(nic)).isEqualTo(0xffffffffL);
        assertThatThrownBy(() -> dma.mapPage(nic, 0x1_0000_0000L, 4096, DmaDirection.TO_DEVICE))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EIO))
                .hasMessageContaining("DMA_MAPPING_ERROR");
        assertThatThrownBy(() -> dma.setMask(nic, 0xfff)).hasMessageContaining("not supported");
        dma.setMask(nic, (1L << 40) - 1);
        assertThat(dma.mapPage(nic, 0x1_0000_0000L, 4096, DmaDirection.TO_DEVICE).isLive()).isTrue();
        assertThatThrownBy(() -> dma.mapPage(nic, 0, 0, DmaDirection.TO_DEVICE)).hasMessageContaining("0 bytes");
        assertThatThrownBy(() -> dma.mapSg(nic, List.of(), DmaDirection.TO_DEVICE)).hasMessageContaining("no entries");
        // a range that wraps past 2^64 maps nothing, for every kind of mapping
        dma.setMask(nic, -1L);
        int before = dma.mappings(nic).size();
        for (Runnable wrap : List.<Runnable>of(
                () -> dma.mapPage(nic, 0xffff_ffff_ffff_f000L, 8192, DmaDirection.BIDIRECTIONAL),
                () -> dma.mapResource(nic, -4096L, 8192, DmaDirection.BIDIRECTIONAL),
                () -> dma.mapSg(nic, List.of(SgEntry.of(0x1000, 4096), SgEntry.of(-4096L, 8192)),
                        DmaDirection.TO_DEVICE))) {
            assertThatThrownBy(wrap::run).satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EINVAL))
                    .hasMessageContaining("wraps past the end of the physical address space");
        }
        assertThat(dma.mappings(nic)).hasSize(before);
        DmaMapping top = dma.mapPage(nic, 0xffff_ffff_ffff_f000L, 4096, DmaDirection.BIDIRECTIONAL);
        assertThat(top.isLive()).isTrue(); // the last page itself is fine
        dma.unmap(top);
        assertThat(dma.holders()).containsExactly("0000:00:01.0: 1 DMA mapping(s)");
    }

    @Test
    void aDeviceThatGoesAwayTakesItsMappingsWithIt() {
        OffsetOps a = new OffsetOps(0);
        dma.addOps(a, props("a", "direct", 0));
        DmaMapping page = dma.mapPage(nic, 0x1000, 4096, DmaDirection.TO_DEVICE);
        DmaMapping res = dma.mapResource(nic, 0x9000_0000L, 8192, DmaDirection.BIDIRECTIONAL);
        DmaMapping other = dma.mapPage(gpu, 0x2000, 4096, DmaDirection.TO_DEVICE);
        dma.setMask(nic, -1L);
        dma.deviceRemoving(nic);
        // unmapped through the ops that made them, revoked for their holder, the mask forgotten
        assertThat(a.log).containsExactlyInAnyOrder("unmap 1000", "unmap_resource 90000000");
        assertThat(page.isLive()).isFalse();
        assertThat(res.isLive()).isFalse();
        assertThat(dma.mappings(nic)).isEmpty();
        assertThat(dma.holders()).containsExactly("0000:00:02.0: 1 DMA mapping(s)");
        dma.unmap(page); // the driver's late unmap: silent, nothing unmapped twice
        assertThat(a.log).hasSize(2);
        assertThat(other.isLive()).isTrue();
        assertThat(dma.mask(nic)).isEqualTo(0xffffffffL);
        dma.unmap(other);
    }

    @Test
    void departingOpsRevokeTheirMappings() {
        OffsetOps a = new OffsetOps(0);
        Map<String, Object> pa = props("a", "direct", 5);
        dma.addOps(a, pa);
        DmaMapping res = dma.mapResource(nic, 0x9000_0000L, 1 << 20, DmaDirection.BIDIRECTIONAL);
        DmaMapping sg = dma.mapSg(nic, List.of(SgEntry.of(0x1000, 4096), SgEntry.of(0x3000, 4096)),
                DmaDirection.TO_DEVICE);
        assertThat(sg.entries()).hasSize(2);
        OffsetOps b = new OffsetOps(0x100);
        dma.addOps(b, props("b", "direct", 1));
        dma.removeOps(a, pa);
        assertThat(res.isLive()).isFalse();
        assertThat(sg.isLive()).isFalse();
        assertThat(dma.mappings(nic)).isEmpty();
        dma.unmap(res); // revoked: forgotten quietly, not passed to the departed ops
        assertThat(a.log).isEmpty();
        assertThat(dma.opsName(nic)).isEqualTo("b");
        assertThatThrownBy(() -> dma.syncForCpu(res)).hasMessageContaining("not live");
    }
}
