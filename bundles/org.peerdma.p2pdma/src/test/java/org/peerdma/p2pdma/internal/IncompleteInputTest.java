package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.MachineAudit;
import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.internal.TestIo;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.testkit.Schemas;

/**
 * What the doctor says when the input is incomplete: a kernel release it cannot map, dumps without class
 * codes, ACS state or NUMA nodes. It answers as described and says what it assumed.
 */
class IncompleteInputTest {
    private static final Path REAL = TestIo.shared().resolve("topologies/real");
    private final TopologyIO io = TestIo.io();
    private final PciCoreImpl core = new PciCoreImpl();
    private final DoctorImpl doctor = DoctorImpl.standalone(core,
            P2pdmaImpl.standalone(core, TestZone.zone(), null, "newest", 0));

    private PciDevice dev(String bdf) {
        return core.get(Bdf.parse(bdf));
    }

    private PciMachine real(String name) {
        return core.load(io.read(REAL.resolve(name), TopologyIO.AUTO));
    }

    @Test
    void aMachinesOwnKernelReleaseChoosesItsRules() {
        MachineDTO dto = io.sample();
        dto.kernelRelease = "5.2.9-arch1";
        PciMachine m = core.load(dto);
        RuleSet rs = doctor.rulesFor(m);
        assertThat(rs.name()).isEqualTo("v5.2");
        assertThat(rs.release()).isEqualTo("5.2.9-arch1");
        assertThat(rs.note()).isNull();
        CheckReport r = doctor.check(m, dev("03:00.0"), dev("05:00.0"), null);
        assertThat(r.ruleSet().name()).isEqualTo("v5.2");
        assertThat(doctor.text(r)).contains("[v5.2 rules, for kernel 5.2.9-arch1]");
        // -k still wins
        assertThat(doctor.check(m, dev("03:00.0"), dev("05:00.0"), doctor.rules("newest", "-k")).ruleSet().name())
                .isEqualTo("newest");
        // without a release: the module parameter
        assertThat(doctor.rulesFor(core.load(io.sample())).source()).isEqualTo("module parameter");
    }

    @Test
    void aReleaseThatCannotBeMappedGivesRulesWithANoteNotAnError() {
        RuleSet weird = DoctorImpl.releaseRules("weird-kernel", "capture");
        assertThat(weird.name()).isEqualTo("newest");
        assertThat(weird.note()).contains("'weird-kernel' is not a version number").contains("-k");
        RuleSet el7 = DoctorImpl.releaseRules("3.10.0-1160.el7.x86_64", "capture");
        assertThat(el7.name()).isEqualTo("v4.20");
        assertThat(el7.note()).contains("predates p2pdma").contains("v4.20");

        MachineDTO dto = io.sample();
        dto.kernelRelease = "weird-kernel";
        PciMachine m = core.load(dto);
        CheckReport r = doctor.check(m, dev("03:00.0"), dev("05:00.0"), null);
        assertThat(doctor.text(r)).contains("rules    kernel release 'weird-kernel' is not a version number");
        assertThat(Schemas.problems(doctor.json(r))).isEmpty();
        MachineAudit a = doctor.audit(m, null);
        assertThat(a.notes()).anyMatch(n -> n.contains("weird-kernel"));
        assertThat(doctor.text(a)).contains("note: kernel release 'weird-kernel'");
        MatrixReport mx = doctor.matrix(m, doctor.endpoints(m), null, Set.of());
        assertThat(doctor.text(mx)).contains("newest (v7.x) rules: kernel release 'weird-kernel'");
    }

    @Test
    void pairsBehindPortsWithoutAcsStateAreCountedAsUncertain() {
        MachineDTO dto = io.sample();
        for (var d : dto.devices) {
            d.acs = null; // as a dump taken without root shows them
            d.extendedCapsKnown = false;
        }
        PciMachine m = core.load(dto);
        MachineAudit a = doctor.audit(m, null);
        assertThat(a.uncertainPairs()).isPositive();
        MachineAudit.AuditPair gpuNic = a.devicePairs().stream()
                .filter(p -> p.provider().equals("0000:03:00.0") && p.client().equals("0000:05:00.0")).findFirst()
                .orElseThrow();
        assertThat(gpuNic.mapType()).isEqualTo("BUS_ADDR");
        assertThat(gpuNic.ifAcsRedirect()).isEqualTo("THRU_HOST_BRIDGE");
        // the explained check agrees: the same pair, were its ports to redirect
        CheckReport r = doctor.check(m, dev("03:00.0"), dev("05:00.0"), null);
        assertThat(r.alternatives()).anyMatch(alt -> alt.mapType().equals("THRU_HOST_BRIDGE"));
        assertThat(a.notes()).anyMatch(n -> n.contains("depend on ACS state the description lacks"));
        // a dump with every ACS bit known has no uncertain pair
        assertThat(doctor.audit(core.load(io.sample()), null).uncertainPairs()).isZero();
    }

