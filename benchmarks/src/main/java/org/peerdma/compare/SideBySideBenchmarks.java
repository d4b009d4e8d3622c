package org.peerdma.compare;

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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** One 1920x1080 frame from a guest to dom0, per design, with the buffers shared beforehand (see SideBySide). */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SideBySideBenchmarks {
    @State(Scope.Benchmark)
    public static class Zcopy {
        SideBySide.Pipeline p;
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            p = SideBySide.zcopy(1920, 1080);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            p.close();
        }
    }

    @State(Scope.Benchmark)
    public static class HyperDmabuf {
        SideBySide.Pipeline p;
        int n;

        @Setup(Level.Trial)
        public void setUp() {
            p = SideBySide.hyperDmabuf(1920, 1080);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            p.close();
        }
    }

    @Benchmark
    public void xenZcopyFrame(Zcopy s) throws InterruptedException {
        s.p.frame(s.n++);
    }

    @Benchmark
    public void hyperDmabufFrame(HyperDmabuf s) throws InterruptedException {
        s.p.frame(s.n++);
    }
}
