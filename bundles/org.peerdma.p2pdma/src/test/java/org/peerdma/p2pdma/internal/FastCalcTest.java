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
}
