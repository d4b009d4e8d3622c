package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.Links;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** The links of a pair's path: bandwidth after encoding, the bottleneck, links trained below capability. */
class LinksTest {
    private static final Path REAL = DoctorFixture.REAL;
    private final DoctorFixture f = new DoctorFixture();
    private final TopologyIO io = f.io;
    private final PciCoreImpl core = f.core;
    private final DoctorImpl doctor = f.doctor;

    private CheckReport check(PciMachine m, String p, String c) {
        return f.check(m, p, c);
    }

    @Test
    void bandwidthPerDirectionAfterEncoding() {
        assertThat(LinkMath.gbPerSecond(2.5, 1)).isCloseTo(0.25, within(1e-9));
        assertThat(LinkMath.gbPerSecond(5, 16)).isCloseTo(8.0, within(1e-9));
        assertThat(LinkMath.gbPerSecond(8, 16)).isCloseTo(15.754, within(1e-3));
        assertThat(LinkMath.gbPerSecond(16, 16)).isCloseTo(31.508, within(1e-3));
        assertThat(LinkMath.gbPerSecond(32, 16)).isCloseTo(63.015, within(1e-3));
        assertThat(LinkMath.gbPerSecond(64, 16)).isCloseTo(121.0, within(1e-9));
        assertThat(LinkMath.gts("2.5GT/s")).isEqualTo(2.5);
        assertThat(LinkMath.gts("16GT/s (ok)")).isEqualTo(16);
        assertThat(LinkMath.gts("unknown")).isZero();
    }

    @Test
    void theSlowestLinkOfThePathAndLinksBelowTheirCapability() {
        MachineDTO dto = io.sample();
        PciMachine m = core.load(dto);
        CheckReport r = check(m, "03:00.0", "05:00.0");
        Links l = r.links();
        assertThat(l.links()).isNotEmpty();
        assertThat(l.bottleneck()).isNotNull();
        assertThat(l.links()).allMatch(x -> x.gbPerSecond() >= l.bottleneck().gbPerSecond());
        assertThat(doctor.text(r)).contains("links    bottleneck ");

        // the NIC trained at x4 where it and its port can do x16 at 16 GT/s
        for (var d : dto.devices) {
            if (d.bdf.equals("0000:05:00.0")) {
                d.linkSpeed = "16GT/s";
                d.linkWidth = 4;
                d.linkCapSpeed = "16GT/s";
                d.linkCapWidth = 16;
            }
            if (d.bdf.equals("0000:02:09.0")) {
                d.linkCapSpeed = "16GT/s";
                d.linkCapWidth = 16;
            }
        }
        m = core.load(dto);
        r = check(m, "03:00.0", "05:00.0");
        Links.Link nic = r.links().links().stream().filter(x -> x.bdf().equals("0000:05:00.0")).findFirst().orElseThrow();
        assertThat(nic.downtrained()).isTrue();
        assertThat(nic.gbPerSecond()).isCloseTo(7.877, within(1e-3));
        assertThat(r.links().bottleneck().bdf()).isEqualTo("0000:05:00.0");
        assertThat(r.links().notes()).anyMatch(n -> n.startsWith("0000:05:00.0 runs at 16GT/s x4 below its capability "
                + "16GT/s x16 (7.9 of 31.5 GB/s)"));
        assertThat(r.links().notes()).as("a NIC trained narrower is not an idle GPU").noneMatch(n -> n.contains("GPU"));
    }

    @Test
    void aRealLspciDumpGivesItsLinks() {
        PciMachine m = core.load(io.read(REAL.resolve("dell-r730-broadwell-ep-2xp100-nvme.txt"), TopologyIO.AUTO));
        var eps = doctor.endpoints(m).stream().filter(d -> !d.linkSpeed().isEmpty()).toList();
        assertThat(eps).hasSizeGreaterThanOrEqualTo(2);
        CheckReport r = check(m, eps.get(0).name(), eps.get(eps.size() - 1).name());
        assertThat(r.links().links()).isNotEmpty();
        assertThat(r.links().bottleneck().gbPerSecond()).isPositive();
    }

    @Test
    void theLinkCapabilityOfARealLspciDumpShowsGpusTrainedDownAtIdle() {
        // ASUS ESC8000A-E12: the RTX 6000 Ada cards print "LnkCap: ... Speed 16GT/s, Width x16" and
        // "LnkSta: Speed 2.5GT/s (downgraded), Width x16"
        PciMachine m = core.load(io.read(REAL.resolve("asus-esc8000a-e12-genoa.txt"), TopologyIO.AUTO));
        CheckReport r = check(m, "01:00.0", "41:00.0");
        Links.Link gpu = r.links().links().stream().filter(x -> x.bdf().equals("0000:01:00.0")).findFirst()
                .orElseThrow();
        assertThat(gpu.capSpeed()).isEqualTo("16GT/s");
        assertThat(gpu.capWidth()).isEqualTo(16);
        assertThat(gpu.downtrained()).isTrue();
        assertThat(gpu.gbPerSecond()).isCloseTo(4.0, within(1e-9));
        assertThat(r.links().notes()).contains("0000:01:00.0 runs at 2.5GT/s x16 below its capability 16GT/s x16 "
                + "(4.0 of 31.5 GB/s)");
        assertThat(r.links().notes()).anyMatch(n -> n.startsWith("0000:01:00.0 is a GPU: GPUs lower their link speed "
                + "when idle"));
    }
}
