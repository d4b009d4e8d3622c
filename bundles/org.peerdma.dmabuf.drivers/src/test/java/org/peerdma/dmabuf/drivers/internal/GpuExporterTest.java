package org.peerdma.dmabuf.drivers.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.dmabuf.drivers.AttachmentReport;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.DmaBufImporters;
import org.peerdma.dmabuf.importers.internal.ImportersImpl;
import org.peerdma.dmabuf.drivers.GpuExporter.Placement;
import org.peerdma.errno.Errno;
import org.peerdma.p2pdma.internal.P2pdmaImpl;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.pci.Bar;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.imports.internal.TopologyIOImpl;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.internal.TestCmdline;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.DeviceDma;
import org.peerdma.p2pdma.internal.DeviceDmaImpl;
import java.nio.ByteBuffer;

/**
 * The GPU-like exporter on the sample machine: A100 03:00.0 and ConnectX-6 05:00.0 share a PLX switch;
 * ConnectX-6 82:00.0 hangs off the other socket's host bridge; NVMe 07:00.0 is a static importer.
 */
class GpuExporterTest {
    static final long MB = 1 << 20;
    private PciCoreImpl pci;
    private DmaBufCoreImpl core;
    private P2pdmaImpl p2p;
    private DmaApi dma;
    private GpuExporterImpl gpuDrv;
    private DeviceDma engine;
    private final org.peerdma.dma.PhysMemory ram = TestDma.ram();
    private ImportersImpl importers;
    private FdTable proc;
    private PciDevice gpu;

    @BeforeEach
    void setUp() {
        // what-if on the sample machine: ACS redirect off on the switch port above the NIC (as
        // pci=disable_acs_redir would), and socket 1's root port a Broadwell one, not in the whitelist
        pci = TestCmdline.core("disable_acs_redir=0000:02:08.0");
        MachineDTO m = new TopologyIOImpl().sample();
        m.devices.stream().filter(d -> d.bdf.equals("0000:80:00.0")).findFirst().orElseThrow().device = 0x6f02;
        pci.load(m);
        dma = TestDma.api();
        var zone = TestZone.zone();
        p2p = P2pdmaImpl.standalone(pci, zone, dma, "newest", 200);
        engine = DeviceDmaImpl.standalone(pci, p2p, dma, ram, zone);
        core = new DmaBufCoreImpl();
        gpuDrv = new GpuExporterImpl();
        gpuDrv.core = core;
        gpuDrv.ram = ram;
        gpuDrv.p2pdma = p2p;
        gpuDrv.p2pmem = p2p;
        gpuDrv.dma = dma;
        importers = new ImportersImpl(core, engine);
        proc = core.fdTable("gpu-test");
        gpu = dev("03:00.0");
        assertThat(gpuDrv.probe(gpu, 1, 64 * MB)).isZero();
    }

    private PciDevice dev(String bdf) {
        return pci.get(Bdf.parse(bdf));
    }

    private static void fill(DmaBufCoreImpl core, DmaBuf buf, int pattern) {
        buf.resv().lock();
        BufMap v = core.vmap(buf);
        buf.resv().unlock();
        for (long off = 0; off < v.size(); off += 4096) {
            v.putInt(off, pattern + (int) (off >> 12));
        }
        buf.resv().lock();
        core.vunmap(buf, v);
        buf.resv().unlock();
    }

    private static void assertFilled(DmaBufCoreImpl core, DmaBuf buf, int pattern) {
        buf.resv().lock();
        BufMap v = core.vmap(buf);
        buf.resv().unlock();
        for (long off = 0; off < v.size(); off += 4096) {
            assertThat(v.getInt(off)).isEqualTo(pattern + (int) (off >> 12));
        }
        buf.resv().lock();
        core.vunmap(buf, v);
        buf.resv().unlock();
    }

    @Test
    void theWhatIfMachineGivesOneP2pImporterAndOneRefusedOne() {
        assertThat(p2p.check(gpu, dev("05:00.0"), p2p.version()).mapType()).isEqualTo(MapType.BUS_ADDR);
        assertThat(p2p.check(gpu, dev("82:00.0"), p2p.version()).mapType()).isEqualTo(MapType.NOT_SUPPORTED);
    }

