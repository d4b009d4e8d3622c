package org.peerdma.dmabuf.importers.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.DeviceDma;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.imports.internal.TopologyIOImpl;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.internal.TestCmdline;

/**
 * The importer drivers (ib_umem_dmabuf-like dynamic, NVMe-like static) against an exporter whose
 * pages sit at scattered DMA addresses and can move, with a fabric that reaches exactly the pages
 * mapped now: attach/map/unmap/detach, the driver's mappings per direction, move_notify, pinning, device DMA through
 * the mapping's segments, and every error as the errno the kernel gives.
 */
class ImportersTest {
    static final int PAGE = 4096;
    private DmaBufCoreImpl core;
    private Bus bus;
    private ImportersImpl drivers;
    private PciDevice nicDev;
    private PciDevice nvmeDev;

    /** The fabric: DMA addresses that reach a page now, and every access made. */
    static final class Bus implements DeviceDma {
        final Map<Long, ByteBuffer> pages = new ConcurrentHashMap<>();
        final List<String> accesses = new CopyOnWriteArrayList<>();

        private ByteBuffer page(long dma) {
            ByteBuffer p = pages.get(dma & ~(PAGE - 1L));
            if (p == null) {
                throw new KernelException(Errno.EFAULT, String.format("DMA to %#x: nothing mapped there", dma));
            }
            return p;
        }

        @Override
        public Route route(PciDevice initiator, long dma) {
            page(dma);
            return new Route(Path.RAM, null, dma, String.format("RAM page at %#x", dma & ~(PAGE - 1L)));
        }

        /** When set, runs at the start of every access, while the device's DMA is in flight. */
        volatile Runnable inAccess;

        private void access(PciDevice initiator, long dma, ByteBuffer b, boolean write) {
            Runnable hook = inAccess;
            if (hook != null) {
                hook.run();
            }
            for (long a = dma; a < dma + b.remaining(); a = (a | (PAGE - 1)) + 1) {
                page(a); // nothing moves when any page faults
            }
            accesses.add((write ? "write " : "read ") + initiator.name() + String.format(" %#x+%d", dma, b.remaining()));
            while (b.hasRemaining()) {
                ByteBuffer p = page(dma);
                int in = (int) (dma & (PAGE - 1));
                int n = Math.min(b.remaining(), PAGE - in);
                if (write) {
                    ByteBuffer src = b.slice().limit(n);
                    p.put(in, src, 0, n);
                } else {
                    b.put(b.position(), p, in, n);
                }
                b.position(b.position() + n);
                dma += n;
            }
        }

        @Override
        public void read(PciDevice initiator, long dma, ByteBuffer dst) {
            access(initiator, dma, dst, false);
        }

        @Override
        public void write(PciDevice initiator, long dma, ByteBuffer src) {
            access(initiator, dma, src, true);
        }
    }

    /** A system-memory exporter: pages at DMA addresses of its choosing, optionally pinning (dynamic), movable. */
    final class Sys implements DmaBufOps {
        final boolean pinning;
        volatile ByteBuffer[] mem;
        volatile long[] dma;
        final AtomicInteger maps = new AtomicInteger();
        final AtomicInteger unmaps = new AtomicInteger();
        final AtomicInteger pins = new AtomicInteger();
        final AtomicInteger unpins = new AtomicInteger();
        final AtomicInteger moves = new AtomicInteger();
        int attachResult;
        boolean mapFails;
        DmaBuf buf;

        Sys(boolean pinning, long... dma) {
            this.pinning = pinning;
            this.dma = dma.clone();
            this.mem = new ByteBuffer[dma.length];
            for (int i = 0; i < dma.length; i++) {
                mem[i] = ByteBuffer.allocate(PAGE);
                mem[i].putInt(0, 0x1000 + i);
            }
            buf = core.export(new ExportInfo("sys", this, (long) dma.length * PAGE, this, null));
        }

        @Override
        public int attach(DmaBuf b, DmaBufAttachment a) {
            return attachResult;
        }

        @Override
        public boolean hasPin() {
            return pinning;
        }

        @Override
        public int pin(DmaBufAttachment a) {
            pins.incrementAndGet();
            return 0;
        }

        @Override
        public void unpin(DmaBufAttachment a) {
            unpins.incrementAndGet();
        }

        @Override
        public SgTable mapDmaBuf(DmaBufAttachment a, DmaDirection dir) {
            if (mapFails) {
                return null;
            }
            maps.incrementAndGet();
            List<SgEntry> sg = new ArrayList<>();
            for (int i = 0; i < dma.length; i++) {
                bus.pages.put(dma[i], mem[i]);
                sg.add(new SgEntry(dma[i], PAGE, dma[i], PAGE));
            }
            return new SgTable(sg);
        }

