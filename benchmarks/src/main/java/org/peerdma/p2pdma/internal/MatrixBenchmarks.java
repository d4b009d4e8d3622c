package org.peerdma.p2pdma.internal;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.internal.PciCoreImpl;

/**
 * The matrix as the shell's {@code p2p:matrix} makes it: the doctor's report of every ordered endpoint pair
 * ({@code report}) and that report as the text the shell prints ({@code text}), on synthetic machines of
 * 252 to 4,060 endpoints (SyntheticMachine: 7 root ports per host bridge, a switch below each). Divide by
 * the pairs, n(n-1), for the cost per pair. Run with {@code -prof gc} for the bytes allocated.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgs = {"-Xmx6g"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class MatrixBenchmarks {
    @Param({"252", "1015", "2030", "4060"})
    public int endpoints;

    PciMachine m;
    DoctorImpl doctor;
    List<PciDevice> eps;

    @Setup(Level.Trial)
    public void setUp() {
        int[] shape = switch (endpoints) {
            case 252 -> new int[] {2, 18};
            case 1015 -> new int[] {5, 29};
            case 2030 -> new int[] {10, 29};
            case 4060 -> new int[] {20, 29};
            default -> throw new IllegalArgumentException("no synthetic machine of " + endpoints + " endpoints");
        };
        PciCoreImpl core = new PciCoreImpl();
        m = core.load(SyntheticMachine.build(shape[0], shape[1]));
        doctor = DoctorImpl.standalone(core, P2pdmaImpl.standalone(core, TestZone.zone(), null, "newest", 0));
        eps = doctor.endpoints(m);
        if (eps.size() != endpoints) {
            throw new IllegalStateException(eps.size() + " endpoints, not " + endpoints);
        }
    }

    @Benchmark
    public MatrixReport report() {
        return doctor.matrix(m, eps, null, Set.of());
    }

    @Benchmark
    public String text() {
        return doctor.text(doctor.matrix(m, eps, null, Set.of()));
    }
}
