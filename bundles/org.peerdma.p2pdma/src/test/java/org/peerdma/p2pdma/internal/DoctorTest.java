package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.MachineAudit;
import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.p2pdma.doctor.WhatIfReport;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.imports.internal.TestIo;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.testkit.Schemas;

/** The doctor's reports: what they say, and that their JSON follows docs/schema on every real machine. */
class DoctorTest {
    private final TopologyIO io = TestIo.io();
    private final PciCoreImpl core = new PciCoreImpl();
    private final DoctorImpl doctor = DoctorImpl.standalone(core,
            P2pdmaImpl.standalone(core, TestZone.zone(), null, "newest", 0));

    private PciDevice dev(String bdf) {
        return core.get(Bdf.parse(bdf));
    }

    @Test
    void sampleCheckExplainsTheRedirectAndItsFix() {
        PciMachine m = core.load(io.sample());
        CheckReport r = doctor.check(m, dev("03:00.0"), dev("05:00.0"), null);
        assertThat(r.verdict().mapType()).isEqualTo("THRU_HOST_BRIDGE");
        assertThat(r.verdict().ruleId()).isEqualTo("acs-redirect-host-bridge");
        assertThat(r.verdict().exitStatus()).isZero();
        assertThat(r.remediation().bootOption()).isEqualTo("pci=disable_acs_redir=0000:02:08.0");
        // SV RR CR UF set: the setpci clears exactly RR and CR (value 0 under mask 0x000c)
        assertThat(r.remediation().ports()).singleElement().satisfies(p -> {
            assertThat(p.clearBits()).containsExactly("RR", "CR");
            assertThat(p.setpci()).isEqualTo("setpci -s 0000:02:08.0 ECAP_ACS+6.w=0000:000c");
        });
        assertThat(r.remediation().modelCommand()).isEqualTo(
                "rmmod -f pci ; modprobe pci \"pci=disable_acs_redir=0000:02:08.0\"");
        assertThat(r.otherKernels()).extracting(k -> k.ruleSet() + " " + k.mapType())
                .containsExactly("v4.20 NOT_SUPPORTED", "v5.2 NOT_SUPPORTED", "v5.1x THRU_HOST_BRIDGE");
        assertThat(doctor.text(r)).contains("fix at boot: pci=disable_acs_redir=0000:02:08.0")
                .contains("nvidia-smi class: PIX");
        // the fix, applied for real, gives the bus address
        core.setAcsCtrl(Bdf.parse("02:08.0"), 0);
        CheckReport after = doctor.check(m, dev("03:00.0"), dev("05:00.0"), null);
        assertThat(after.verdict().ruleId()).isEqualTo("common-upstream");
        assertThat(after.remediation()).isNull();
    }

    @Test
    void ruleIdsOfTheExplainedAndTheFastCalculationAgree() {
        for (Path f : realDumps()) {
            PciMachine m = core.load(io.read(f, TopologyIO.AUTO));
            List<PciDevice> eps = doctor.endpoints(m);
            for (KernelVersion v : KernelVersion.values()) {
                RuleSet rs = DoctorImpl.ruleSet(v, null, "test");
                MachineAudit a = doctor.audit(m, rs);
                for (MachineAudit.AuditPair p : a.devicePairs()) {
                    CheckReport r = doctor.check(m, dev(p.provider()), dev(p.client()), rs);
                    assertThat(r.verdict().ruleId()).as(f.getFileName() + " " + v + " " + p.provider() + "->"
                            + p.client()).isEqualTo(p.ruleId());
                    assertThat(r.verdict().mapType()).isEqualTo(p.mapType());
                    assertThat(r.remediation() == null ? "" : r.remediation().bootOption().substring(22))
                            .isEqualTo(p.redirecting());
                }
                long pairs = a.pairs().values().stream().mapToLong(Integer::longValue).sum();
                assertThat(pairs).isEqualTo((long) eps.size() * (eps.size() - 1));
            }
        }
    }

    @Test
    void everyReportOfEveryRealMachineFollowsTheSchema() {
        for (Path f : realDumps()) {
            PciMachine m = core.load(io.read(f, TopologyIO.AUTO));
            List<PciDevice> eps = doctor.endpoints(m);
            if (eps.size() < 2) {
                continue;
            }
            List<PciDevice> some = eps.subList(0, Math.min(eps.size(), 12));
            for (PciDevice p : some) {
                for (PciDevice c : some) {
                    if (p != c) {
                        assertThat(Schemas.problems(doctor.json(doctor.check(m, p, c, null))))
                                .as(f.getFileName() + " check " + p.name() + " " + c.name()).isEmpty();
                    }
                }
            }
            MatrixReport mx = doctor.matrix(m, some, null, Set.of());
            assertThat(mx.pairs()).hasSize(some.size() * (some.size() - 1));
            assertThat(Schemas.problems(doctor.json(mx))).as(f.getFileName() + " matrix").isEmpty();
        }
    }

