package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.DriverTopologyDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.document.NvidiaSmiParser;

/** The NVIDIA driver's sections of real pastes: nvidia-smi topo -m, its Bus-Id table, the NIC legend. */
class NvidiaSmiTest {
    private static final Path REAL = RealDumpsTest.shared().resolve("topologies/real");
    private final TopologyIOImpl io = RealDumpsTest.io();

    private static String cell(DriverTopologyDTO t, String a, String b) {
        return t.cells.get(t.names.indexOf(a)).get(t.names.indexOf(b));
    }

    @Test
    void theAsusPasteGivesTheDriversMatrixWithEveryNameMatchedToADevice() {
        MachineDTO m = io.read(REAL.resolve("asus-esc8000a-e12-genoa.txt"), TopologyIO.AUTO);
        DriverTopologyDTO t = m.driverTopology;
        assertThat(t.names).containsExactly("GPU0", "GPU1", "GPU2", "GPU3", "NIC0", "NIC1", "NIC2", "NIC3");
        assertThat(cell(t, "GPU0", "GPU1")).isEqualTo("NODE");
        assertThat(cell(t, "GPU0", "GPU2")).isEqualTo("SYS");
        assertThat(cell(t, "NIC0", "NIC1")).isEqualTo("PIX");
        assertThat(cell(t, "GPU3", "GPU3")).isEqualTo("X");
        // GPUs by the Bus-Id column of the plain nvidia-smi table; the ports of each ConnectX-7 by mlx5 order
        assertThat(t.devices).containsExactly(Map.entry("GPU0", "0000:01:00.0"), Map.entry("GPU1", "0000:41:00.0"),
                Map.entry("GPU2", "0000:c1:00.0"), Map.entry("GPU3", "0000:e1:00.0"),
                Map.entry("NIC0", "0000:21:00.0"), Map.entry("NIC1", "0000:21:00.1"),
                Map.entry("NIC2", "0000:81:00.0"), Map.entry("NIC3", "0000:81:00.1"));
        assertThat(t.notes).contains("GPUs matched by nvidia-smi's Bus-Id column", "legend NIC0: mlx5_0");
        // saved in the project's format and read again, it is the same
        MachineDTO again = io.readText("again.yaml", io.format(m, "yaml"), TopologyIO.AUTO);
        assertThat(again.driverTopology.cells).isEqualTo(t.cells);
        assertThat(again.driverTopology.devices).isEqualTo(t.devices);
    }

    @Test
    void thePugetPasteMatchesItsGpusByBusIdAndADgxMatrixCutShortIsMarked() {
        DriverTopologyDTO p = io.read(REAL.resolve("puget-wrx90-threadripper-pro.txt"), TopologyIO.AUTO).driverTopology;
        assertThat(p.names).containsExactly("GPU0", "GPU1", "NIC0", "NIC1");
        assertThat(p.devices).containsEntry("GPU0", "0000:c1:00.0").containsEntry("GPU1", "0000:c2:00.0");
        assertThat(cell(p, "GPU0", "GPU1")).isEqualTo("PHB");
        DriverTopologyDTO d = io.read(REAL.resolve("dgx-a100-nccl-topo-xml-nccl1505.txt"), TopologyIO.AUTO)
                .driverTopology;
        assertThat(d.names).hasSize(20);
        assertThat(cell(d, "GPU0", "GPU1")).isEqualTo("NV12");
        assertThat(cell(d, "GPU0", "NIC0")).isEqualTo("PXB");
        assertThat(cell(d, "GPU7", "GPU0")).isEqualTo("?");
        assertThat(d.notes).anyMatch(n -> n.startsWith("nvidia-smi topo -m: no row for GPU5, GPU6, GPU7"));
    }

