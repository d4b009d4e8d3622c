package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/**
 * Intel VMD puts the drives behind it in a PCI domain of its own, numbered from 0x10000 (lspci prints
 * "10000:e0:06.0"): a dump with one is read like any other.
 */
class VmdDomainTest {
    private static final String TREE = """
            -+-[10000:e0]-+-06.0-[e1]----00.0  Samsung Electronics Co Ltd NVMe SSD Controller PM9A1/PM9A3/980PRO
             |            \\-17.0  Intel Corporation Device a77f
             \\-[0000:00]-+-00.0  Intel Corporation Device 9a14
                         \\-0e.0  Intel Corporation Volume Management Device NVMe RAID Controller
            """;

    @Test
    void aVmdDomainIsReadAndLoaded() {
        MachineDTO dto = RealDumpsTest.io().readText("vmd.txt", TREE, TopologyIO.AUTO);
        assertThat(dto.devices).extracting(d -> d.bdf).contains("10000:e0:06.0", "10000:e1:00.0", "0000:00:0e.0");
        PciMachine m = new PciCoreImpl().load(dto);
        assertThat(m.device(Bdf.parse("10000:e1:00.0"))).hasValueSatisfying(
                d -> assertThat(d.upstreamBridge().bdf()).isEqualTo(Bdf.parse("10000:e0:06.0")));
        assertThat(Bdf.parse("10000:e1:00.0").toString()).isEqualTo("10000:e1:00.0");
        assertThat(Bdf.parse("10000:e1:00.0")).isGreaterThan(Bdf.parse("ffff:00:00.0"));
    }

    @Test
    void aDomainBeyondAnIntIsRefused() {
        assertThatThrownBy(() -> Bdf.parse("ffffffff:00:00.0")).isInstanceOf(KernelException.class)
                .hasMessageContaining("out of range");
    }
}
