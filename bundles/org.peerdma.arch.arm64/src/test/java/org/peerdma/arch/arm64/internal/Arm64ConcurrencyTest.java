package org.peerdma.arch.arm64.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.pci.PciDevice;

/** Mappings from many threads while the dma-ranges are swapped: each map sees one configuration whole. */
class Arm64ConcurrencyTest {
    private static final String OFFSET = "0x0:0x80000000:0x80000000";
    private static final String IDENTITY = "0x0:0x0:0x80000000";

    @Test
    void everyScatterlistIsTranslatedByOneConfiguration() throws Exception {
        PciDevice dev = Arm64Fixtures.device(Arm64Fixtures.machine(), Arm64Fixtures.NVME);
        Arm64DirectOps ops = new Arm64DirectOps();
        ops.configure(Arm64Fixtures.dmaConfig(OFFSET));
        List<SgEntry> sgl = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            sgl.add(SgEntry.of(0x10_0000L + i * 0x2000L, 0x1000));
        }
        AtomicBoolean stop = new AtomicBoolean();
        Set<Long> offsetsSeen = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch started = new CountDownLatch(3);
        List<Future<String>> mappers = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            mappers.add(pool.submit(() -> {
                started.countDown();
                int n = 0;
                while (!stop.get() || n < 200) {
                    List<SgEntry> m = ops.mapSg(dev, sgl, DmaDirection.TO_DEVICE, -1L);
                    if (m == null || m.size() != sgl.size()) {
                        return "map_sg failed: " + m;
                    }
                    long offset = m.get(0).dmaAddress() - m.get(0).phys();
                    offsetsSeen.add(offset);
                    for (int i = 0; i < m.size(); i++) {
                        SgEntry e = m.get(i);
                        if (e.dmaAddress() - e.phys() != offset) {
                            return String.format("mixed translation in one scatterlist: entry 0 offset %#x, entry %d "
                                    + "offset %#x", offset, i, e.dmaAddress() - e.phys());
                        }
                    }
                    n++;
                }
                return null;
            }));
        }
        started.await();
        for (int i = 0; i < 2000; i++) {
            ops.configure(Arm64Fixtures.dmaConfig(i % 2 == 0 ? IDENTITY : OFFSET));
        }
        stop.set(true);
        for (Future<String> f : mappers) {
            assertThat(f.get(30, TimeUnit.SECONDS)).isNull();
        }
        pool.shutdown();
        assertThat(offsetsSeen).isSubsetOf(0L, 0x8000_0000L);
    }
}