        @Override
        public void unmapDmaBuf(DmaBufAttachment a, SgTable sgt, DmaDirection dir) {
            unmaps.incrementAndGet();
        }

        @Override
        public void release(DmaBuf b) {
        }

        /** The buffer moves (under its reservation lock): new pages, same bytes; the old addresses reach nothing. */
        void move() {
            buf.resv().lock();
            try {
                long[] next = new long[dma.length];
                ByteBuffer[] nmem = new ByteBuffer[dma.length];
                for (int i = 0; i < dma.length; i++) {
                    next[i] = dma[i] + 0x100_0000L;
                    nmem[i] = ByteBuffer.allocate(PAGE).put(0, mem[i], 0, PAGE);
                    bus.pages.remove(dma[i]);
                }
                dma = next;
                mem = nmem;
                moves.incrementAndGet();
                core.moveNotify(buf);
            } finally {
                buf.resv().unlock();
            }
        }
    }

    @BeforeEach
    void setUp() {
        PciCoreImpl pci = TestCmdline.core("");
        pci.load(new TopologyIOImpl().sample());
        nicDev = pci.get(Bdf.parse("05:00.0"));
        nvmeDev = pci.get(Bdf.parse("07:00.0"));
        core = new DmaBufCoreImpl();
        bus = new Bus();
        drivers = new ImportersImpl(core, bus);
    }

    private static KernelException kex(Runnable r) {
        try {
            r.run();
        } catch (KernelException e) {
            return e;
        }
        throw new AssertionError("no KernelException");
    }

    @Test
    void aDynamicImporterAttachesWithPeer2peerAndKeepsOneMapping() {
        Sys exp = new Sys(true, 0x10000, 0x20000);
        DmaBufImporter nic = drivers.rdmaNic(nicDev);
        assertThat(nic.dynamic()).isTrue();
        DmaBufAttachment a = nic.attach(exp.buf);
        assertThat(a.dynamic()).isTrue();
        assertThat(a.peer2peer()).as("allow_peer2peer").isTrue();
        assertThat(a.importerOps().allowPeer2peer()).isTrue();
        assertThat(a.device().pci()).isSameAs(nicDev);
        assertThat(exp.buf.attachments()).containsExactly(a);
        assertThat(nic.mapped(a)).isFalse();
        SgTable sgt = nic.map(a, DmaDirection.BIDIRECTIONAL);
        assertThat(sgt.entries()).extracting(SgEntry::dmaAddress).containsExactly(0x10000L, 0x20000L);
        assertThat(nic.map(a, DmaDirection.TO_DEVICE)).as("cached: BIDIRECTIONAL serves any direction").isSameAs(sgt);
        assertThat(exp.maps.get()).isEqualTo(1);
        assertThat(exp.pins.get()).as("a dynamic importer is not pinned for").isZero();
        assertThat(nic.mapped(a)).isTrue();
        assertThat(nic.unmap(a)).isTrue();
        assertThat(nic.unmap(a)).as("nothing held any more").isFalse();
        assertThat(exp.unmaps.get()).isEqualTo(1);
        nic.map(a, DmaDirection.FROM_DEVICE);
        nic.detach(a); // unmaps what it still holds first
        assertThat(exp.unmaps.get()).isEqualTo(2);
        assertThat(exp.buf.attachments()).isEmpty();
        assertThat(core.warnings()).as("no detach with a mapping held").isEmpty();
    }

    @Test
    void aStaticImporterPinsThePinningExporterWhileMapped() {
        Sys exp = new Sys(true, 0x10000);
        DmaBufImporter nvme = drivers.nvme(nvmeDev);
        assertThat(nvme.dynamic()).isFalse();
        DmaBufAttachment s = nvme.attach(exp.buf);
        assertThat(s.dynamic()).isFalse();
        assertThat(s.peer2peer()).as("no P2P addresses for a static importer").isFalse();
        nvme.map(s, DmaDirection.TO_DEVICE);
        assertThat(exp.pins.get()).isEqualTo(1);
        assertThat(nvme.unmap(s)).isTrue();
        assertThat(exp.unpins.get()).isEqualTo(1);
        nvme.map(s, DmaDirection.TO_DEVICE);
        nvme.detach(s);
        assertThat(exp.unpins.get()).as("detach unmapped and unpinned").isEqualTo(2);
        assertThat(exp.buf.attachments()).isEmpty();
    }

