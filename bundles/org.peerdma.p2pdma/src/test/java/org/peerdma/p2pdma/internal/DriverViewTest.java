package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.DriverView;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.internal.PciCoreImpl;

/** The NVIDIA driver's class (nvidia-smi topo -m of the paste) beside the kernel's verdict and the model's class. */
class DriverViewTest {
    private final DoctorFixture f = new DoctorFixture();
    private final org.peerdma.pci.TopologyIO io = f.io;
    private final org.peerdma.pci.internal.PciCoreImpl core = f.core;
    private final DoctorImpl doctor = f.doctor;

    private CheckReport check(PciMachine m, String p, String c) {
        return f.check(m, p, c);
    }

    /** The sample with a driver matrix over two of its GPUs, and the driver's p2p matrices when given. */
    private static org.peerdma.pci.dto.MachineDTO withDriver(org.peerdma.pci.dto.MachineDTO dto, String g0, String g1,
            String cls, java.util.List<java.util.List<String>> read, java.util.List<java.util.List<String>> write) {
        org.peerdma.pci.dto.DriverTopologyDTO t = new org.peerdma.pci.dto.DriverTopologyDTO();
        t.tool = "nvidia-smi topo -m";
        t.names = java.util.List.of("GPU0", "GPU1");
        t.cells = java.util.List.of(java.util.List.of("X", cls), java.util.List.of(cls, "X"));
        t.devices = java.util.Map.of("GPU0", g0, "GPU1", g1);
        if (read != null) {
            t.p2pNames = t.names;
            t.p2pRead = read;
            t.p2pWrite = write;
        }
        dto.driverTopology = t;
        return dto;
    }

    @Test
    void onTheAsusPasteTheDriverAndTheModelAgreeOnEveryPairTheDriverNames() {
        PciMachine m = f.real("asus-esc8000a-e12-genoa.txt");
        DriverView gpus = check(m, "01:00.0", "41:00.0").driver();
        assertThat(gpus.provider()).isEqualTo("GPU0");
        assertThat(gpus.client()).isEqualTo("GPU1");
        assertThat(gpus.driverClass()).isEqualTo("NODE");
        assertThat(gpus.modelClass()).isEqualTo("NODE");
        assertThat(gpus.agrees()).isTrue();
        DriverView nics = check(m, "21:00.0", "21:00.1").driver();
        assertThat(nics.driverClass()).isEqualTo("PIX");
        assertThat(nics.agrees()).isTrue();
        assertThat(nics.notes()).contains("NIC1 (mlx5_1) is 0000:21:00.1 by bus order (nvidia-smi numbers GPUs, "
                + "mlx5_core its ports, in PCI bus order): a guess");
        assertThat(gpus.notes()).containsExactly("GPU0 is 0000:01:00.0 by nvidia-smi's Bus-Id column",
                "GPU1 is 0000:41:00.0 by nvidia-smi's Bus-Id column");
        CheckReport across = check(m, "01:00.0", "c1:00.0");
        assertThat(across.driver().driverClass()).isEqualTo("SYS");
        assertThat(doctor.text(across)).contains("driver   nvidia-smi topo -m: GPU0-GPU2 SYS; the model's class SYS (agree)");
        // a device the driver does not list: no driver view
        assertThat(check(m, "01:00.0", "65:00.0").driver()).isNull();
    }

    @Test
    void theDriversNodeSettlesTheModelsNodeQuestionMark() {
        PciMachine m = f.real("puget-wrx90-threadripper-pro.txt");
        DriverView v = check(m, "c1:00.0", "21:00.0").driver();
        assertThat(v.modelClass()).isEqualTo("NODE?");
        assertThat(v.driverClass()).isEqualTo("NODE");
        assertThat(v.agrees()).isTrue();
        assertThat(v.notes()).anyMatch(n -> n.startsWith("the driver's NODE settles the model's NODE?"));
    }

    @Test
    void nvlinkAndARefusedPairAreExplained() {
        // the sample with a driver matrix where its two A100s share NVLink
        org.peerdma.pci.dto.MachineDTO dto = withDriver(io.sample(), "0000:03:00.0", "0000:04:00.0", "NV12", null,
                null);
        org.peerdma.pci.dto.DriverTopologyDTO t = dto.driverTopology;
        PciMachine m = core.load(dto);
        DriverView v = check(m, "03:00.0", "04:00.0").driver();
        assertThat(v.driverClass()).isEqualTo("NV12");
        assertThat(v.modelClass()).isEqualTo("PIX");
        assertThat(v.agrees()).isFalse();
        assertThat(v.notes()).anyMatch(n -> n.startsWith("NVLink (NV12)"));
        // a matrix whose rows do not match its names is refused at load
        t.cells = java.util.List.of(java.util.List.of("X", "NV12"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> core.load(dto))
                .hasMessageContaining("driverTopology: 2 names but 1 rows");
        // the kernel refuses across sockets with v4.20's rules; the driver's SYS is its own answer
        PciMachine a = f.real("asus-esc8000a-e12-genoa.txt");
        CheckReport old = doctor.check(a, core.get(Bdf.parse("01:00.0")), core.get(Bdf.parse("c1:00.0")),
                doctor.rules("v4.20", "-k"));
        assertThat(old.verdict().mapType()).isEqualTo("NOT_SUPPORTED");
        assertThat(old.driver().notes()).anyMatch(n -> n.contains("the NVIDIA driver does not use p2pdma"));
    }

    @Test
    void theDriversChipsetTableRefusingReadsIsNotTheKernel() {
        org.peerdma.pci.dto.MachineDTO dto = withDriver(io.sample(), "0000:03:00.0", "0000:81:00.0", "SYS",
                java.util.List.of(java.util.List.of("X", "CNS"), java.util.List.of("CNS", "X")),
                java.util.List.of(java.util.List.of("X", "OK"), java.util.List.of("OK", "X")));
        PciMachine m = core.load(dto);
        CheckReport r = check(m, "03:00.0", "81:00.0");
        assertThat(r.verdict().mapType()).isEqualTo("THRU_HOST_BRIDGE");
        DriverView v = r.driver();
        assertThat(v.read()).isEqualTo("CNS");
        assertThat(v.write()).isEqualTo("OK");
        assertThat(v.notes()).contains("CNS: the NVIDIA driver's chipset table refuses peer access here, not the "
                + "kernel (p2pdma would allow it: THRU_HOST_BRIDGE)", "the driver treats the directions apart: writes "
                + "OK, reads CNS");
        assertThat(doctor.text(r)).contains("driver   nvidia-smi topo -p2p: reads CNS, writes OK\n");
        // the kernel refuses (v4.20) where the driver says OK: the driver does not use p2pdma
        CheckReport old = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0")),
                doctor.rules("v4.20", "-k"));
        assertThat(old.driver().notes()).anyMatch(n -> n.startsWith("the driver allows peer access (reads CNS, "
                + "writes OK) where the kernel's p2pdma refuses"));
    }
}
