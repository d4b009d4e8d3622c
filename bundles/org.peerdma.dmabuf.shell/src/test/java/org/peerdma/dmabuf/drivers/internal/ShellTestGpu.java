package org.peerdma.dmabuf.drivers.internal;

import org.peerdma.dma.DmaApi;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.drivers.GpuExporter;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.p2pdma.P2pdma;

/** The GPU-like exporter built outside OSGi for the shell's tests (its references are package-private). */
public final class ShellTestGpu {
    private ShellTestGpu() {
    }

    public static GpuExporter gpu(DmaBufCore core, PhysMemory ram, P2pdma p2pdma, P2pMem p2pmem, DmaApi dma) {
        GpuExporterImpl g = new GpuExporterImpl();
        g.core = core;
        g.ram = ram;
        g.p2pdma = p2pdma;
        g.p2pmem = p2pmem;
        g.dma = dma;
        return g;
    }
}
