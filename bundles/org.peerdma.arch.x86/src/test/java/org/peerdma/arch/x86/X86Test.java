package org.peerdma.arch.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

class X86Test {
    private static PciMachine machine(String vendor, int family) {
        MachineDTO m = new MachineDTO();
        DeviceDTO d = new DeviceDTO();
        d.bdf = "0000:00:00.0";
        m.devices.add(d);
        m.cpu = new CpuDTO();
        m.cpu.vendor = vendor;
        m.cpu.family = family;
        return new PciCoreImpl().load(m);
    }

    @Test
    void cpuRuleIsAmdZenOrLater() {
        X86Policy p = new X86Policy();
        assertThat(p.cpuSupportsP2pdma(machine("AuthenticAMD", 0x17))).isTrue();
        assertThat(p.cpuSupportsP2pdma(machine("AuthenticAMD", 0x19))).isTrue();
        assertThat(p.cpuSupportsP2pdma(machine("AuthenticAMD", 0x16))).isFalse();
        assertThat(p.cpuSupportsP2pdma(machine("GenuineIntel", 6))).isFalse();
        assertThat(p.cpuSupportsP2pdma(machine("HygonGenuine", 0x18))).isFalse();
        assertThat(p.hostBridgeWhitelist()).isTrue();
        assertThat(p.arch()).isEqualTo("x86_64");
    }

    @Test
    void directMappingIsIdentityWithinTheMask() {
        X86DirectOps ops = new X86DirectOps();
        var dev = machine("GenuineIntel", 6).devices().get(0);
        long mask32 = 0xffffffffL;
        assertThat(ops.mapPage(dev, 0x1234000L, 4096, DmaDirection.TO_DEVICE, mask32)).isEqualTo(0x1234000L);
        assertThat(ops.mapPage(dev, 0xfffff000L, 4096, DmaDirection.TO_DEVICE, mask32)).isEqualTo(0xfffff000L);
        assertThat(ops.mapPage(dev, 0xfffff000L, 4097, DmaDirection.TO_DEVICE, mask32))
                .isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(ops.mapResource(dev, 0x3a100000000L, 1 << 20, DmaDirection.BIDIRECTIONAL, mask32))
                .isEqualTo(DmaApi.DMA_MAPPING_ERROR);
        assertThat(ops.mapResource(dev, 0x3a100000000L, 1 << 20, DmaDirection.BIDIRECTIONAL, -1L))
                .isEqualTo(0x3a100000000L);
        List<SgEntry> sg = ops.mapSg(dev, List.of(SgEntry.of(0x1000, 4096), SgEntry.of(0x2000, 4096)),
                DmaDirection.TO_DEVICE, mask32);
        assertThat(sg).hasSize(2); // dma_direct_map_sg does not merge
        assertThat(ops.mapSg(dev, List.of(SgEntry.of(0x1000, 4096), SgEntry.of(0x1_0000_0000L, 4096)),
                DmaDirection.TO_DEVICE, mask32)).isNull();
        assertThat(ops.supported(null, 0xffffffL)).isTrue();
        assertThat(ops.supported(null, 0xfffffL)).isFalse();
        assertThat(ops.supported(null, -1L)).isTrue();
    }
}