    @Test
    void moveNotifyDropsTheDynamicMappingAndTheNextUseMapsTheNewPages() {
        Sys exp = new Sys(true, 0x10000, 0x20000);
        DmaBufImporter nic = drivers.rdmaNic(nicDev);
        DmaBufImporter nvme = drivers.nvme(nvmeDev);
        DmaBufAttachment a = nic.attach(exp.buf);
        DmaBufAttachment s = nvme.attach(exp.buf);
        SgTable before = nic.map(a, DmaDirection.BIDIRECTIONAL);
        nvme.map(s, DmaDirection.TO_DEVICE);
        exp.move();
        assertThat(nic.moveNotifications()).isEqualTo(1);
        assertThat(nvme.moveNotifications()).as("static importers are not told").isZero();
        assertThat(nic.mapped(a)).isFalse();
        assertThat(nvme.mapped(s)).isTrue();
        assertThat(exp.unmaps.get()).as("the stale mapping was unmapped in move_notify").isEqualTo(1);
        // the device's next access maps again, to the new pages, with the same bytes
        ByteBuffer got = ByteBuffer.allocate(4);
        nic.dmaRead(a, PAGE, got);
        assertThat(got.getInt(0)).isEqualTo(0x1001);
        assertThat(nic.mapped(a)).isTrue();
        assertThat(bus.accesses).last().isEqualTo("read 0000:05:00.0 0x1020000+4");
        SgTable after = nic.map(a, DmaDirection.BIDIRECTIONAL);
        assertThat(after).isNotSameAs(before);
        assertThat(after.entries().get(0).dmaAddress()).isEqualTo(0x1010000L);
        assertThat(nic.route(a, 0).what()).isEqualTo("RAM page at 0x1010000");
        nic.detach(a);
        nvme.detach(s);
        assertThat(exp.maps.get()).isEqualTo(exp.unmaps.get());
        assertThat(exp.pins.get()).isEqualTo(exp.unpins.get());
    }