    @Test
    void probeAndAllocationErrors() {
        assertThat(gpuDrv.probe(gpu, 1, 64 * MB)).as("already probed").isEqualTo(Errno.EBUSY.negative());
        assertThat(gpuDrv.probe(dev("04:00.0"), 7, MB)).as("no BAR 7").isEqualTo(Errno.EINVAL.negative());
        assertThat(gpuDrv.gpus()).containsExactly(gpu);
        assertThat(gpuDrv.allocate(proc, dev("04:00.0"), MB)).isEqualTo(Errno.ENODEV.negative());
        assertThat(gpuDrv.allocate(proc, gpu, 0)).isEqualTo(Errno.EINVAL.negative());
        assertThat(gpuDrv.allocate(proc, gpu, 65 * MB)).isEqualTo(Errno.ENOMEM.negative());
        assertThat(p2p.info(gpu).available()).isEqualTo(64 * MB);
        assertThat(core.buffers()).isEmpty();
    }

    @Test
    void importerBehindTheSameSwitchGetsBusAddresses() {
        int fd = gpuDrv.allocate(proc, gpu, 2 * MB);
        DmaBuf buf = proc.get(fd);
        assertThat(p2p.info(gpu).available()).isEqualTo(62 * MB);
        fill(core, buf, 0x1000);
        DmaBufImporter nic = importers.rdmaNic(dev("05:00.0"));
        DmaBufAttachment a = nic.attach(buf);
        assertThat(a.peer2peer()).isTrue();
        SgTable sgt = nic.map(a, DmaDirection.BIDIRECTIONAL);
        Bar bar1 = gpu.bar(1).orElseThrow();
        long phys = sgt.entries().get(0).phys();
        assertThat(phys).isBetween(bar1.start(), bar1.end());
        assertThat(sgt.entries().get(0).dmaAddress()).as("PCI bus address, no IOMMU")
                .isEqualTo(phys - bar1.start() + bar1.busStart());
        AttachmentReport r = gpuDrv.report(buf).get(0);
        assertThat(r.path()).isEqualTo("P2P_BUS_ADDR");
        assertThat(r.peer2peer()).isTrue();
        assertThat(r.reason()).contains("BUS_ADDR");
        assertThat(gpuDrv.placement(buf)).isEqualTo(Placement.VRAM);
        assertThat(nic.map(a, DmaDirection.BIDIRECTIONAL)).as("cached").isSameAs(sgt);
        nic.detach(a);
        assertThat(gpuDrv.report(buf)).isEmpty();
        assertFilled(core, buf, 0x1000);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(p2p.info(gpu).available()).isEqualTo(64 * MB);
        assertThat(core.buffers()).isEmpty();
    }

    @Test
    void importerAcrossHostBridgesForcesAMoveToSystemMemoryAndNotifiesTheOthers() {
        int fd = gpuDrv.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        fill(core, buf, 0x2000);
        DmaBufImporter near = importers.rdmaNic(dev("05:00.0"));
        DmaBufImporter far = importers.rdmaNic(dev("82:00.0"));
        DmaBufAttachment an = near.attach(buf);
        near.map(an, DmaDirection.TO_DEVICE);
        DmaBufAttachment af = far.attach(buf);
        assertThat(af.peer2peer()).as("exporter cleared it").isFalse();
        AttachmentReport farBefore = gpuDrv.report(buf).get(1);
        assertThat(farBefore.allowPeer2peer()).isTrue();
        assertThat(farBefore.reason()).contains("distance").contains("NOT_SUPPORTED");
        // mapping for the far NIC moves the buffer; the near NIC is told and drops its P2P mapping
        SgTable farSgt = far.map(af, DmaDirection.TO_DEVICE);
        assertThat(gpuDrv.placement(buf)).isEqualTo(Placement.GTT);
        assertThat(near.moveNotifications()).isEqualTo(1);
        assertThat(farSgt.entries().get(0).dmaAddress()).isEqualTo(TestDma.IOVA_BASE + farSgt.entries().get(0).phys());
        assertThat(p2p.info(gpu).available()).as("VRAM returned on the move").isEqualTo(64 * MB);
        assertThat(gpuDrv.report(buf)).extracting(AttachmentReport::path).containsExactly("UNMAPPED", "SYSTEM_MEMORY");
        // the near NIC maps again, now to system memory too; the bytes moved with the buffer
        near.map(an, DmaDirection.TO_DEVICE);
        assertThat(gpuDrv.report(buf)).extracting(AttachmentReport::path).containsExactly("SYSTEM_MEMORY", "SYSTEM_MEMORY");
        assertFilled(core, buf, 0x2000);
        near.detach(an);
        far.detach(af);
        assertThat(dma.mappings(dev("05:00.0"))).isEmpty();
        assertThat(dma.mappings(dev("82:00.0"))).isEmpty();
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
    }

