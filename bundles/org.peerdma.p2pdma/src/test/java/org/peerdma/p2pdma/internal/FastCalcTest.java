package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.imports.internal.TestIo;
import org.peerdma.pci.internal.PciCoreImpl;

/** The matrix fast path agrees with the explained calculation on every pair of every real machine. */
class FastCalcTest {
    @Test
    void sameVerdictsAsCalcEverywhere() throws IOException {
        TopologyIO io = TestIo.io();
        List<Path> files;
        try (Stream<Path> s = Files.list(TestIo.shared().resolve("topologies/real"))) {
            files = s.sorted().toList();
        }
        int pairs = 0;
        for (Path f : files) {
            PciMachine m = new PciCoreImpl().load(io.read(f, TopologyIO.AUTO));
            List<PciDevice> devs = m.devices();
            for (KernelVersion v : KernelVersion.values()) {
                FastCalc fast = new FastCalc(m, v, Calc.MACHINE);
                for (PciDevice p : devs) {
                    FastCalc.Chain pc = new FastCalc.Chain(p);
                    for (PciDevice c : devs) {
                        P2pVerdict r = Calc.calc(m, p, c, v);
                        FastCalc.Result x = fast.pair(pc, new FastCalc.Chain(c));
                        String what = f.getFileName() + " " + v + " " + p.name() + " -> " + c.name();
                        assertThat(x.type()).as(what).isEqualTo(r.mapType());
                        assertThat(x.distance()).as(what).isEqualTo(r.distance());
                        assertThat(x.pathClass()).as(what).isEqualTo(PathClass.of(r));
                        pairs++;
                    }
                }
            }
        }
        assertThat(pairs).isGreaterThan(100_000);
    }

    /**
     * The matrix computes one answer per pair of device groups (MatrixGroups) and reuses it: on every real
     * machine, all devices (bridges included, so some are above others) and every rule set, each cell is
     * what the pair's own walk gives.
     */
    @Test
    void groupedMatrixEqualsEveryPairsOwnWalk() throws IOException {
        DoctorFixture fx = new DoctorFixture();
        List<Path> files;
        try (Stream<Path> s = Files.list(DoctorFixture.REAL)) {
            files = s.sorted().toList();
        }
        int shared = 0;
        for (Path f : files) {
            PciMachine m = fx.real(f.getFileName().toString());
            for (List<PciDevice> devs : List.of(m.devices(), fx.doctor.endpoints(m))) {
                FastCalc.Chain[] chains = devs.stream().map(FastCalc.Chain::new).toArray(FastCalc.Chain[]::new);
                int[] group = MatrixGroups.of(chains);
                shared += chains.length - (int) java.util.Arrays.stream(group).distinct().count();
                for (KernelVersion v : KernelVersion.values()) {
                    org.peerdma.p2pdma.doctor.RuleSet rs = DoctorImpl.ruleSet(v, null, "test");
                    var mx = fx.doctor.matrix(m, devs, rs, java.util.Set.of());
                    FastCalc fast = new FastCalc(m, v, Calc.withRelease(fx.doctor.arch(), rs.release()));
                    int k = 0;
                    for (int i = 0; i < devs.size(); i++) {
                        for (int j = 0; j < devs.size(); j++) {
                            if (i == j) {
                                continue;
                            }
                            FastCalc.Result r = fast.pair(chains[i], chains[j]);
                            var cell = mx.pairs().get(k++);
                            String what = f.getFileName() + " " + v + " " + devs.get(i).name() + " -> "
                                    + devs.get(j).name();
                            assertThat(cell.provider()).as(what).isEqualTo(devs.get(i).name());
                            assertThat(cell.client()).as(what).isEqualTo(devs.get(j).name());
                            assertThat(cell.mapType()).as(what).isEqualTo(r.type().name());
                            assertThat(cell.distance()).as(what).isEqualTo(r.distance());
                            assertThat(cell.nvidiaSmiClass()).as(what).isEqualTo(r.pathClass());
                        }
                    }
                    assertThat(k).isEqualTo(mx.pairs().size());
                }
            }
        }
        assertThat(shared).as("devices that shared a group with another").isGreaterThan(50);
    }
}
