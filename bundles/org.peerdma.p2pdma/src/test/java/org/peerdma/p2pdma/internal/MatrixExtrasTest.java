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
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.imports.internal.TestIo;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.testkit.Schemas;

/**
 * What matrix adds beside the kernel's verdicts: the hardware's writes and reads per pair (nvidia-smi topo
 * -p2p w|r) from the same platform table as check, and the NUMA affinity column of nvidia-smi topo -m.
 */
class MatrixExtrasTest {
    private static final Path REAL = TestIo.shared().resolve("topologies/real");
    private final TopologyIO io = TestIo.io();
    private final PciCoreImpl core = new PciCoreImpl();
    private final DoctorImpl doctor = DoctorImpl.standalone(core,
            P2pdmaImpl.standalone(core, TestZone.zone(), null, "newest", 0));

    /** On every real dump and the sample, each pair's directions are what check says for it. */
    @Test
    void everyPairsDirectionsAreThoseOfCheckOnEveryRealMachine() throws IOException {
        List<Path> dumps;
        try (Stream<Path> s = Files.list(REAL)) {
            dumps = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        assertThat(dumps).hasSizeGreaterThanOrEqualTo(8);
        for (Path dump : dumps) {
            PciMachine m = core.load(io.read(dump, TopologyIO.AUTO));
            List<PciDevice> eps = doctor.endpoints(m);
            if (eps.size() < 2) {
                continue;
            }
            List<PciDevice> some = eps.subList(0, Math.min(eps.size(), 12));
            MatrixReport mx = doctor.matrix(m, some, null, Set.of(), new MatrixReport.Options(true, "read", true));
            assertThat(mx.pairs()).as(dump.toString()).hasSize(some.size() * (some.size() - 1));
            for (MatrixReport.Pair p : mx.pairs()) {
                CheckReport c = doctor.check(m, core.get(org.peerdma.pci.Bdf.parse(p.provider())),
                        core.get(org.peerdma.pci.Bdf.parse(p.client())), null);
                assertThat(p.write()).as(dump + " " + p.provider() + " -> " + p.client()).isEqualTo(c.directions().write());
                assertThat(p.read()).as(dump + " " + p.provider() + " -> " + p.client()).isEqualTo(c.directions().read());
            }
            assertThat(mx.affinity()).hasSize(some.size());
            assertThat(Schemas.problems(doctor.json(mx))).as(dump.toString()).isEmpty();
        }
    }

    /**
     * An Intel client root complex forwards writes only: -p2p r gives CNS for pairs through it, -p2p w OK. The
     * sample with its host bridges made Rocket Lake-S ones (8086:4c43, not whitelisted); switch-local pairs
     * stay OK both ways.
     */
    @Test
    void anIntelClientRootComplexReadsAreCnsAndWritesOk() {
        var dto = io.sample();
        for (var d : dto.devices) {
            if (d.bdf.equals("0000:00:00.0") || d.bdf.equals("0000:80:00.0")) {
                d.device = 0x4c43;
            }
        }
        PciMachine m = core.load(dto);
        List<PciDevice> eps = doctor.endpoints(m);
        MatrixReport r = doctor.matrix(m, eps, null, Set.of(), new MatrixReport.Options(true, "read", false));
        assertThat(r.pairs()).anyMatch(p -> "no".equals(p.read()) && "yes".equals(p.write()));
        assertThat(r.pairs()).anyMatch(p -> "yes".equals(p.read()) && p.nvidiaSmiClass().equals("PIX"));
        String text = doctor.text(r);
        assertThat(text).containsPattern("CNS (BUS|HB|NO)").contains("reads as nvidia-smi topo -p2p r names them");
        MatrixReport w = doctor.matrix(m, eps, null, Set.of(), new MatrixReport.Options(true, "write", false));
        assertThat(doctor.text(w)).doesNotContainPattern("CNS (BUS|HB|NO)").contains("writes as nvidia-smi topo -p2p w");
        assertThat(Schemas.problems(doctor.json(w))).isEmpty();
    }

    /** The ASUS ESC8000A: NUMA nodes from the dump, as nvidia-smi topo -m prints them (GPU0 0, GPU2 1). */
    @Test
    void theAffinityColumnGivesEachDevicesNumaNode() {
        PciMachine m = core.load(io.read(REAL.resolve("asus-esc8000a-e12-genoa.txt"), TopologyIO.AUTO));
        List<PciDevice> devs = Stream.of("01:00.0", "c1:00.0").map(b -> core.get(org.peerdma.pci.Bdf.parse(b))).toList();
        MatrixReport r = doctor.matrix(m, devs, null, Set.of(), new MatrixReport.Options(false, null, true));
        assertThat(r.affinity()).extracting(MatrixReport.Affinity::numaNode).containsExactly(0, 1);
        // the dump's nvidia-smi topo -m gives GPU0 CPUs 0-31 and GPU2 32-63
        assertThat(r.affinity()).extracting(MatrixReport.Affinity::cpuAffinity).containsExactly("0-31", "32-63");
        assertThat(doctor.text(r)).contains("CPU Affinity   NUMA Affinity  host bridge")
                .containsPattern("01:00.0 .* 0-31 +0 +pci0000:00");
        assertThat(r.pairs()).allMatch(p -> p.write() == null && p.read() == null);
        assertThat(doctor.text(r)).contains("NUMA Affinity  host bridge");
        assertThat(Schemas.problems(doctor.json(r))).isEmpty();
        assertThatThrownBy(() -> doctor.matrix(m, devs, null, Set.of(), new MatrixReport.Options(true, "sideways", false)))
                .hasMessageContaining("--p2p takes r (read) or w (write)");
    }

    /** Host bridges without NUMA nodes: NODE? in the cells, and the legend says what '?' means. */
    @Test
    void theLegendExplainsNodeQuestionMarkWhenACellHasIt() {
        PciMachine m = core.load(io.sample());
        MatrixReport r = doctor.matrix(m, doctor.endpoints(m), null, Set.of());
        boolean unsure = r.pairs().stream().anyMatch(p -> p.nvidiaSmiClass().endsWith("?"));
        assertThat(doctor.text(r).contains("NODE? = between host bridges whose NUMA nodes")).isEqualTo(unsure);
        PciMachine puget = core.load(io.read(REAL.resolve("puget-wrx90-threadripper-pro.txt"), TopologyIO.AUTO));
        MatrixReport p = doctor.matrix(puget, doctor.endpoints(puget), null, Set.of(),
                new MatrixReport.Options(false, null, true));
        if (p.pairs().stream().anyMatch(x -> x.nvidiaSmiClass().endsWith("?"))) {
            assertThat(doctor.text(p)).contains("NODE? = between host bridges whose NUMA nodes").contains("N/A");
        }
    }
}
