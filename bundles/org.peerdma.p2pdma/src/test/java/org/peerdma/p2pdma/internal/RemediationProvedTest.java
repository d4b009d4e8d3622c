package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.Remediation;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.internal.TestIo;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.internal.TestCmdline;
import org.peerdma.testkit.Schemas;

/**
 * The doctor advises only options the model understands: booting the same machine with each boot option it
 * prints (disable_acs_redir= and the 6.11+ config_acs= form) makes the pair go peer to peer, as the real
 * kernel would, and config_acs keeps the ports' other ACS bits.
 */
class RemediationProvedTest {
    private static final Path REAL = TestIo.shared().resolve("topologies/real");
    private final TopologyIO io = TestIo.io();

    /** The doctor over {@code core}, wired as DS would wire it. */
    private static DoctorImpl doctorOf(PciCoreImpl core) {
        return DoctorImpl.standalone(core, P2pdmaImpl.standalone(core, TestZone.zone(), null, "newest", 0));
    }

    private CheckReport check(PciCoreImpl core, MachineDTO dto, String p, String c) {
        PciMachine m = core.load(dto);
        DoctorImpl doctor = doctorOf(core);
        CheckReport r = doctor.check(m, core.get(Bdf.parse(p)), core.get(Bdf.parse(c)), null);
        assertThat(Schemas.problems(doctor.json(r))).isEmpty();
        return r;
    }

    private void proved(MachineDTO dto, String p, String c) {
        CheckReport before = check(new PciCoreImpl(), dto, p, c);
        Remediation fix = before.remediation();
        assertThat(fix).isNotNull();
        assertThat(before.verdict().mapType()).isNotEqualTo("BUS_ADDR");
        for (String option : new String[] {fix.bootOption(), fix.configAcs()}) {
            PciCoreImpl booted = TestCmdline.core(option);
            CheckReport after = check(booted, dto, p, c);
            assertThat(after.verdict().mapType()).as(option).isEqualTo("BUS_ADDR");
            assertThat(after.remediation()).as(option).isNull();
            assertThat(booted.cmdlineLog()).as(option).noneMatch(l -> l.contains("Unknown option")
                    || l.contains("Invalid ACS") || l.contains("Can't parse"));
            for (Remediation.PortFix port : fix.ports()) {
                int was = new PciCoreImpl().load(dto).devices().stream().filter(d -> d.name().equals(port.bdf()))
                        .findFirst().orElseThrow().acsCtrl();
                int now = booted.get(Bdf.parse(port.bdf())).acsCtrl();
                assertThat(now).as(option + " on " + port.bdf()).isEqualTo(was & ~org.peerdma.pci.Acs.REDIRECT_BITS);
            }
        }
    }

    @Test
    void theSamplesAdviceMakesThePairPeerToPeer() {
        assertThat(DoctorImpl.configAcsBits(0x11)).isEqualTo("0010001");
        CheckReport r = check(new PciCoreImpl(), io.sample(), "03:00.0", "05:00.0");
        assertThat(r.remediation().configAcs()).isEqualTo("pci=config_acs=0010001@0000:02:08.0");
        proved(io.sample(), "03:00.0", "05:00.0");
        proved(io.sample(), "03:00.0", "04:00.0");
    }