    @Test
    void aTreeOnlyDumpGetsKindsFromNamesAndSaysSo() {
        PciMachine m = real("intel-b70-rocketlake-pex880xx-acs.txt");
        MachineAudit a = doctor.audit(m, null);
        assertThat(a.kinds()).containsEntry("gpu", 2);
        assertThat(a.notes()).anyMatch(n -> n.contains("kinds read from their names (2 gpu, 1 other)"));
        assertThat(a.unknownKinds()).isEmpty();

        MachineAudit asus = doctor.audit(real("asus-esc8000a-e12-genoa.txt"), null);
        // 16 drives behind the HighPoint switches and the boot drive, though the tree has no class codes
        assertThat(asus.kinds()).containsEntry("nvme", 17).doesNotContainKey("unknown");
        MachineAudit puget = doctor.audit(real("puget-wrx90-threadripper-pro.txt"), null);
        assertThat(puget.unknownKinds()).containsExactly("0000:88:00.0", "0000:89:00.0"); // ASMedia 2425/2426
        assertThat(puget.notes()).anyMatch(n -> n.contains("2 endpoint(s) below ports of unknown kind"));
    }

    @Test
    void kindsFromNames() {
        Map<String, String> cases = Map.ofEntries(
                Map.entry("NVMe SSD Controller SM981/PM981/PM983", "nvme"),
                Map.entry("SSD7540 PCIe Gen4 x16 8-Port M.2 NVMe RAID Controller", "storage"),
                Map.entry("AD102 High Definition Audio Controller", "other"),
                Map.entry("AD102GL [RTX 6000 Ada Generation]", "gpu"),
                Map.entry("GA100 [A100 SXM4 40GB]", "gpu"),
                Map.entry("Battlemage G31", "gpu"),
                Map.entry("MT2910 Family [ConnectX-7]", "nic"),
                Map.entry("Ethernet Controller X710 for 10GBASE-T", "nic"),
                Map.entry("PEX880xx PCIe Gen 4 Switch", "other"),
                Map.entry("Gaudi2 AI Training Accelerator", "accelerator"),
                Map.entry("Device 149f", Kinds.UNKNOWN),
                Map.entry("", Kinds.UNKNOWN));
        cases.forEach((name, kind) -> assertThat(Kinds.fromName(name)).as(name).isEqualTo(kind));
    }

    @Test
    void nvidiaSmiClassesOfTheAsusMachineAreTheOnesNvidiaSmiPrinted() {
        PciMachine m = real("asus-esc8000a-e12-genoa.txt");
        // nvidia-smi topo -m in the dump; GPU0-3 and NIC0-3 (mlx5_0..3) by bus address
        List<String> names = List.of("01:00.0", "41:00.0", "c1:00.0", "e1:00.0", "21:00.0", "21:00.1", "81:00.0",
                "81:00.1");
        String[][] expected = {
            {"X", "NODE", "SYS", "SYS", "NODE", "NODE", "SYS", "SYS"},
            {"NODE", "X", "SYS", "SYS", "NODE", "NODE", "SYS", "SYS"},
            {"SYS", "SYS", "X", "NODE", "SYS", "SYS", "NODE", "NODE"},
            {"SYS", "SYS", "NODE", "X", "SYS", "SYS", "NODE", "NODE"},
            {"NODE", "NODE", "SYS", "SYS", "X", "PIX", "SYS", "SYS"},
            {"NODE", "NODE", "SYS", "SYS", "PIX", "X", "SYS", "SYS"},
            {"SYS", "SYS", "NODE", "NODE", "SYS", "SYS", "X", "PIX"},
            {"SYS", "SYS", "NODE", "NODE", "SYS", "SYS", "PIX", "X"}};
        for (int i = 0; i < names.size(); i++) {
            for (int j = 0; j < names.size(); j++) {
                CheckReport r = doctor.check(m, dev(names.get(i)), dev(names.get(j)), null);
                assertThat(r.nvidiaSmiClass()).as(names.get(i) + " -> " + names.get(j)).isEqualTo(expected[i][j]);
            }
        }
        List<PciDevice> devs = names.stream().map(this::dev).toList();
        MatrixReport mx = doctor.matrix(m, devs, null, Set.of());
        for (MatrixReport.Pair p : mx.pairs()) {
            int i = names.indexOf(p.provider().substring(5));
            int j = names.indexOf(p.client().substring(5));
            assertThat(p.nvidiaSmiClass()).as(p.provider() + " -> " + p.client()).isEqualTo(expected[i][j]);
        }
        // the NUMA node of 21:00.1's host bridge comes from its sibling 21:00.0: said in the notes
        assertThat(m.notes()).anyMatch(n -> n.startsWith("NUMA nodes of host bridges from the devices below them")
                && n.contains("pci0000:20 0"));
    }

    @Test
    void twoFunctionsOfOneDeviceOnARootPortArePix() {
        PciMachine m = core.load(io.sample());
        CheckReport r = doctor.check(m, dev("08:00.0"), dev("08:00.1"), null);
        assertThat(r.verdict().commonUpstream()).isNotNull();
        assertThat(r.nvidiaSmiClass()).isEqualTo("PIX");
        assertThat(doctor.check(m, dev("08:00.0"), dev("08:00.0"), null).nvidiaSmiClass()).isEqualTo("X");
        assertThat(doctor.matrix(m, doctor.endpoints(m), null, Set.of("NODE?")).classes()).contains("NODE?");
    }
}
