package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
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
import org.peerdma.dma.DmaMapping;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;

/**
 * Swapping the arch module under load: mapping threads keep working with zero failed or wrong
 * operations, and p2pdma's decisions (and cached map types) change the moment the arch changes.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class ArchSwapTest {
    /** arm64-direct's default dma-ranges: CPU 0x0 appears to devices at bus 0x80000000. */
    static final long ARM64_OFFSET = 0x80000000L;

    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @AfterEach
    void restore() throws Exception {
        Runtime.startAll(ctx);
    }

    /**
     * The IOMMU's page table maps the IOVA to the buffer. A translation that finds nothing (-1), or an IOMMU
     * whose module is gone, is right only for a mapping that is being revoked: one still live 10 s later
     * is wrong. (The IOMMU and its DMA ops leave in one unregistration, so the tracker may hear of it before
     * the DMA API has revoked the ops' mappings; and arrive in one registration, so the DMA API may map
     * through a new IOMMU before the tracker gives it: the IOMMU of now is asked again until the mapping
     * translates or is revoked.)
     */
    private static boolean iommuNow(org.osgi.util.tracker.ServiceTracker<org.peerdma.iommu.Iommu, ?> iommus,
            PciDevice dev, DmaMapping m, long iova, long phys) {
        // the tracker and the DMA API hear of a new IOMMU one after the other: the DMA API may already map
        // through it while the tracker still gives none, so the IOMMU of now is asked again on every pass
        long end = System.nanoTime() + 10_000_000_000L; // generous: the revocation runs on the unloading thread
        do {
            long t = -1;
            try {
                // the IOMMU of now: a module loaded again is a new instance with its own page tables
                org.peerdma.iommu.Iommu iommu = (org.peerdma.iommu.Iommu) iommus.getService();
                if (iommu != null) {
                    t = iommu.translate(dev, iova);
                }
            } catch (RuntimeException gone) {
                t = -1; // the service object of an unloaded module
            }
            if (t == phys) {
                return true; // translates in the IOMMU of now
            }
            if (!m.isLive()) {
                return true; // revoked: it need not translate (a new instance may reuse the IOVA)
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < end);
        return false; // live for 10 s and never translated
    }

    private static String holdersNow(org.osgi.util.tracker.ServiceTracker<org.peerdma.iommu.Iommu, ?> iommus) {
        Object o = iommus.getService();
        // which instance the tracker gives and what it holds: tells a stale instance from a regrouped domain
        return o instanceof org.peerdma.module.ModuleUsage u ? "@" + Integer.toHexString(System.identityHashCode(o))
                + " holding " + u.holders() : String.valueOf(o);
    }

    /** Wait until the mappers have done {@code n} more mappings through {@code ops}: the phase really ran. */
    private static void mapsThrough(java.util.Map<String, AtomicLong> byOps, String ops, long n) throws Exception {
        long from = byOps.computeIfAbsent(ops, k -> new AtomicLong()).get();
        Runtime.eventually(n + " mappings through " + ops, 10_000, () -> byOps.get(ops).get() >= from + n);
    }

    @Test
    void swapsUnderLoadAreInvisibleToMappersAndImmediateForDecisions() throws Exception {
        Shell sh = new Shell(processor);
        PciCore core = Runtime.await(ctx, PciCore.class, 5000);
        Runtime.eventually("sample booted", 5000, () -> core.machine().devices().size() == 22);
        DmaApi dma = Runtime.await(ctx, DmaApi.class, 5000);
        Runtime.await(ctx, org.peerdma.iommu.Iommu.class, 5000);
        var iommus = new org.osgi.util.tracker.ServiceTracker<org.peerdma.iommu.Iommu, org.peerdma.iommu.Iommu>(ctx,
                org.peerdma.iommu.Iommu.class, null);
        iommus.open();
        P2pdma p2pdma = Runtime.await(ctx, P2pdma.class, 5000);
        P2pMem mem = Runtime.await(ctx, P2pMem.class, 5000);
        PciDevice gpu = core.get(Bdf.parse("03:00.0"));
        PciDevice far = core.get(Bdf.parse("81:00.0"));
        PciDevice nic = core.get(Bdf.parse("05:00.0"));
        assertThat(dma.opsNames()).contains("x86-direct", "arm64-direct", "iommu");
        assertThat(dma.opsName(nic)).isEqualTo("iommu"); // the IOMMU translates it (mode translated)
        sh.run("kmod:rmmod -f iommu");
        assertThat(dma.opsName(nic)).isEqualTo("x86-direct");
        mem.addResource(gpu, 3, 0, 0);
        assertThat(mem.mapType(gpu, far)).isEqualTo(MapType.THRU_HOST_BRIDGE); // Skylake-E is whitelisted

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ok = new AtomicLong();
        java.util.Map<String, AtomicLong> byOps = new java.util.concurrent.ConcurrentHashMap<>();
        List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            final int id = t;
            Thread th = new Thread(() -> {
                long i = 0;
                while (!stop.get()) {
                    long phys = 0x10000000L + ((id * 100_000L + i++) % 100_000L) * 4096;
                    try {
                        DmaMapping m = dma.mapPage(nic, phys, 4096, DmaDirection.TO_DEVICE);
                        long got = m.entries().get(0).dmaAddress();
                        boolean right = switch (m.opsName()) {
                            case "x86-direct" -> got == phys;
                            case "arm64-direct" -> got == phys + ARM64_OFFSET;
                            // an IOVA is right when the IOMMU's page table maps it to the buffer; the IOMMU
                            // may already be gone (its mappings then are revoked, not wrong)
                            case "iommu" -> true; // checked below
                            default -> false;
                        };
                        if (!right) {
                            problems.add("wrong: " + m);
                        }
                        if (m.opsName().equals("iommu") && !iommuNow(iommus, nic, m, got, phys)) {
                            problems.add("live for 10 s and never translated: " + m + " at generation "
                                    + core.machine().generation() + ", the IOMMU now " + holdersNow(iommus));
                        }
                        dma.unmap(m);
                        ok.incrementAndGet();
                        byOps.computeIfAbsent(m.opsName(), k -> new AtomicLong()).incrementAndGet();
                    } catch (Throwable ex) {
                        problems.add("failed: " + ex);
                    }
                }
            }, "mapper-" + t);
            th.start();
            threads.add(th);
        }
        try {
            for (int round = 0; round < 8; round++) {
                mapsThrough(byOps, "x86-direct", 50);
                sh.run("kmod:rmmod -f arch_x86");
                assertThat(dma.opsName(nic)).isEqualTo("arm64-direct");
                assertThat(p2pdma.arch()).isEqualTo("arm64");
                // arm64 has no host-bridge whitelist and no CPU rule: the cached answer is gone at once
                assertThat(mem.mapType(gpu, far)).isEqualTo(MapType.NOT_SUPPORTED);
                assertThat(p2pdma.check(gpu, far, null).rule()).contains("arm64 arch has no host-bridge whitelist");
                mapsThrough(byOps, "arm64-direct", 50);
                sh.run("kmod:modprobe arch_x86");
                Runtime.eventually("x86 back", 5000, () -> "x86_64".equals(p2pdma.arch()));
                assertThat(dma.opsName(nic)).isEqualTo("x86-direct");
                assertThat(mem.mapType(gpu, far)).isEqualTo(MapType.THRU_HOST_BRIDGE);
                // and the IOMMU comes and goes under the same load
                sh.run("kmod:modprobe iommu");
                Runtime.eventually("iommu translating", 5000, () -> "iommu".equals(dma.opsName(nic)));
                mapsThrough(byOps, "iommu", 50);
                sh.run("kmod:rmmod -f iommu");
                assertThat(dma.opsName(nic)).isEqualTo("x86-direct");
            }
            sh.run("kmod:modprobe iommu");
        } finally {
            stop.set(true);
            for (Thread th : threads) {
                th.join(10_000);
            }
            mem.release(gpu);
            iommus.close();
        }
        assertThat(threads).as("mapper threads that did not stop").noneMatch(Thread::isAlive);
        assertThat(problems).isEmpty();
        assertThat(byOps.keySet()).as("mappings ran through every ops").contains("x86-direct", "arm64-direct", "iommu");
        assertThat(ok.get()).isGreaterThan(1000);
        assertThat(dma.mappings(nic)).isEmpty();
    }
}