    @Test
    void theMatrixParserTakesOnlyWhatIsAMatrix() {
        assertThat(NvidiaSmiParser.topo(List.of("GPU0 is hot", "nothing here"))).isNull();
        DriverTopologyDTO t = NvidiaSmiParser.topo(List.of(
                "        GPU0    mlx5_0  CPU Affinity    NUMA Affinity",
                "GPU0     X      SOC     0-11    0",
                "mlx5_0  SOC      X",
                "GPU0    bogus   X"));
        // an older nvidia-smi: mlx5 names as columns, SOC for SYS; a second row of a name is ignored
        assertThat(t.names).containsExactly("GPU0", "mlx5_0");
        assertThat(t.cells).containsExactly(List.of("X", "SYS"), List.of("SYS", "X"));
        assertThat(NvidiaSmiParser.busIds(List.of(
                "|   0  NVIDIA A100-SXM4-40GB          On  |   00000000:07:00.0 Off |                    0 |",
                "|   1  NVIDIA A100-SXM4-40GB          On  |   00000001:0F:00.0 Off |                    0 |")))
                .containsExactly(Map.entry(0, "0000:07:00.0"), Map.entry(1, "0001:0f:00.0"));
    }

    /** A paste as people post them: the matrix, then nvidia-smi topo -p2p r and w (from NVIDIA's forum threads). */
    static final String P2P_PASTE = String.join("\n",
            "$ nvidia-smi topo -m",
            "        GPU0    GPU1    CPU Affinity    NUMA Affinity",
            "GPU0     X      SYS     0-15    0",
            "GPU1    SYS      X      16-31   1",
            "$ nvidia-smi topo -p2p r",
            " \tGPU0\tGPU1\t",
            " GPU0\tX\tCNS\t",
            " GPU1\tCNS\tX\t",
            "",
            "Legend:",
            "",
            "  X    = Self",
            "  OK   = Status Ok",
            "  CNS  = Chipset not supported",
            "$ nvidia-smi topo -p2p w",
            " \tGPU0\tGPU1\t",
            " GPU0\tX\tOK\t",
            " GPU1\tOK\tX\t");

    @Test
    void theDriversPeerAccessForReadsAndWritesIsReadBesideItsMatrix() throws Exception {
        String lspci = java.nio.file.Files.readString(REAL.resolve("asus-esc8000a-e12-genoa.txt"));
        MachineDTO m = io.readText("p2p.md", lspci.substring(0, lspci.indexOf("## NVIDIA SMI Debug")) + "\n```\n"
                + P2P_PASTE + "\n```\n", TopologyIO.AUTO);
        DriverTopologyDTO t = m.driverTopology;
        assertThat(t.names).containsExactly("GPU0", "GPU1");
        assertThat(t.p2pNames).containsExactly("GPU0", "GPU1");
        assertThat(t.p2pRead).containsExactly(List.of("X", "CNS"), List.of("CNS", "X"));
        assertThat(t.p2pWrite).containsExactly(List.of("X", "OK"), List.of("OK", "X"));
        // without the Bus-Id table the GPUs are the NVIDIA GPUs in bus order
        assertThat(t.devices).containsEntry("GPU0", "0000:01:00.0").containsEntry("GPU1", "0000:41:00.0");
        assertThat(t.notes).anyMatch(n -> n.startsWith("matched by bus order") && n.contains("GPU0 = 0000:01:00.0"));
        MachineDTO again = io.readText("again.yaml", io.format(m, "yaml"), TopologyIO.AUTO);
        assertThat(again.driverTopology.p2pRead).isEqualTo(t.p2pRead);
        // the affinity columns after the matrix, per GPU, and through the own format
        assertThat(t.cpuAffinity).containsExactly(java.util.Map.entry("GPU0", "0-15"), java.util.Map.entry("GPU1", "16-31"));
        assertThat(t.numaAffinity).containsEntry("GPU0", "0").containsEntry("GPU1", "1");
        assertThat(again.driverTopology.cpuAffinity).isEqualTo(t.cpuAffinity);
        assertThat(NvidiaSmiParser.p2p(List.of("GPU0 GPU1", "GPU0 X maybe"))).isNull();
    }
}