    @Test
    void staticImporterPinsInSystemMemory() {
        int fd = gpuDrv.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        fill(core, buf, 0x3000);
        DmaBufImporter nvme = importers.nvme(dev("07:00.0"));
        DmaBufImporter near = importers.rdmaNic(dev("05:00.0"));
        DmaBufAttachment an = near.attach(buf);
        near.map(an, DmaDirection.FROM_DEVICE);
        DmaBufAttachment s = nvme.attach(buf);
        assertThat(s.dynamic()).isFalse();
        assertThat(s.peer2peer()).isFalse();
        nvme.map(s, DmaDirection.TO_DEVICE);
        assertThat(gpuDrv.placement(buf)).isEqualTo(Placement.GTT);
        assertThat(near.moveNotifications()).isEqualTo(1);
        AttachmentReport r = gpuDrv.report(buf).get(1);
        assertThat(r.path()).isEqualTo("SYSTEM_MEMORY");
        assertThat(r.reason()).contains("static importer").contains("moved to system memory");
        assertFilled(core, buf, 0x3000);
        nvme.detach(s);
        near.detach(an);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
        assertThat(p2p.info(gpu).available()).isEqualTo(64 * MB);
    }

    @Test
    void pinKeepsVramOnlyWhenEveryAttachmentCanDoP2p() {
        int fd = gpuDrv.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        DmaBufImporter near = importers.rdmaNic(dev("05:00.0"));
        DmaBufAttachment an = near.attach(buf);
        buf.resv().lock();
        assertThat(core.pin(an)).isZero();
        buf.resv().unlock();
        assertThat(gpuDrv.placement(buf)).as("the only attachment does P2P").isEqualTo(Placement.VRAM);
        buf.resv().lock();
        core.unpin(an);
        buf.resv().unlock();
        DmaBufImporter far = importers.rdmaNic(dev("82:00.0"));
        DmaBufAttachment af = far.attach(buf); // attached, never mapped
        buf.resv().lock();
        assertThat(core.pin(an)).isZero();
        buf.resv().unlock();
        assertThat(gpuDrv.placement(buf)).as("another attachment cannot do P2P").isEqualTo(Placement.GTT);
        assertThat(gpuDrv.report(buf).get(0).reason()).contains("0000:82:00.0 (attached) cannot reach VRAM");
        buf.resv().lock();
        core.unpin(an);
        buf.resv().unlock();
        far.detach(af);
        near.detach(an);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
    }

    @Test
    void pinnedInVramRefusesAnImporterThatCannotReachIt() {
        int fd = gpuDrv.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        buf.resv().lock();
        BufMap v = core.vmap(buf); // pins where it is: VRAM
        buf.resv().unlock();
        DmaBufImporter far = importers.rdmaNic(dev("82:00.0"));
        DmaBufAttachment af = far.attach(buf);
        assertThatThrownBy(() -> far.map(af, DmaDirection.TO_DEVICE)).hasMessageContaining("pinned in VRAM");
        assertThat(gpuDrv.placement(buf)).isEqualTo(Placement.VRAM);
        DmaBufImporter nvme = importers.nvme(dev("07:00.0"));
        DmaBufAttachment s = nvme.attach(buf);
        assertThatThrownBy(() -> nvme.map(s, DmaDirection.TO_DEVICE)).hasMessageContaining("pin");
        nvme.detach(s);
        far.detach(af);
        buf.resv().lock();
        core.vunmap(buf, v);
        buf.resv().unlock();
        // unpinned: now the far NIC's map may move it
        DmaBufAttachment af2 = far.attach(buf);
        far.map(af2, DmaDirection.TO_DEVICE);
        assertThat(gpuDrv.placement(buf)).isEqualTo(Placement.GTT);
        far.detach(af2);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
    }