    @Test
    void theSchemaRefusesADocumentThatDriftedFromIt() {
        PciMachine m = core.load(io.sample());
        String json = doctor.json(doctor.check(m, dev("03:00.0"), dev("05:00.0"), null));
        assertThat(Schemas.problems(json)).isEmpty();
        assertThat(Schemas.problems(json.replace("\"ruleId\" : \"acs-redirect-host-bridge\"", "\"ruleId\" : \"made-up\"")))
                .isNotEmpty();
        assertThat(Schemas.problems(json.replace("\"nvidiaSmiClass\"", "\"nvidiaSmiKlass\""))).isNotEmpty();
        assertThat(Schemas.problems(json.replace("\"schemaVersion\" : \"" + P2pDoctor.SCHEMA_VERSION + "\"", "\"schemaVersion\" : \"2.0\"")))
                .isNotEmpty();
    }

    @Test
    void jsonKeepsTheDocumentedFieldOrder() {
        PciMachine m = core.load(io.sample());
        String json = doctor.json(doctor.check(m, dev("03:00.0"), dev("05:00.0"), null));
        assertThat(json).startsWith("{\n  \"schemaVersion\" : \"" + P2pDoctor.SCHEMA_VERSION + "\",\n  \"kind\" : \"check\",\n  \"machine\" : {");
        assertThat(json.indexOf("\"verdict\"")).isLessThan(json.indexOf("\"path\""));
        assertThat(json).contains("\"remediation\" : {").contains("\"alternatives\" : [ ]");
    }

    @Test
    void matrixFilterKeepsOnlyTheClassesAsked() {
        PciMachine m = core.load(io.sample());
        MatrixReport all = doctor.matrix(m, doctor.endpoints(m), null, Set.of());
        MatrixReport pix = doctor.matrix(m, doctor.endpoints(m), null, Set.of("pix"));
        assertThat(pix.pairs()).isNotEmpty().allMatch(p -> p.nvidiaSmiClass().equals("PIX"));
        assertThat(pix.pairs()).hasSize((int) all.pairs().stream().filter(p -> p.nvidiaSmiClass().equals("PIX")).count());
        assertThat(doctor.text(pix)).contains("'-' = not PIX");
        assertThatThrownBy(() -> doctor.matrix(m, doctor.endpoints(m), null, Set.of("PIXX")))
                .isInstanceOf(KernelException.class).hasMessageContaining("unknown nvidia-smi class 'PIXX'");
    }

    @Test
    void matrixPairsEqualThePerPairChecks() {
        PciMachine m = core.load(io.sample());
        List<PciDevice> eps = doctor.endpoints(m);
        MatrixReport mx = doctor.matrix(m, eps, null, Set.of());
        for (MatrixReport.Pair p : mx.pairs()) {
            CheckReport r = doctor.check(m, dev(p.provider()), dev(p.client()), null);
            assertThat(p.mapType()).isEqualTo(r.verdict().mapType());
            assertThat(p.distance()).isEqualTo(r.verdict().distance());
            assertThat(p.nvidiaSmiClass()).isEqualTo(r.nvidiaSmiClass());
        }
    }

    @Test
    void unknownAcsOnThePathMakesTheAnswerDepend() {
        // hwloc has no ACS: the K80 pair below the on-board PEX 8747 is BUS_ADDR only if no port redirects
        PciMachine m = core.load(io.read(TestIo.shared().resolve(
                "topologies/real/hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt"), TopologyIO.AUTO));
        CheckReport r = doctor.check(m, dev("06:00.0"), dev("07:00.0"), null);
        assertThat(r.verdict().mapType()).isEqualTo("BUS_ADDR");
        assertThat(r.alternatives()).isNotEmpty().allSatisfy(a -> assertThat(a.condition()).contains("ACS redirect"));
        // with a redirect the pair crosses a Haswell-EP host bridge, not whitelisted: the answer flips
        boolean flips = r.alternatives().stream().anyMatch(a -> !a.supported());
        assertThat(r.verdict().answer()).isEqualTo(flips ? "depends" : "supported");
        assertThat(r.verdict().exitStatus()).isEqualTo(flips ? 2 : 0);
    }

    @Test
    void anIntelHostBridgeSettlesAnUnknownCpu() {
        PciMachine m = core.load(io.read(TestIo.shared().resolve(
                "topologies/real/dell-r730-broadwell-ep-2xp100-nvme.txt"), TopologyIO.AUTO));
        assertThat(m.cpu().isUnknown()).isTrue();
        CheckReport r = doctor.check(m, dev("81:00.0"), dev("82:00.0"), null);
        assertThat(r.verdict().answer()).isEqualTo("not-supported");
        assertThat(r.assumptions()).anyMatch(a -> a.contains("the host bridges are Intel's"));
        assertThat(r.alternatives()).isEmpty();
    }