    /**
     * The check proves its own advice: each option booted on a copy under the rules' release. On 6.12.0 (before
     * 9cf8a952d57b) disable_acs_redir= puts back the redirect bits the firmware set, so the advice fails there
     * and the note says so; before 6.11 config_acs= is not offered as proved.
     */
    @Test
    void theCheckProvesEachOptionUnderItsKernelRelease() {
        PciCoreImpl core = new PciCoreImpl();
        PciMachine m = core.load(io.sample());
        DoctorImpl doctor = doctorOf(core);
        CheckReport newest = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("05:00.0")), null);
        assertThat(newest.remediation().proofs()).extracting(Remediation.Proof::mapType)
                .containsExactly("BUS_ADDR", "BUS_ADDR");
        assertThat(newest.remediation().proofs().get(0).ports()).containsExactly("0000:02:08.0 0x0011");
        assertThat(newest.remediation().kernelNotes()).anyMatch(n -> n.contains("neither option clears a redirect bit"));
        assertThat(Schemas.problems(doctor.json(newest))).isEmpty();
        assertThat(doctor.text(newest)).contains("booted a copy with pci=disable_acs_redir=0000:02:08.0: BUS_ADDR, the "
                + "fix works (0000:02:08.0 0x0011)");

        CheckReport unfixed = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("05:00.0")),
                doctor.rules("6.12", "-k"));
        assertThat(unfixed.remediation().proofs()).extracting(Remediation.Proof::mapType)
                .containsExactly("THRU_HOST_BRIDGE", "THRU_HOST_BRIDGE");
        assertThat(unfixed.remediation().kernelNotes()).singleElement().asString()
                .startsWith("kernel 6.12: 6.11 before the fix 9cf8a952d57b").contains("0000:02:08.0 RR CR");
        assertThat(doctor.text(unfixed)).contains("booted a copy with pci=disable_acs_redir=0000:02:08.0: "
                + "THRU_HOST_BRIDGE, the fix does not work on this kernel (0000:02:08.0 0x005d)");

        CheckReport v5 = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("05:00.0")),
                doctor.rules("5.15", "-k"));
        assertThat(v5.remediation().proofs()).singleElement().satisfies(pr -> {
            assertThat(pr.option()).startsWith("pci=disable_acs_redir=");
            assertThat(pr.mapType()).isEqualTo("BUS_ADDR");
        });
        assertThat(v5.remediation().kernelNotes()).singleElement().asString().contains("config_acs= needs kernel 6.11");
        assertThat(Schemas.problems(doctor.json(v5))).isEmpty();
    }

    /** Every whitelist row carries the release that added it; a host bridge older rules refuse names it. */
    @Test
    void aHostBridgeANewerKernelWhitelistsNamesThatRelease() {
        MachineDTO dto = io.sample();
        for (var d : dto.devices) {
            if (d.bdf.equals("0000:00:00.0") || d.bdf.equals("0000:80:00.0")) {
                d.device = 0x09a2; // an Ice Lake-SP: whitelisted since v5.18
            }
        }
        PciCoreImpl core = new PciCoreImpl();
        PciMachine m = core.load(dto);
        DoctorImpl doctor = doctorOf(core);
        CheckReport newest = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0")), null);
        assertThat(newest.hostBridges().bridges().get(0).why())
                .isEqualTo("whitelisted: 8086:09a2 (Intel Ice Lake and later Xeons; since v5.18)");
        CheckReport v5 = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0")),
                doctor.rules("5.15", "-k"));
        assertThat(v5.verdict().supported()).isFalse();
        assertThat(v5.hostBridges().bridges().get(0).why()).isEqualTo("Host bridge not in P2PDMA whitelist: 8086:09a2; "
                + "a newer kernel whitelists it: 8086:09a2 (Intel Ice Lake and later Xeons; since v5.18)");
        assertThat(Schemas.problems(doctor.json(v5))).isEmpty();

        // the rows follow the release, not only the rule set: 6.8 follows the v5.x rules and has the v5.18 row
        for (String release : new String[] {"6.8", "5.18.0-1-amd64", "6.12.23"}) {
            CheckReport k = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0")),
                    doctor.rules(release, "-k"));
            assertThat(k.ruleSet().id()).as(release).isEqualTo("V5_X");
            assertThat(k.verdict().mapType()).as(release).isEqualTo("THRU_HOST_BRIDGE");
            assertThat(k.hostBridges().bridges().get(0).why()).as(release)
                    .isEqualTo("whitelisted: 8086:09a2 (Intel Ice Lake and later Xeons; since v5.18)");
            assertThat(Schemas.problems(doctor.json(k))).isEmpty();
        }
        // a rule set named without a release keeps its own table (v5.x: the rows up to v5.7)
        assertThat(doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0")),
                doctor.rules("v5.x", "-k")).verdict().supported()).isFalse();
        // ... and the matrix and the audit agree with check
        var mx = doctor.matrix(m, List.of(core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0"))),
                doctor.rules("6.8", "-k"), java.util.Set.of());
        assertThat(mx.pairs()).allMatch(p -> p.mapType().equals("THRU_HOST_BRIDGE"));
        var mx5 = doctor.matrix(m, List.of(core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0"))),
                doctor.rules("5.15", "-k"), java.util.Set.of());
        assertThat(mx5.pairs()).allMatch(p -> p.mapType().equals("NOT_SUPPORTED"));
    }

    /** The planner ranks every change, smallest first, and says which the model proved on a copy. */
    @Test
    void thePlanRanksEveryChangeSmallestFirst() {
        PciCoreImpl core = new PciCoreImpl();
        PciMachine m = core.load(io.sample());
        DoctorImpl doctor = doctorOf(core);
        // GPU and NIC below one switch whose port 02:08.0 redirects: register, boot options, firmware; no move
        CheckReport r = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("05:00.0")), null);
        assertThat(r.plan()).extracting(org.peerdma.p2pdma.doctor.PlanStep::kind)
                .containsExactly("runtime", "boot", "boot", "firmware");
        assertThat(r.plan()).extracting(org.peerdma.p2pdma.doctor.PlanStep::rank).containsExactly(1, 2, 3, 4);
        assertThat(r.plan().get(0).change()).isEqualTo("setpci -s 0000:02:08.0 ECAP_ACS+6.w=0000:000c");
        assertThat(r.plan().get(1).proved()).isTrue();
        assertThat(r.plan().get(2).proved()).isTrue();
        assertThat(doctor.text(r)).contains("plan, smallest change first:\n  1. runtime: setpci -s 0000:02:08.0")
                .contains("[proved on a copy]");
        assertThat(Schemas.problems(doctor.json(r))).isEmpty();
        // on 6.12.0 the boot options do not work, and the plan says so
        CheckReport old = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("05:00.0")),
                doctor.rules("6.12", "-k"));
        assertThat(old.plan().get(1).proved()).isFalse();
        assertThat(doctor.text(old)).contains("[does not work on this kernel]");
        // a GPU below the switch and a NIC on another root complex: move the NIC below the switch
        CheckReport far = doctor.check(m, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0")), null);
        assertThat(far.plan()).anyMatch(s -> s.kind().equals("slot") && s.change().startsWith("move 0000:81:00.0")
                && s.change().contains("0000:01:00.0"));
        // a pair that already goes peer to peer has no plan
        assertThat(doctor.check(m, core.get(Bdf.parse("05:00.0")), core.get(Bdf.parse("06:00.0")), null).plan())
                .isEmpty();
        // a host bridge a newer kernel whitelists: the kernel step
        MachineDTO dto = io.sample();
        for (var d : dto.devices) {
            if (d.bdf.equals("0000:00:00.0") || d.bdf.equals("0000:80:00.0")) {
                d.device = 0x09a2;
            }
        }
        PciMachine ice = core.load(dto);
        CheckReport v5 = doctor.check(ice, core.get(Bdf.parse("03:00.0")), core.get(Bdf.parse("81:00.0")),
                doctor.rules("5.15", "-k"));
        assertThat(v5.plan()).anyMatch(s -> s.kind().equals("kernel") && s.change().equals("boot kernel v5.18 or later"));
        assertThat(Schemas.problems(doctor.json(v5))).isEmpty();
    }

    /** A 7.0 kernel follows the newest rules but not the rows added after it (Google's SoCs, v7.1). */
    @Test
    void theNewestRulesOfAnOlderReleaseLackTheRowsAddedLater() {
        assertThat(Whitelist.table(org.peerdma.p2pdma.KernelVersion.NEWEST, "7.0"))
                .noneMatch(r -> r.since().equals("v7.1") || r.since().startsWith("pci/next"));
        assertThat(Whitelist.table(org.peerdma.p2pdma.KernelVersion.NEWEST, "7.3"))
                .anyMatch(r -> r.since().equals("v7.3")).noneMatch(r -> r.since().startsWith("pci/next"));
        assertThat(Whitelist.table(org.peerdma.p2pdma.KernelVersion.NEWEST, null)).isEqualTo(Whitelist.NEWEST);
        assertThat(Whitelist.table(org.peerdma.p2pdma.KernelVersion.V5_X, "5.6")).extracting(Whitelist.Row::since)
                .containsOnly("v5.4", "v5.6");
    }

    @Test
    void onARealSwitchWhoseDownstreamPortsRedirect() {
        // the Rocket Lake box of compute-runtime#935: two Arc Pro B70 below a PEX880xx whose ports redirect
        // (the thread's "ECAP_ACS+0x6.w=000c on every ReqRedir-capable bridge"; here SV RR CR UF, 0x001d)
        MachineDTO dto = io.read(REAL.resolve("intel-b70-rocketlake-pex880xx-acs.txt"), TopologyIO.AUTO);
        for (var dev : dto.devices) {
            if (dev.bdf != null && !dev.bdf.endsWith(":00:01.0") && new PciCoreImpl().load(io.read(
                    REAL.resolve("intel-b70-rocketlake-pex880xx-acs.txt"), TopologyIO.AUTO)).devices().stream()
                    .anyMatch(d -> d.name().equals(dev.bdf) && d.isBridge())) {
                dev.acs = new org.peerdma.pci.dto.AcsDTO();
                dev.acs.cap = 0x5f;
                dev.acs.ctrl = 0x001d;
            }
        }
        PciCoreImpl core = new PciCoreImpl();
        PciMachine m = core.load(dto);
        DoctorImpl doctor = doctorOf(core);
        var gpus = doctor.endpoints(m).stream().filter(d -> Kinds.of(d).equals("gpu")).toList();
        assertThat(gpus).hasSizeGreaterThanOrEqualTo(2);
        proved(dto, gpus.get(0).name(), gpus.get(1).name());
    }
}
