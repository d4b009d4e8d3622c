package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.DmaBufImporters;
import org.peerdma.p2pdma.DeviceDma;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.udmabuf.Memfd;
import org.peerdma.udmabuf.Udmabuf;

/**
 * A device reading and writing a udmabuf through an IOMMU mapping in the running system: the
 * IOMMU merges physically scattered pages into one IOVA segment, and the device's accesses reach
 * each page's own memory (the memfd's), walking the IOMMU page table, not the segment's first page.
 */
@ExtendWith(BundleContextExtension.class)
class DeviceDmaTest {
    @InjectBundleContext
    BundleContext ctx;

    @Test
    void aNicReadsAndWritesMemfdPagesThroughOneMergedIovaSegment() throws Exception {
        PciCore pci = Runtime.await(ctx, PciCore.class, 5000);
        Runtime.eventually("sample booted", 5000, () -> pci.machine().devices().size() == 22);
        DmaApi dma = Runtime.await(ctx, DmaApi.class, 5000);
        PhysMemory ram = Runtime.await(ctx, PhysMemory.class, 5000);
        Udmabuf udmabuf = Runtime.await(ctx, Udmabuf.class, 5000);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        DmaBufImporters drivers = Runtime.await(ctx, DmaBufImporters.class, 5000);
        Runtime.await(ctx, DeviceDma.class, 5000);
        PciDevice nic = pci.get(Bdf.parse("05:00.0"));
        Runtime.eventually("iommu translating the NIC", 5000, () -> "iommu".equals(dma.opsName(nic)));
        long ramBefore = ram.used();
        FdTable proc = core.fdTable("itest-device-dma");
        Memfd m = Memfd.create("itest-dma", Memfd.MFD_ALLOW_SEALING);
        m.ftruncate(2 * 4096);
        m.addSeals(Memfd.F_SEAL_SHRINK);
        int memfd = proc.install(m);
        // pin page 1 first (a udmabuf of its own), then both: page 1 keeps its frame, page 0 gets a
        // later one, so the two-page buffer is physically out of order
        int first = udmabuf.create(proc, memfd, 0, 4096, 4096);
        int both = udmabuf.create(proc, memfd, 0, 0, 2 * 4096);
        assertThat(first).isPositive();
        assertThat(both).isPositive();
        DmaBuf buf = proc.get(both);
        DmaBufImporter imp = drivers.rdmaNic(nic);
        DmaBufAttachment a = imp.attach(buf);
        try {
            SgTable sgt = imp.map(a, DmaDirection.BIDIRECTIONAL);
            assertThat(sgt.entries()).as("the IOMMU merged both pages into one IOVA segment").hasSize(1);
            long iova = sgt.entries().get(0).dmaAddress();
            long page0 = dma.dmaToPhys(nic, iova);
            long page1 = dma.dmaToPhys(nic, iova + 4096);
            assertThat(page1).as("physically scattered").isNotEqualTo(page0 + 4096);
            assertThat(sgt.entries().get(0).phys()).isEqualTo(page0);

            // the device writes 4 bytes across the page boundary: 2 land at the end of memfd page 0,
            // 2 at the start of memfd page 1
            imp.dmaWrite(a, 4094, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            assertThat(m.read(4094, 4)).containsExactly(1, 2, 3, 4);
            // what the CPU writes into the memfd afterwards, the device reads through the same mapping
            m.write(4096 + 100, "no copy".getBytes());
            ByteBuffer got = ByteBuffer.allocate(7);
            imp.dmaRead(a, 4096 + 100, got);
            assertThat(new String(got.array())).isEqualTo("no copy");
            DeviceDma.Route r = imp.route(a, 4096);
            assertThat(r.path()).isEqualTo(DeviceDma.Path.RAM);
            assertThat(r.phys()).isEqualTo(page1);
            assertThat(r.what()).contains("udmabuf itest-dma").contains("iommu");
        } finally {
            imp.detach(a);
            core.put(buf);
            proc.close(both);
            proc.close(first);
            proc.close(memfd);
        }
        assertThat(ram.used()).as("the pinned frames are released").isEqualTo(ramBefore);
        assertThat(dma.mappings(nic)).isEmpty();
    }
}