    @Test
    void removingTheGpuRevokesItsBuffers() {
        int fd = gpuDrv.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        DmaBufImporter near = importers.rdmaNic(dev("05:00.0"));
        DmaBufAttachment an = near.attach(buf);
        near.map(an, DmaDirection.BIDIRECTIONAL);
        gpuDrv.deactivate();
        assertThat(near.moveNotifications()).isEqualTo(1);
        assertThat(gpuDrv.gpus()).isEmpty();
        assertThat(gpuDrv.report(buf).get(0).reason()).contains("revoked");
        assertThatThrownBy(() -> near.map(an, DmaDirection.BIDIRECTIONAL)).hasMessageContaining("revoked");
        core.get(buf);
        assertThat(proc.close(proc.fd(buf, 0))).as("a second fd still works").isZero();
        near.detach(an);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
        assertThat(p2p.providers()).as("VRAM released").doesNotContain(gpu);
        // the driver can bind again
        assertThat(gpuDrv.probe(gpu, 1, 64 * MB)).isZero();
        assertThat(p2p.info(gpu).available()).isEqualTo(64 * MB);
    }

    /** BufMap's putInt/getInt are little-endian, as on x86. */
    private static ByteBuffer le4() {
        return ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    private static int deviceReadInt(DmaBufImporter imp, DmaBufAttachment a, long off) {
        ByteBuffer b = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        imp.dmaRead(a, off, b);
        return b.flip().getInt();
    }

    private static void cpuPutInt(DmaBufCoreImpl core, DmaBuf buf, long off, int v) {
        buf.resv().lock();
        BufMap m = core.vmap(buf);
        buf.resv().unlock();
        m.putInt(off, v);
        buf.resv().lock();
        core.vunmap(buf, m);
        buf.resv().unlock();
    }

    private static int cpuGetInt(DmaBufCoreImpl core, DmaBuf buf, long off) {
        buf.resv().lock();
        BufMap m = core.vmap(buf);
        buf.resv().unlock();
        int v = m.getInt(off);
        buf.resv().lock();
        core.vunmap(buf, m);
        buf.resv().unlock();
        return v;
    }

    @Test
    void theNearNicReadsAndWritesVramThroughTheSwitchWithoutACopy() {
        int fd = gpuDrv.allocate(proc, gpu, 2 * MB);
        DmaBuf buf = proc.get(fd);
        fill(core, buf, 0x1000);
        DmaBufImporter nic = importers.rdmaNic(dev("05:00.0"));
        DmaBufAttachment a = nic.attach(buf);
        nic.map(a, DmaDirection.BIDIRECTIONAL);
        DeviceDma.Route r = nic.route(a, 3 * 4096);
        assertThat(r.path()).isEqualTo(DeviceDma.Path.PEER);
        assertThat(r.target()).isEqualTo(gpu);
        assertThat(r.what()).contains("through the switch").contains("BAR 1");
        assertThat(deviceReadInt(nic, a, 3 * 4096)).isEqualTo(0x1003);
        // the same mapping, later CPU writes: the device sees them (its addresses are the VRAM itself)
        cpuPutInt(core, buf, 5 * 4096 + 12, 0xcafe);
        assertThat(deviceReadInt(nic, a, 5 * 4096 + 12)).isEqualTo(0xcafe);
        // and what the device writes, the CPU reads, across a page boundary
        nic.dmaWrite(a, 2 * 4096 - 2, le4().putInt(0x12345678).flip());
        assertThat(cpuGetInt(core, buf, 2 * 4096 - 2)).isEqualTo(0x12345678);
        assertThat(gpuDrv.placement(buf)).isEqualTo(Placement.VRAM);
        nic.detach(a);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(p2p.info(gpu).available()).isEqualTo(64 * MB);
    }

    @Test
    void afterTheMoveBothNicsReachTheBytesInSystemMemory() {
        int fd = gpuDrv.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        fill(core, buf, 0x2000);
        DmaBufImporter near = importers.rdmaNic(dev("05:00.0"));
        DmaBufImporter far = importers.rdmaNic(dev("82:00.0"));
        DmaBufAttachment an = near.attach(buf);
        assertThat(deviceReadInt(near, an, 0)).as("maps on first use, over the switch").isEqualTo(0x2000);
        assertThat(near.route(an, 0).path()).isEqualTo(DeviceDma.Path.PEER);
        DmaBufAttachment af = far.attach(buf);
        far.map(af, DmaDirection.BIDIRECTIONAL);
        assertThat(gpuDrv.placement(buf)).isEqualTo(Placement.GTT);
        DeviceDma.Route fr = far.route(af, 0);
        assertThat(fr.path()).isEqualTo(DeviceDma.Path.RAM);
        assertThat(fr.what()).contains(gpu.name() + " GTT");
        // 64 KiB GTT chunks are physically scattered: a read across a chunk boundary follows the sg list
        long edge = 64 * 1024 - 2;
        cpuPutInt(core, buf, edge, 0x0badf00d);
        assertThat(deviceReadInt(far, af, edge)).isEqualTo(0x0badf00d);
        assertThat(deviceReadInt(far, af, 17 * 4096)).isEqualTo(0x2000 + 17);
        // the near NIC was told of the move; its next access maps again, to system memory now
        assertThat(near.mapped(an)).isFalse();
        assertThat(deviceReadInt(near, an, 17 * 4096)).isEqualTo(0x2000 + 17);
        assertThat(near.route(an, 0).path()).isEqualTo(DeviceDma.Path.RAM);
        near.dmaWrite(an, 100, le4().putInt(77).flip());
        assertThat(deviceReadInt(far, af, 100)).as("one memory, two devices").isEqualTo(77);
        assertThat(ram.used()).isEqualTo(MB);
        near.detach(an);
        far.detach(af);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(ram.used()).as("GTT pages freed with the buffer").isZero();
    }

    @Test
    void deviceDmaErrorsLeaveTheMappingUsable() {
        int fd = gpuDrv.allocate(proc, gpu, MB);
        DmaBuf buf = proc.get(fd);
        DmaBufImporter nic = importers.rdmaNic(dev("05:00.0"));
        DmaBufAttachment a = nic.attach(buf);
        assertThatThrownBy(() -> nic.dmaRead(a, MB - 2, ByteBuffer.allocate(4))).hasMessageContaining("outside the buffer")
                .satisfies(e -> assertThat(((org.peerdma.errno.KernelException) e).errno()).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> nic.dmaRead(a, -1, ByteBuffer.allocate(4))).hasMessageContaining("outside the buffer");
        nic.unmap(a);
        nic.map(a, DmaDirection.TO_DEVICE);
        assertThatThrownBy(() -> nic.dmaWrite(a, 0, ByteBuffer.allocate(4))).hasMessageContaining("TO_DEVICE");
        assertThat(deviceReadInt(nic, a, 0)).as("reads are fine on a TO_DEVICE mapping").isZero();
        // an address nothing maps: the fabric's answer is EFAULT, naming it
        assertThatThrownBy(() -> engine.read(dev("05:00.0"), TestDma.IOVA_BASE + 0x7000_0000_0000L,
                ByteBuffer.allocate(8))).hasMessageContaining("no RAM and no BAR");
        DmaBufImporters noEngine = new ImportersImpl(core);
        DmaBufImporter plain = noEngine.rdmaNic(dev("05:00.0"));
        DmaBufAttachment b = plain.attach(buf);
        assertThatThrownBy(() -> plain.dmaRead(b, 0, ByteBuffer.allocate(4))).hasMessageContaining("p2pdma module");
        plain.detach(b);
        nic.detach(a);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
    }
}
