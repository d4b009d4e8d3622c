package org.peerdma.dmabuf.drivers.internal;

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
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.internal.ImportersImpl;
import org.peerdma.p2pdma.internal.P2pBenchmarks;
import org.peerdma.p2pdma.internal.P2pdmaImpl;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.imports.internal.TopologyIOImpl;
import org.peerdma.pci.internal.TestCmdline;

/**
 * dma-buf with the GPU-like exporter on the sample machine (ACS redirect off above the NIC, so the
 * NIC gets bus addresses): the cost of a dynamic importer's attach + map + unmap + detach of a VRAM
 * buffer (the P2P decision, the p2pdma mapping, the reservation lock), and of exporting a buffer.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DmaBufBenchmarks {
    DmaBufCoreImpl core;
    GpuExporterImpl gpuDrv;
    FdTable proc;
    PciDevice gpu;
    DmaBuf buf;
    int fd;
    DmaBufImporter nic;

    @Setup(Level.Trial)
    public void setUp() {
        var pci = TestCmdline.core("disable_acs_redir=0000:02:08.0");
        pci.load(new TopologyIOImpl().sample());
        var dma = TestDma.api();
        P2pdmaImpl p2p = P2pBenchmarks.p2pdma(pci, dma);
        core = new DmaBufCoreImpl();
        gpuDrv = new GpuExporterImpl();
        gpuDrv.core = core;
        gpuDrv.ram = TestDma.ram();
        gpuDrv.p2pdma = p2p;
        gpuDrv.p2pmem = p2p;
        gpuDrv.dma = dma;
        proc = core.fdTable("bench");
        gpu = pci.get(Bdf.parse("03:00.0"));
        if (gpuDrv.probe(gpu, 1, 64 << 20) != 0) {
            throw new IllegalStateException("probe failed");
        }
        fd = gpuDrv.allocate(proc, gpu, 1 << 20);
        buf = proc.get(fd);
        nic = new ImportersImpl(core).rdmaNic(pci.get(Bdf.parse("05:00.0")));
        DmaBufAttachment a = nic.attach(buf);
        SgTable sgt = nic.map(a, DmaDirection.BIDIRECTIONAL);
        if (!gpuDrv.report(buf).get(0).path().equals("P2P_BUS_ADDR")) {
            throw new IllegalStateException("expected a P2P mapping, got " + gpuDrv.report(buf));
        }
        nic.detach(a);
        if (sgt.entries().isEmpty()) {
            throw new IllegalStateException("empty mapping");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        core.put(buf);
        proc.close(fd);
        gpuDrv.deactivate();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long attachMapUnmapDetachP2p() {
        DmaBufAttachment a = nic.attach(buf);
        long dma = nic.map(a, DmaDirection.BIDIRECTIONAL).entries().get(0).dmaAddress();
        nic.detach(a);
        return dma;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int exportAndRelease1MiB() {
        int f = gpuDrv.allocate(proc, gpu, 1 << 20);
        if (f < 0) {
            throw new IllegalStateException("allocation failed: " + f); // never time a failure path
        }
        return proc.close(f);
    }
}
