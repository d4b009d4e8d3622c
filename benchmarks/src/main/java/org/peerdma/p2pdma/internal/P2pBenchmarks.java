package org.peerdma.p2pdma.internal;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.internal.PciCoreImpl;

/** p2pdma: cached map-type look-ups, the all-pairs matrix of a 2,030-endpoint machine (the pool: PoolBenchmarks). */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class P2pBenchmarks {
    PciCoreImpl core;
    P2pdmaImpl p2p;
    PciDevice provider;
    PciDevice client;
    List<PciDevice> endpoints;
    FastCalc.Chain[] chains;

    /** p2pdma wired as DS would, newest rules; {@code dma} may be null. */
    public static P2pdmaImpl p2pdma(PciCoreImpl core, org.peerdma.dma.DmaApi dma) {
        return P2pdmaImpl.standalone(core, TestZone.zone(), dma, "newest", 1000);
    }

    @Setup(Level.Trial)
    public void setUp() {
        core = new PciCoreImpl();
        PciMachine m = core.load(SyntheticMachine.build(10, 29));
        p2p = p2pdma(core, null);
        endpoints = Doctor.endpoints(m);
        if (endpoints.size() != 2030) {
            throw new IllegalStateException("synthetic machine has " + endpoints.size() + " endpoints");
        }
        provider = core.get(Bdf.parse("0000:03:00.0"));
        client = core.get(Bdf.parse("0000:04:00.0"));
        p2p.addResource(provider, 2, 0, 0);
        if (p2p.mapType(provider, client) != MapType.THRU_HOST_BRIDGE) {
            throw new IllegalStateException("unexpected map type " + p2p.mapType(provider, client));
        }
        chains = new FastCalc.Chain[endpoints.size()];
        for (int i = 0; i < chains.length; i++) {
            chains[i] = new FastCalc.Chain(endpoints.get(i));
        }
    }

    /** pci_p2pdma_map_type on a cache hit. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public MapType cachedMapType() {
        return p2p.mapType(provider, client);
    }

    /** Every ordered endpoint pair of the 2,030-endpoint machine (4,120,900 verdicts), chains included. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public void matrix2030Endpoints(Blackhole bh) {
        FastCalc fast = new FastCalc(core.machine(), KernelVersion.NEWEST, Calc.MACHINE);
        int n = endpoints.size();
        FastCalc.Chain[] ch = new FastCalc.Chain[n];
        for (int i = 0; i < n; i++) {
            ch[i] = new FastCalc.Chain(endpoints.get(i));
        }
        int supported = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                MapType t = fast.pair(ch[i], ch[j]).type();
                if (t == MapType.BUS_ADDR || t == MapType.THRU_HOST_BRIDGE) {
                    supported++;
                }
            }
        }
        bh.consume(supported);
    }
}