    @Test
    void releasesMapToTheirRuleSets() {
        assertThat(doctor.rules("6.8", "-k").id()).isEqualTo("V5_X");
        assertThat(doctor.rules("6.8.0-45-generic", "capture").release()).isEqualTo("6.8.0-45-generic");
        assertThat(doctor.rules("5.3.0", "-k").id()).isEqualTo("V5_2");
        assertThat(doctor.rules("4.20", "-k").id()).isEqualTo("V4_20");
        assertThat(doctor.rules("5.0.21", "-k").id()).isEqualTo("V4_20");
        assertThat(doctor.rules("7.1-rc2", "-k").id()).isEqualTo("NEWEST");
        assertThat(doctor.rules("v5.x", "-k").id()).isEqualTo("V5_X");
        assertThatThrownBy(() -> doctor.rules("4.19", "-k")).hasMessageContaining("merged in v4.20");
        assertThatThrownBy(() -> doctor.rules("bogus", "-k")).hasMessageContaining("unknown kernel 'bogus'");
    }

    @Test
    void whatIfIommuPredictsTheAcsTheKernelEnablesAndSoTheVerdict() {
        core.load(io.sample());
        // NIC and NVMe below ports that do not redirect: bus address; an IOMMU's pci_std_enable_acs sets RR/CR
        WhatIfReport on = doctor.whatIf("05:00.0", "06:00.0", List.of("iommu=on"), null);
        assertThat(on.before().mapType()).isEqualTo("BUS_ADDR");
        assertThat(on.after().verdict().mapType()).isEqualTo("THRU_HOST_BRIDGE");
        assertThat(on.changes().get(0)).startsWith("IOMMU on: pci_request_acs(), so pci_std_enable_acs() sets SV RR");
        assertThat(on.after().remediation()).isNotNull();

        // the planner's fix, booted with the IOMMU on: the 6.15 rules (and 6.12.23) give the named ports their
        // firmware value minus the redirect bits, dropping the SV and UF the kernel set; before 6.11 those stay
        String opt = on.after().remediation().bootOption();
        String port = on.after().remediation().ports().get(0).bdf();
        int fw = core.get(org.peerdma.pci.Bdf.parse(port)).acsCtrl();
        int cap = core.get(org.peerdma.pci.Bdf.parse(port)).acsCap();
        WhatIfReport fixed = doctor.whatIf("05:00.0", "06:00.0", List.of("iommu=on", opt, "kernel=6.12.23"), null);
        assertThat(fixed.after().verdict().mapType()).isEqualTo("BUS_ADDR");
        assertThat(fixed.changes()).contains(String.format("booted: %s: Configured ACS to %#06x", port,
                fw & ~org.peerdma.pci.Acs.REDIRECT_BITS));
        WhatIfReport v5 = doctor.whatIf("05:00.0", "06:00.0", List.of("iommu=on", opt, "kernel=5.15"), null);
        assertThat(v5.after().verdict().mapType()).isEqualTo("BUS_ADDR");
        assertThat(v5.changes()).contains("booted: " + port + ": disabled ACS redirect");
        assertThat(v5.after().path()).filteredOn(h -> h.bdf().equals(port)).singleElement()
                .satisfies(h -> assertThat(Integer.parseInt(h.acs().ctrl(), 16)).isEqualTo(
                        (fw | cap & 0x1d) & ~org.peerdma.pci.Acs.REDIRECT_BITS));
        assertThat(Schemas.problems(doctor.json(fixed))).isEmpty();
        assertThatThrownBy(() -> doctor.whatIf("05:00.0", "06:00.0", List.of("pci="), null))
                .hasMessageContaining("pci= takes the kernel's options");
        assertThat(doctor.whatIf("05:00.0", "06:00.0", List.of("iommu=pt"), null).after().verdict().mapType())
                .isEqualTo("THRU_HOST_BRIDGE");
        assertThat(doctor.whatIf("05:00.0", "06:00.0", List.of("iommu=off"), null).after().verdict().mapType())
                .isEqualTo("BUS_ADDR");
        assertThat(Schemas.problems(doctor.json(on))).isEmpty();
        assertThatThrownBy(() -> doctor.whatIf("05:00.0", "06:00.0", List.of("iommu=maybe"), null))
                .hasMessageContaining("iommu= takes on, pt or off");
    }

    @Test
    void whatIfArchGivesWhatLoadingThatArchGives() {
        core.load(io.sample());
        // arm64 with no whitelist row for its host bridges (the arm64 module's default) refuses host-bridge paths
        WhatIfReport w = doctor.whatIf("03:00.0", "05:00.0", List.of("arch=arm64"), null);
        assertThat(w.before().mapType()).isEqualTo("THRU_HOST_BRIDGE");
        assertThat(w.after().verdict().mapType()).isEqualTo(MapType.NOT_SUPPORTED.name());
        assertThat(w.after().hostBridges().bridges().get(0).why()).contains("arm64 arch has no host-bridge whitelist");
        assertThat(Schemas.problems(doctor.json(w))).isEmpty();
        assertThatThrownBy(() -> doctor.whatIf("03:00.0", "05:00.0", List.of("acs:02:08.0=zz"), null))
                .hasMessageContaining("'zz' is not a hex ACS control value");
    }

    private static List<Path> realDumps() {
        try (Stream<Path> s = Files.list(TestIo.shared().resolve("topologies/real"))) {
            return s.sorted().toList();
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
