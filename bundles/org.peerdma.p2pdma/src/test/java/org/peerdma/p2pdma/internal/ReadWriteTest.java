package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.Directions;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** Writes and reads apart, on the sample and on real machines, beside the kernel's direction-blind verdict. */
class ReadWriteTest {
    private static final Path REAL = DoctorFixture.REAL;
    private final DoctorFixture f = new DoctorFixture();
    private final TopologyIO io = f.io;
    private final PciCoreImpl core = f.core;
    private final DoctorImpl doctor = f.doctor;

    private Directions rw(PciMachine m, String p, String c) {
        CheckReport r = f.check(m, p, c);
        assertThat(doctor.text(r)).contains("hardware writes " + r.directions().write() + ", reads "
                + r.directions().read());
        return r.directions();
    }

    @Test
    void belowASwitchBothDirectionsAcrossAXeonWritesOnlyDocumented() {
        PciMachine m = core.load(io.sample());
        Directions sw = rw(m, "05:00.0", "06:00.0");
        assertThat(List.of(sw.write(), sw.read(), sw.platform())).containsExactly("yes", "yes", "PCIe switch");
        assertThat(sw.documented()).isTrue();
        // across sockets of a whitelisted Skylake-SP: the kernel allows it; reads are not documented apart
        Directions xeon = rw(m, "03:00.0", "81:00.0");
        assertThat(List.of(xeon.write(), xeon.read(), xeon.platform()))
                .containsExactly("yes", "unknown", "Intel Xeon root complex");
        assertThat(xeon.documented()).isFalse();
        // redirected by ACS up to the root complex: the root complex decides, not the switch
        assertThat(rw(m, "03:00.0", "05:00.0").basis()).startsWith("redirected by ACS up to the root complex");
    }

    @Test
    void anIntelClientRootComplexForwardsWritesOnly() {
        // Rocket Lake-S 8086:4c43 with two Arc Pro B70 below a PEX880xx whose ports redirect: through the root
        // complex, where the thread measured all-ones reads (intel/compute-runtime#935)
        PciMachine m = core.load(io.read(REAL.resolve("intel-b70-rocketlake-pex880xx-acs.txt"), TopologyIO.AUTO));
        List<PciDevice> gpus = doctor.endpoints(m).stream().filter(d -> Kinds.of(d).equals("gpu"))
                .toList();
        assertThat(gpus).hasSizeGreaterThanOrEqualTo(2);
        // the dump has no ACS blocks; the thread's "ECAP_ACS+0x6.w=000c on every ReqRedir-capable bridge"
        assertThat(rw(m, gpus.get(0).name(), gpus.get(1).name()).platform()).isEqualTo("PCIe switch");
        MachineDTO dto = core.snapshot();
        for (var dev : dto.devices) {
            if (dev.bdf != null && core.get(Bdf.parse(dev.bdf)).isBridge() && !dev.bdf.endsWith(":00:01.0")) {
                dev.acs = new org.peerdma.pci.dto.AcsDTO();
                dev.acs.cap = 0x5f;
                dev.acs.ctrl = 0x000c;
            }
        }
        // the excerpt's tree lacks 00:00.0 (8086:4c43): without the CPU nothing names the root complex
        m = core.load(dto);
        assertThat(rw(m, gpus.get(0).name(), gpus.get(1).name()).read()).isEqualTo("unknown");
        dto.cpu = new org.peerdma.pci.dto.CpuDTO();
        dto.cpu.vendor = "GenuineIntel";
        dto.cpu.family = 6;
        m = core.load(dto);
        Directions d = rw(m, gpus.get(0).name(), gpus.get(1).name());
        assertThat(List.of(d.write(), d.read(), d.platform())).containsExactly("yes", "no", "Intel client root complex");
        assertThat(d.documented()).isTrue();
        assertThat(d.source()).contains("open-gpu-kernel-modules/issues/1253");
    }

    @Test
    void amdZenBothDirectionsPreZenWritesOnly() {
        PciMachine m = core.load(io.read(REAL.resolve("asus-esc8000a-e12-genoa.txt"), TopologyIO.AUTO));
        // RTX 6000 Ada below root ports of different host bridges
        Directions zen = rw(m, "01:00.0", "41:00.0");
        assertThat(List.of(zen.write(), zen.read(), zen.platform())).containsExactly("yes", "yes", "AMD Zen root complex");
        MachineDTO old = core.snapshot();
        old.cpu.family = 0x15;
        m = core.load(old);
        Directions pre = rw(m, "01:00.0", "41:00.0");
        assertThat(List.of(pre.write(), pre.read(), pre.platform()))
                .containsExactly("yes", "no", "AMD pre-Zen root complex");
    }
}
