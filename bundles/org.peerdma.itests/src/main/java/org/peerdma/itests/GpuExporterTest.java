package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.drivers.AttachmentReport;
import org.peerdma.dmabuf.drivers.GpuExporter;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.DmaBufImporters;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;

/**
 * Issue 4's acceptance on a loaded topology: the sample machine with ACS redirect off on the switch
 * port above ConnectX-6 05:00.0 (what pci=disable_acs_redir does) and socket 1 rooted in a Broadwell
 * root port (not whitelisted). The A100 at 03:00.0 exports from VRAM.
 */
@ExtendWith(BundleContextExtension.class)
class GpuExporterTest {
    static final long MB = 1 << 20;

    @InjectBundleContext
    BundleContext ctx;

    private PciCore pci;
    private TopologyIO io;

    @BeforeEach
    void whatIfMachine() throws Exception {
        pci = Runtime.await(ctx, PciCore.class, 5000);
        io = Runtime.await(ctx, TopologyIO.class, 5000);
        MachineDTO m = io.sample();
        m.devices.stream().filter(d -> d.bdf.equals("0000:02:08.0")).findFirst().orElseThrow().acs.ctrl = 0x11;
        m.devices.stream().filter(d -> d.bdf.equals("0000:80:00.0")).findFirst().orElseThrow().device = 0x6f02;
        pci.load(m);
    }

    @AfterEach
    void restore() throws Exception {
        Runtime.startAll(ctx);
        GpuExporter gpus = Runtime.await(ctx, GpuExporter.class, 5000);
        for (PciDevice g : gpus.gpus()) {
            gpus.remove(g);
        }
        pci.load(io.sample());
    }

    private PciDevice dev(String bdf) {
        return pci.get(Bdf.parse(bdf));
    }

    @Test
    void nearImporterGetsP2pAndTheFarOneTheSystemMemoryFallback() throws Exception {
        GpuExporter gpus = Runtime.await(ctx, GpuExporter.class, 5000);
        DmaBufImporters drivers = Runtime.await(ctx, DmaBufImporters.class, 5000);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        FdTable proc = core.fdTable("itest-gpu");
        int before = core.buffers().size();
        PciDevice gpu = dev("03:00.0");
        assertThat(gpus.probe(gpu, 1, 64 * MB)).isZero();
        int fd = gpus.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        DmaBufImporter near = drivers.rdmaNic(dev("05:00.0"));
        DmaBufImporter far = drivers.rdmaNic(dev("82:00.0"));
        DmaBufAttachment an = near.attach(buf);
        near.map(an, DmaDirection.FROM_DEVICE);
        assertThat(gpus.report(buf).get(0).path()).isEqualTo("P2P_BUS_ADDR");
        DmaBufAttachment af = far.attach(buf);
        far.map(af, DmaDirection.TO_DEVICE);
        AttachmentReport r = gpus.report(buf).get(1);
        assertThat(r.path()).isEqualTo("SYSTEM_MEMORY");
        assertThat(r.reason()).contains("not in P2PDMA whitelist");
        assertThat(near.moveNotifications()).isEqualTo(1);
        near.detach(an);
        far.detach(af);
        core.put(buf);
        proc.close(fd);
        assertThat(core.buffers()).hasSize(before);
    }