    @Test
    void anotherDirectionIsASecondMappingAsTheCoreCachesNothing() {
        Sys exp = new Sys(false, 0x10000);
        DmaBufImporter nic = drivers.rdmaNic(nicDev);
        DmaBufAttachment a = nic.attach(exp.buf);
        SgTable sgt = nic.map(a, DmaDirection.TO_DEVICE);
        assertThat(nic.map(a, DmaDirection.TO_DEVICE)).as("the driver's own mapping for that direction").isSameAs(sgt);
        assertThat(nic.directions(a)).containsExactly(DmaDirection.TO_DEVICE);
        // the direction decides what the device may do through it
        assertThat(kex(() -> nic.dmaWrite(a, 0, ByteBuffer.allocate(4))).getMessage())
                .isEqualTo("EINVAL: 0000:05:00.0: device write through a TO_DEVICE mapping");
        nic.dmaRead(a, 0, ByteBuffer.allocate(4));
        // dma_buf_map_attachment for another direction: EBUSY only where the core cached the first
        // mapping (cache_sgt_mapping); this exporter, like the system heap, gets a second mapping
        SgTable from = nic.map(a, DmaDirection.FROM_DEVICE);
        assertThat(from).isNotSameAs(sgt);
        assertThat(exp.maps.get()).isEqualTo(2);
        assertThat(nic.directions(a)).containsExactly(DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE);
        nic.dmaWrite(a, 0, ByteBuffer.allocate(4)); // through the FROM_DEVICE one
        nic.dmaRead(a, 0, ByteBuffer.allocate(4)); // through the TO_DEVICE one
        assertThat(nic.map(a, DmaDirection.BIDIRECTIONAL)).as("a third").isNotSameAs(sgt).isNotSameAs(from);
        assertThat(nic.map(a, DmaDirection.FROM_DEVICE)).isSameAs(from);
        assertThat(exp.maps.get()).isEqualTo(3);
        assertThat(nic.unmap(a)).isTrue();
        assertThat(exp.unmaps.get()).as("every mapping unmapped").isEqualTo(3);
        assertThat(nic.directions(a)).isEmpty();
        nic.map(a, DmaDirection.FROM_DEVICE);
        assertThat(kex(() -> nic.dmaRead(a, 0, ByteBuffer.allocate(4))).getMessage())
                .isEqualTo("EINVAL: 0000:05:00.0: device read through a FROM_DEVICE mapping");
        nic.dmaWrite(a, 0, ByteBuffer.allocate(4));
        nic.unmap(a);
        assertThat(kex(() -> nic.map(a, DmaDirection.NONE)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(nic.mapped(a)).isFalse();
        // move_notify drops them all
        nic.map(a, DmaDirection.TO_DEVICE);
        nic.map(a, DmaDirection.FROM_DEVICE);
        exp.move();
        assertThat(nic.directions(a)).isEmpty();
        nic.detach(a);
        assertThat(exp.maps.get()).isEqualTo(exp.unmaps.get());
        assertThat(core.warnings()).isEmpty();
    }

    @Test
    void aMoveWaitsForADeviceAccessInFlight() throws Exception {
        Sys exp = new Sys(true, 0x10000);
        DmaBufImporter nic = drivers.rdmaNic(nicDev);
        DmaBufAttachment a = nic.attach(exp.buf);
        nic.map(a, DmaDirection.BIDIRECTIONAL);
        java.util.concurrent.CountDownLatch inAccess = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        bus.inAccess = () -> {
            inAccess.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Integer> read = pool.submit(() -> {
                ByteBuffer b = ByteBuffer.allocate(4);
                nic.dmaRead(a, 0, b);
                return b.getInt(0);
            });
            assertThat(inAccess.await(10, TimeUnit.SECONDS)).as("the device is reading").isTrue();
            bus.inAccess = null;
            Thread[] mover = new Thread[1];
            Future<?> move = pool.submit(() -> {
                mover[0] = Thread.currentThread();
                exp.move();
            });
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((mover[0] == null || mover[0].getState() != Thread.State.WAITING) && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            assertThat(mover[0].getState()).as("the move waits for the reservation lock").isEqualTo(Thread.State.WAITING);
            assertThat(exp.moves.get()).as("nothing moved under the access").isZero();
            assertThat(nic.moveNotifications()).isZero();
            release.countDown();
            assertThat(read.get(10, TimeUnit.SECONDS)).as("the bytes of the pages it mapped").isEqualTo(0x1000);
            move.get(10, TimeUnit.SECONDS);
            assertThat(exp.moves.get()).isEqualTo(1);
            assertThat(nic.mapped(a)).as("dropped by move_notify after the access").isFalse();
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        nic.detach(a);
        assertThat(exp.maps.get()).isEqualTo(exp.unmaps.get());
    }

    @Test
    void deviceDmaWalksTheSegmentsOfTheMapping() {
        Sys exp = new Sys(false, 0x50000, 0x10000, 0x30000);
        DmaBufImporter nic = drivers.rdmaNic(nicDev);
        DmaBufAttachment a = nic.attach(exp.buf);
        byte[] text = "across-pages".getBytes(StandardCharsets.UTF_8);
        nic.dmaWrite(a, PAGE - 6, ByteBuffer.wrap(text));
        assertThat(bus.accesses).containsExactly("write 0000:05:00.0 0x50ffa+6", "write 0000:05:00.0 0x10000+6");
        byte[] first = new byte[6];
        exp.mem[0].get(PAGE - 6, first);
        assertThat(new String(first, StandardCharsets.UTF_8)).as("the exporter's own memory").isEqualTo("across");
        ByteBuffer back = ByteBuffer.allocate(text.length + 4);
        back.position(4); // the device writes into the buffer from its position
        nic.dmaRead(a, PAGE - 6, back);
        assertThat(back.position()).isEqualTo(back.limit());
        assertThat(new String(back.array(), 4, text.length, StandardCharsets.UTF_8)).isEqualTo("across-pages");
        ByteBuffer whole = ByteBuffer.allocate(3 * PAGE);
        nic.dmaRead(a, 0, whole);
        assertThat(whole.getInt(2 * PAGE)).isEqualTo(0x1002);
        assertThat(nic.route(a, 2 * PAGE + 8).phys()).isEqualTo(0x30008L);
        nic.dmaRead(a, 3 * PAGE, ByteBuffer.allocate(0)); // nothing at the very end: nothing to do
        nic.detach(a);
    }

    @Test
    void accessesOutsideTheBufferAreEinvalBeforeAnythingMoves() {
        Sys exp = new Sys(false, 0x10000, 0x20000);
        DmaBufImporter nic = drivers.rdmaNic(nicDev);
        DmaBufAttachment a = nic.attach(exp.buf);
        long size = 2L * PAGE;
        for (long[] bad : new long[][] {{-1, 1}, {size, 1}, {size - 2, 4}, {size + 1, 0}, {Long.MAX_VALUE, 1},
            {Long.MIN_VALUE, 1}}) {
            KernelException e = kex(() -> nic.dmaRead(a, bad[0], ByteBuffer.allocate((int) bad[1])));
            assertThat(e.errno()).as("%d bytes at %d", bad[1], bad[0]).isEqualTo(Errno.EINVAL);
            assertThat(e.getMessage()).contains("outside the buffer of 8192 bytes");
        }
        assertThat(kex(() -> nic.dmaWrite(a, size - 1, ByteBuffer.allocate(2))).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> nic.route(a, size)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> nic.route(a, -1)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(bus.accesses).isEmpty();
        assertThat(nic.mapped(a)).as("nothing mapped for a refused access").isFalse();
        nic.detach(a);
    }

    @Test
    void withoutTheDmaEngineImportersMapButMoveNoBytes() {
        Sys exp = new Sys(false, 0x10000);
        DmaBufImporter nic = new ImportersImpl(core).rdmaNic(nicDev);
        DmaBufAttachment a = nic.attach(exp.buf);
        nic.map(a, DmaDirection.BIDIRECTIONAL);
        KernelException e = kex(() -> nic.dmaRead(a, 0, ByteBuffer.allocate(4)));
        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
        assertThat(e.getMessage()).isEqualTo("ENODEV: 0000:05:00.0: no device DMA engine: the p2pdma module is not loaded");
        assertThat(kex(() -> nic.route(a, 0)).errno()).isEqualTo(Errno.ENODEV);
        nic.detach(a);
    }

    @Test
    void theExportersAndTheFabricsErrorsReachTheCaller() {
        Sys exp = new Sys(false, 0x10000);
        DmaBufImporter nic = drivers.rdmaNic(nicDev);
        exp.attachResult = Errno.ENODEV.negative();
        assertThat(kex(() -> nic.attach(exp.buf)).errno()).as("the exporter's attach").isEqualTo(Errno.ENODEV);
        assertThat(exp.buf.attachments()).isEmpty();
        exp.attachResult = 0;
        assertThat(kex(() -> nic.attach(null)).errno()).isEqualTo(Errno.EINVAL);
        DmaBufAttachment a = nic.attach(exp.buf);
        exp.mapFails = true;
        assertThat(kex(() -> nic.map(a, DmaDirection.BIDIRECTIONAL)).errno()).as("a NULL map").isEqualTo(Errno.ENOMEM);
        assertThat(nic.mapped(a)).isFalse();
        assertThat(kex(() -> nic.dmaRead(a, 0, ByteBuffer.allocate(1))).errno()).isEqualTo(Errno.ENOMEM);
        exp.mapFails = false;
        nic.map(a, DmaDirection.BIDIRECTIONAL);
        bus.pages.clear(); // the IOMMU dropped the translation under the importer
        KernelException fault = kex(() -> nic.dmaRead(a, 0, ByteBuffer.allocate(1)));
        assertThat(fault.errno()).isEqualTo(Errno.EFAULT);
        assertThat(fault.getMessage()).contains("0x10000");
        nic.detach(a);
        assertThat(kex(() -> drivers.rdmaNic(null)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> drivers.nvme(null)).errno()).isEqualTo(Errno.EINVAL);
    }

    /** A stress run beside the deterministic test above: it can miss a regression, never fail without one. */
    @Test
    void deviceAccessesRacingMovesAlwaysSeeTheBuffersBytes() throws Exception {
        Sys exp = new Sys(true, 0x10000, 0x20000, 0x30000, 0x40000);
        List<DmaBufImporter> nics = List.of(drivers.rdmaNic(nicDev), drivers.rdmaNic(nicDev));
        List<DmaBufAttachment> atts = List.of(nics.get(0).attach(exp.buf), nics.get(1).attach(exp.buf));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger reads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                DmaBufImporter nic = nics.get(t);
                DmaBufAttachment a = atts.get(t);
                readers.add(pool.submit(() -> {
                    while (!stop.get()) {
                        int page = ThreadLocalRandom.current().nextInt(4);
                        ByteBuffer b = ByteBuffer.allocate(4);
                        nic.dmaRead(a, (long) page * PAGE, b); // an EFAULT here is a read through a stale mapping
                        assertThat(b.getInt(0)).isEqualTo(0x1000 + page);
                        reads.incrementAndGet();
                    }
                    return null;
                }));
            }
            Future<?> mover = pool.submit(() -> {
                for (int i = 0; i < 2000; i++) {
                    exp.move();
                }
                return null;
            });
            mover.get(60, TimeUnit.SECONDS);
            stop.set(true);
            for (Future<?> r : readers) {
                r.get(60, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        assertThat(reads.get()).isPositive();
        assertThat(nics.get(0).moveNotifications() + nics.get(1).moveNotifications()).isEqualTo(4000);
        for (int t = 0; t < 2; t++) {
            nics.get(t).detach(atts.get(t));
        }
        assertThat(exp.maps.get()).isEqualTo(exp.unmaps.get());
        assertThat(exp.buf.attachments()).isEmpty();
    }
}
