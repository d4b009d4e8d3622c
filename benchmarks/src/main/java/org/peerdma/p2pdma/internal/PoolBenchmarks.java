package org.peerdma.p2pdma.internal;

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
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/**
 * pci_alloc_p2pmem + pci_free_p2pmem through p2pdma (pool, pagemap reference, provider look-up) on a
 * 4 GiB BAR (1,048,576 pages), in three shapes of the pool:
 * <ul>
 * <li>{@code empty}: one page, nothing else allocated;</li>
 * <li>{@code live200k}: one page, with 200,000 one-page allocations live at the front of the pool;</li>
 * <li>{@code checkerboard}: two pages, with the first 524,288 pages allocated every other one, so first
 * fit has to pass 262,144 one-page holes to the free space behind them.</li>
 * </ul>
 * Run with {@code -prof gc} for the bytes allocated per pair ({@code gc.alloc.rate.norm}).
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PoolBenchmarks {
    static final int PAGE = 4096;
    static final long BAR = 4L << 30;

    @Param({"empty", "live200k", "checkerboard"})
    public String shape;

    PciCoreImpl core;
    P2pdmaImpl p2p;
    PciDevice provider;
    long request;
    GenPool bare;

    @Setup(Level.Trial)
    public void setUp() {
        MachineDTO m = SyntheticMachine.build(1, 1);
        DeviceDTO last = null;
        for (DeviceDTO d : m.devices) {
            if (!d.bars.isEmpty()) {
                last = d;
            }
        }
        BarDTO b = last.bars.get(0); // the last BAR of the machine: nothing above it to overlap
        b.size = BAR;
        core = new PciCoreImpl();
        core.load(m);
        p2p = P2pBenchmarks.p2pdma(core, null);
        provider = core.get(org.peerdma.pci.Bdf.parse(last.bdf));
        p2p.addResource(provider, b.index, BAR, 0);
        request = PAGE;
        bare = new GenPool();
        bare.addOwner(0x1000_0000L, 0, BAR, null);
        switch (shape) {
            case "empty" -> {
            }
            case "live200k" -> {
                for (int i = 0; i < 200_000; i++) {
                    must(p2p.alloc(provider, PAGE));
                    must(bare.alloc(PAGE));
                }
            }
            case "checkerboard" -> {
                int pages = 1 << 19;
                long[] v = new long[pages];
                for (int i = 0; i < pages; i++) {
                    v[i] = must(p2p.alloc(provider, PAGE));
                    must(bare.alloc(PAGE));
                }
                for (int i = 0; i < pages; i += 2) {
                    p2p.free(provider, v[i], PAGE);
                    bare.free(0x1000_0000L + (long) i * PAGE, PAGE);
                }
                request = 2 * PAGE;
            }
            default -> throw new IllegalArgumentException(shape);
        }
    }

    private static long must(long v) {
        if (v == 0) {
            throw new IllegalStateException("pool exhausted in set-up");
        }
        return v;
    }

    /** The same on a GenPool alone (no p2pdma, no pagemap reference): what the bitmap search costs. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long genPoolOnly() {
        long v = bare.alloc(request);
        bare.free(v, request);
        return v;
    }

    /** One allocation and its free, in the chosen shape (pairs per second). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long allocFree() {
        long v = p2p.alloc(provider, request);
        p2p.free(provider, v, request);
        return v;
    }
}