    @Test
    void stoppingTheExporterBundleRevokesAttachedBuffers() throws Exception {
        GpuExporter gpus = Runtime.await(ctx, GpuExporter.class, 5000);
        DmaBufImporters drivers = Runtime.await(ctx, DmaBufImporters.class, 5000);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        P2pMem p2pmem = Runtime.await(ctx, P2pMem.class, 5000);
        FdTable proc = core.fdTable("itest-gpu-stop");
        int before = core.buffers().size();
        PciDevice gpu = dev("03:00.0");
        assertThat(gpus.probe(gpu, 1, 64 * MB)).isZero();
        int fd = gpus.allocate(proc, gpu, 4 * MB);
        DmaBuf buf = proc.get(fd);
        DmaBufImporter near = drivers.rdmaNic(dev("05:00.0"));
        DmaBufAttachment an = near.attach(buf);
        near.map(an, DmaDirection.BIDIRECTIONAL);
        assertThat(p2pmem.info(gpu).available()).isEqualTo(60 * MB);

        Bundle exporter = Arrays.stream(ctx.getBundles())
                .filter(b -> "org.peerdma.dmabuf.drivers".equals(b.getSymbolicName())).findFirst().orElseThrow();
        exporter.stop(Bundle.STOP_TRANSIENT);
        assertThat(near.moveNotifications()).as("the importer was told").isEqualTo(1);
        assertThat(p2pmem.providers()).as("VRAM released with the driver").doesNotContain(gpu);
        assertThatThrownBy(() -> near.map(an, DmaDirection.BIDIRECTIONAL)).hasMessageContaining("revoked");
        near.detach(an);
        core.put(buf);
        proc.close(fd);
        assertThat(core.buffers()).hasSize(before);

        exporter.start(Bundle.START_TRANSIENT);
        GpuExporter again = Runtime.await(ctx, GpuExporter.class, 5000);
        assertThat(again.probe(gpu, 1, 64 * MB)).isZero();
        assertThat(p2pmem.info(gpu).available()).as("pool back to its starting size").isEqualTo(64 * MB);
    }

    /**
     * Issue 13's case: hot-removing the GPU under an attached, mapped dma-buf. The driver unbinds first
     * (its buffers revoked, the importer told, the DMA mappings torn down, the VRAM back in the pool),
     * so p2pdma's teardown finds nothing held and does not wait; after a rescan the same BAR probes again.
     */
    @Test
    void hotRemovingTheGpuRevokesItsBuffersAndTheBarProbesAgainAfterRescan() throws Exception {
        GpuExporter gpus = Runtime.await(ctx, GpuExporter.class, 5000);
        DmaBufImporters drivers = Runtime.await(ctx, DmaBufImporters.class, 5000);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        P2pMem p2pmem = Runtime.await(ctx, P2pMem.class, 5000);
        org.peerdma.dma.DmaApi dma = Runtime.await(ctx, org.peerdma.dma.DmaApi.class, 5000);
        FdTable proc = core.fdTable("itest-gpu-hotremove");
        int before = core.buffers().size();
        PciDevice gpu = dev("03:00.0");
        PciDevice nic = dev("05:00.0");
        int mappingsBefore = dma.mappings(nic).size();
        assertThat(gpus.probe(gpu, 1, 64 * MB)).isZero();
        int fd = gpus.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        DmaBufImporter near = drivers.rdmaNic(nic);
        DmaBufAttachment an = near.attach(buf);
        near.map(an, DmaDirection.BIDIRECTIONAL);
        assertThat(near.mapped(an)).isTrue();

        long t0 = System.nanoTime();
        pci.remove(Bdf.parse("03:00.0"));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(ms).as("no wait for references nobody holds any more (release_wait_ms is 5000)").isLessThan(2500);
        assertThat(near.moveNotifications()).as("the importer was told").isEqualTo(1);
        assertThat(near.mapped(an)).as("its mapping is gone").isFalse();
        assertThat(dma.mappings(nic)).as("no DMA mapping left for the NIC").hasSize(mappingsBefore);
        assertThat(gpus.gpus()).doesNotContain(gpu);
        assertThat(p2pmem.providers()).doesNotContain(gpu);
        assertThatThrownBy(() -> near.map(an, DmaDirection.BIDIRECTIONAL)).hasMessageContaining("revoked");
        near.detach(an);
        core.put(buf);
        proc.close(fd);
        assertThat(core.buffers()).hasSize(before);

        pci.rescan();
        PciDevice back = dev("03:00.0");
        assertThat(gpus.probe(back, 1, 64 * MB)).as("the pagemap was released: the BAR probes again").isZero();
        assertThat(p2pmem.info(back).available()).isEqualTo(64 * MB);
    }
}
