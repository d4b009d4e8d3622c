package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.drivers.GpuExporter;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.DmaBufImporters;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.TopologyIO;

/**
 * Many threads against the live runtime while the machine changes under them: P2P allocations, dma-buf
 * importers attaching and mapping while buffers are closed and the exporting GPU is removed, readers of
 * the PCI core while machines are loaded and devices removed. Each thread may fail only with an errno;
 * afterwards pools, page maps, DMA mappings, buffers and device references are where they started.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class LoadTest {
    static final long MB = 1 << 20;

    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @InjectService(timeout = 5000)
    PciCore core;

    @InjectService(timeout = 5000)
    TopologyIO io;

    @InjectService(timeout = 5000)
    ZoneDevice zone;

    @AfterEach
    void sample() throws Exception {
        Runtime.startAll(ctx);
        core.load(io.sample());
    }

    /** Runs {@code n} workers until {@code stop}; what they threw besides an errno is collected. */
    private static final class Workers {
        final AtomicBoolean stop = new AtomicBoolean();
        final List<String> problems = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new ArrayList<>();
        /** Whether an errno is an acceptable answer (the machine changes under the workers) or a failure too. */
        boolean errnoAllowed = true;

        interface Body {
            void run(int id) throws Exception;
        }

        Workers start(int n, String name, Body body) {
            for (int t = 0; t < n; t++) {
                final int id = t;
                Thread th = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            body.run(id);
                        } catch (KernelException expected) {
                            // a device or buffer that went away under the call: an errno is the right answer
                            if (!errnoAllowed) {
                                problems.add(Thread.currentThread().getName() + ": " + expected);
                            }
                        } catch (Throwable ex) {
                            StringBuilder where = new StringBuilder();
                            StackTraceElement[] st = ex.getStackTrace();
                            for (int f = 0, shown = 0; f < st.length && shown < 6; f++) {
                                if (!st[f].getClassName().startsWith("java.")) {
                                    where.append("\n    at ").append(st[f]);
                                    shown++;
                                }
                            }
                            problems.add(Thread.currentThread().getName() + ": " + ex + where);
                            if (problems.size() > 20) {
                                return;
                            }
                        }
                    }
                }, name + "-" + t);
                th.setDaemon(true);
                th.start();
                threads.add(th);
            }
            return this;
        }

        void stopAndJoin() throws InterruptedException {
            stop.set(true);
            for (Thread th : threads) {
                th.join(20_000);
            }
            assertThat(threads).as("workers that did not stop").noneMatch(Thread::isAlive);
            assertThat(problems).as("failures other than an errno").isEmpty();
        }
    }

    @Test
    void p2pAllocationsFromManyThreadsNeverOverlapAndAllComeBack() throws Exception {
        P2pMem mem = Runtime.await(ctx, P2pMem.class, 5000);
        PciDevice nvme = core.get(Bdf.parse("06:00.0"));
        int pagemaps0 = zone.pagemaps().size();
        mem.addResource(nvme, 2, 64 * MB, 0);
        long size = mem.info(nvme).size();
        ConcurrentSkipListMap<Long, Long> live = new ConcurrentSkipListMap<>();
        AtomicLong allocs = new AtomicLong();
        AtomicLong full = new AtomicLong();
        Workers w = new Workers();
        w.errnoAllowed = false; // nothing changes under these workers: every call must succeed
        w.start(6, "p2p", id -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            List<long[]> mine = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                long n = (1 + r.nextInt(64)) * 4096L;
                long v = mem.alloc(nvme, n);
                if (v == 0) {
                    full.incrementAndGet();
                    continue;
                }
                allocs.incrementAndGet();
                // no live buffer may overlap another one
                Map.Entry<Long, Long> below = live.floorEntry(v + n - 1);
                if (below != null && below.getKey() + below.getValue() > v) {
                    throw new AssertionError(String.format("%#x+%d overlaps live %#x+%d", v, n, below.getKey(),
                            below.getValue()));
                }
                if (live.putIfAbsent(v, n) != null) {
                    throw new AssertionError(String.format("%#x handed out twice", v));
                }
                mine.add(new long[] {v, n});
                if (r.nextBoolean()) {
                    long[] f = mine.remove(r.nextInt(mine.size()));
                    live.remove(f[0]);
                    mem.free(nvme, f[0], f[1]);
                }
            }
            for (long[] f : mine) {
                live.remove(f[0]);
                mem.free(nvme, f[0], f[1]);
            }
        });
        Runtime.eventually("20000 allocations", 60_000, () -> allocs.get() >= 20_000 || !w.problems.isEmpty());
        w.stopAndJoin();
        assertThat(live).isEmpty();
        assertThat(mem.info(nvme).available()).as("every byte back").isEqualTo(size);
        mem.release(nvme);
        assertThat(zone.pagemaps()).hasSize(pagemaps0);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"pci:remove 03:00.0", "kmod:rmmod -f gpu_exporter"})
    void importersRacingCloseAndTheExportersRemovalLeaveNothingBehind(String removal) throws Exception {
        GpuExporter gpus = Runtime.await(ctx, GpuExporter.class, 5000);
        DmaBufImporters drivers = Runtime.await(ctx, DmaBufImporters.class, 5000);
        DmaBufCore bufs = Runtime.await(ctx, DmaBufCore.class, 5000);
        DmaApi dma = Runtime.await(ctx, DmaApi.class, 5000);
        P2pMem mem = Runtime.await(ctx, P2pMem.class, 5000);
        PciDevice gpu = core.get(Bdf.parse("03:00.0"));
        PciDevice nic = core.get(Bdf.parse("05:00.0"));
        PciDevice far = core.get(Bdf.parse("82:00.0"));
        int buffers0 = bufs.buffers().size();
        int refs0 = core.references().size();
        int pagemaps0 = zone.pagemaps().size();
        int nicMaps0 = dma.mappings(nic).size();
        int farMaps0 = dma.mappings(far).size();
        FdTable proc = bufs.fdTable("itest-load");
        assertThat(gpus.probe(gpu, 1, 64 * MB)).isZero();
        List<Integer> fds = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 16; i++) {
            fds.add(gpus.allocate(proc, gpu, MB));
        }
        List<DmaBufImporter> importers = List.of(drivers.rdmaNic(nic), drivers.rdmaNic(far), drivers.nvme(
                core.get(Bdf.parse("06:00.0"))));
        AtomicLong mapped = new AtomicLong();
        Workers w = new Workers().start(6, "importer", id -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            if (fds.isEmpty()) {
                Thread.onSpinWait();
                return;
            }
            int fd = fds.get(r.nextInt(fds.size()));
            DmaBuf buf = proc.get(fd);
            try {
                DmaBufImporter imp = importers.get(r.nextInt(importers.size()));
                DmaBufAttachment a = imp.attach(buf);
                try {
                    imp.map(a, DmaDirection.BIDIRECTIONAL);
                    mapped.incrementAndGet();
                    ByteBuffer tag = ByteBuffer.allocate(8).putLong(0, ((long) fd << 32) | id);
                    imp.dmaWrite(a, 0, tag);
                    ByteBuffer back = ByteBuffer.allocate(8);
                    imp.dmaRead(a, 0, back);
                    imp.unmap(a);
                } finally {
                    imp.detach(a);
                }
            } finally {
                bufs.put(buf);
            }
        });
        Runtime.eventually("mappings under load", 30_000, () -> mapped.get() >= 300 || !w.problems.isEmpty());
        // close half the buffers under the importers, then remove the GPU under the rest
        for (int i = 0; i < 8; i++) {
            int fd = fds.remove(0);
            proc.close(fd);
        }
        long before = mapped.get();
        Runtime.eventually("more mappings", 30_000, () -> mapped.get() >= before + 100 || !w.problems.isEmpty());
        new Shell(processor).run(removal);
        Thread.sleep(200); // importers keep trying the revoked buffers: each attempt must fail with an errno
        w.stopAndJoin();
        for (int fd : fds) {
            proc.close(fd);
        }
        fds.clear();

        Runtime.eventually("buffers back", 5000, () -> bufs.buffers().size() == buffers0);
        assertThat(dma.mappings(nic)).hasSize(nicMaps0);
        assertThat(dma.mappings(far)).hasSize(farMaps0);
        assertThat(mem.providers()).doesNotContain(gpu);
        assertThat(zone.pagemaps()).hasSize(pagemaps0);
        assertThat(core.references()).hasSize(refs0);
        new Shell(processor).run("pci:rescan");
        Runtime.startAll(ctx);
        GpuExporter back = Runtime.await(ctx, GpuExporter.class, 5000);
        PciDevice again = core.get(Bdf.parse("03:00.0"));
        assertThat(back.probe(again, 1, 64 * MB)).isZero();
        assertThat(mem.info(again).available()).isEqualTo(64 * MB);
        back.remove(again);
    }

    @Test
    void readersOfThePciCoreRaceLoadsAndRemovals() throws Exception {
        P2pDoctor doctor = Runtime.await(ctx, P2pDoctor.class, 5000);
        Shell sh = new Shell(processor);
        int refs0 = core.references().size();
        var dell = io.read(Runtime.realDumps(ctx).resolve("dell-r730-broadwell-ep-2xp100-nvme.txt"), null);
        AtomicLong reads = new AtomicLong();
        Workers w = new Workers().start(4, "reader", id -> {
            var m = core.machine();
            List<PciDevice> devs = m.devices();
            for (PciDevice d : devs) {
                PciDevice again = core.get(d.bdf());
                if (again == null) {
                    continue;
                }
                again.upstreamBridge();
            }
            List<PciDevice> eps = doctor.endpoints(m);
            if (eps.size() >= 2) {
                doctor.check(m, eps.get(0), eps.get(eps.size() - 1), null);
            }
            if (id == 0) {
                sh.run("pci:lspci -tv");
            }
            reads.incrementAndGet();
        });
        for (int round = 0; round < 15 && w.problems.isEmpty(); round++) {
            core.load(io.sample());
            sh.run("pci:remove 02:08.0");
            sh.run("pci:rescan");
            sh.run("pci:unplug 81:00.0");
            core.load(dell);
            long at = reads.get();
            Runtime.eventually("readers ran", 10_000, () -> reads.get() > at || !w.problems.isEmpty());
        }
        w.stopAndJoin();
        core.load(io.sample());
        assertThat(core.references()).hasSize(refs0);
    }
}
