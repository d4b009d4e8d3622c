package org.peerdma.mm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.PagemapOps;
import org.peerdma.mm.Range;

class ZoneDeviceTest {
    private static final long BAR = 0x3a100000000L;
    private ZoneDeviceImpl zd;
    private final List<Long> freed = new ArrayList<>();

    private static ZoneDeviceConfig config(String ram, int bits) {
        return new ZoneDeviceConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return ZoneDeviceConfig.class;
            }

            @Override
            public String system__ram() {
                return ram;
            }

            @Override
            public int max__physmem__bits() {
                return bits;
            }

            @Override
            public int teardown__warn__ms() {
                return 50;
            }
        };
    }

    @BeforeEach
    void setUp() {
        zd = new ZoneDeviceImpl();
        zd.configure(config("0x0-0x7fffffff,0x100000000-0x47fffffff", 46));
    }

    private DevPagemap pgmap(MemoryType type, long start, long size) {
        DevPagemap p = new DevPagemap();
        p.type = type;
        p.name = type + "@" + Long.toHexString(start);
        p.ranges.add(Range.ofSize(start, size));
        p.ops = page -> freed.add(page.pfn());
        p.owner = this;
        return p;
    }

    private static Errno errno(Runnable r) {
        try {
            r.run();
        } catch (KernelException ex) {
            return ex.errno();
        }
        throw new AssertionError("no error");
    }

    @Test
    void argumentErrorsInTheKernelsOrder() {
        DevPagemap none = pgmap(MemoryType.PCI_P2PDMA, BAR, 1 << 20);
        none.ranges.clear();
        assertThat(errno(() -> zd.memremapPages(none, 0))).isEqualTo(Errno.EINVAL);

        DevPagemap priv = pgmap(MemoryType.DEVICE_PRIVATE, BAR, 1 << 20);
        assertThatThrownBy(() -> zd.memremapPages(priv, 0)).hasMessageContaining("migrate_to_ram");
        DevPagemap coherentNoOwner = pgmap(MemoryType.DEVICE_COHERENT, BAR, 1 << 20);
        coherentNoOwner.owner = null;
        assertThatThrownBy(() -> zd.memremapPages(coherentNoOwner, 0)).hasMessageContaining("owner");

        DevPagemap alt = pgmap(MemoryType.GENERIC, BAR, 1 << 20);
        alt.ranges.add(Range.ofSize(BAR + (1 << 21), 1 << 20));
        alt.flags = DevPagemap.PGMAP_ALTMAP_VALID;
        assertThat(errno(() -> zd.memremapPages(alt, 0))).isEqualTo(Errno.EINVAL);

        assertThat(errno(() -> zd.memremapPages(pgmap(MemoryType.PCI_P2PDMA, 0x40000000L, 1 << 20), 0)))
                .isEqualTo(Errno.ENXIO);
        assertThatThrownBy(() -> zd.memremapPages(pgmap(MemoryType.PCI_P2PDMA, 0x7ff00000L, 1 << 21), 0))
                .hasMessageContaining("mixed");
        zd.configure(config("0x0-0x7fffffff", 40));
        assertThatThrownBy(() -> zd.memremapPages(pgmap(MemoryType.PCI_P2PDMA, BAR, 1 << 20), 0))
                .hasMessageContaining("mhp_range_allowed");
        assertThat(zd.pagemaps()).isEmpty();
    }

    @Test
    void mapsReturnTheDirectMapAddressAndRefuseConflicts() {
        DevPagemap p = pgmap(MemoryType.PCI_P2PDMA, BAR, 16 << 20);
        assertThat(zd.memremapPages(p, 0)).isEqualTo(org.peerdma.mm.ZoneDevice.va(BAR));
        assertThat(zd.refCount(p)).isEqualTo(1 + 4096); // one per page from map time, plus the base
        DevPagemap overlap = pgmap(MemoryType.PCI_P2PDMA, BAR + (8 << 20), 16 << 20);
        assertThatThrownBy(() -> zd.memremapPages(overlap, 0)).isInstanceOf(KernelException.class)
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENOMEM))
                .hasMessageContaining("Conflicting mapping in same section");
        assertThat(zd.pfnToPage(BAR >>> 12).pgmap()).isSameAs(p);
        assertThat(errno(() -> zd.pfnToPage(0x12345))).isEqualTo(Errno.EFAULT);
        zd.memunmapPages(p);
        assertThat(zd.pagemaps()).isEmpty();
    }

    @Test
    void teardownRefusesNewReferencesAndWaitsForOldOnes() {
        DevPagemap p = pgmap(MemoryType.PCI_P2PDMA, BAR, 1 << 20);
        zd.memremapPages(p, 0);
        long pfn = BAR >>> 12;
        assertThat(zd.getDevPagemap(pfn, null)).contains(p);
        zd.putDevPagemap(p);
        assertThat(zd.tryGetLive(p, "nvme-driver")).isTrue();
        assertThatThrownBy(() -> zd.memunmapPages(p, Duration.ofMillis(100)))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ETIMEDOUT))
                .hasMessageContaining("nvme-driver x1 (pagemap reference)");
        assertThat(zd.isDying(p)).isTrue();
        assertThat(zd.getDevPagemap(pfn, null)).isEmpty();
        assertThat(zd.tryGetLive(p, "late")).isFalse();
        assertThat(zd.pagemaps()).containsExactly(p);
        zd.putRef(p, "nvme-driver");
        assertThat(zd.pagemaps()).isEmpty();
        zd.putDevPagemap(null);
    }

    @Test
    void pageFreeRunsAtZeroAndPrivatePagesHoldThePagemap() {
        DevPagemap p2p = pgmap(MemoryType.PCI_P2PDMA, BAR, 1 << 20);
        zd.memremapPages(p2p, 0);
        Page page = zd.pfnToPage(BAR >>> 12);
        assertThat(page.refcount()).isZero();
        page.init("mmap");
        page.get("dma");
        page.put("mmap");
        assertThat(freed).isEmpty();
        page.put("dma");
        assertThat(freed).containsExactly(BAR >>> 12);
        assertThatThrownBy(() -> page.put("dma")).hasMessageContaining("holds no reference");

        DevPagemap priv = pgmap(MemoryType.DEVICE_PRIVATE, 0x800000000000L - (1L << 30), 1 << 20);
        priv.ops = new PagemapOps() {
            @Override
            public void pageFree(Page pg) {
                freed.add(-pg.pfn());
            }

            @Override
            public boolean hasMigrateToRam() {
                return true;
            }

            @Override
            public int migrateToRam(Page pg) {
                return 0;
            }
        };
        zd.configure(config("0x0-0x7fffffff", 47));
        zd.memremapPages(priv, 0);
        assertThat(zd.refCount(priv)).isEqualTo(1); // no map-time refs for DEVICE_PRIVATE
        Page dp = zd.pfnToPage(priv.ranges.get(0).start() >>> 12);
        dp.init("dmirror");
        assertThat(zd.refCount(priv)).isEqualTo(2);
        assertThat(errno(() -> dp.init("again"))).isEqualTo(Errno.EBUSY);
        assertThatThrownBy(() -> zd.memunmapPages(priv, Duration.ofMillis(50))).hasMessageContaining("dmirror x1");
        Page other = zd.pfnToPage((priv.ranges.get(0).start() >>> 12) + 1);
        assertThat(errno(() -> other.init("late"))).isEqualTo(Errno.ENXIO);
        dp.put("dmirror");
        assertThat(freed).contains(-dp.pfn());
        assertThat(zd.pagemaps()).doesNotContain(priv);
    }

    @Test
    void pagesHoldRealBytes() {
        DevPagemap p = pgmap(MemoryType.PCI_P2PDMA, BAR, 1 << 20);
        zd.memremapPages(p, 0);
        zd.pfnToPage((BAR >>> 12) + 3).data().put(0, (byte) 0x5a).putLong(8, 0x1122334455667788L);
        var again = zd.pfnToPage((BAR >>> 12) + 3).data();
        assertThat(again.get(0)).isEqualTo((byte) 0x5a);
        assertThat(again.getLong(8)).isEqualTo(0x1122334455667788L);
        assertThat(again.capacity()).isEqualTo(Page.PAGE_SIZE);
        assertThat(zd.pfnToPage(BAR >>> 12).data().get(0)).isZero();
    }

    @Test
    void badConfiguration() {
        assertThatThrownBy(() -> ZoneDeviceImpl.parseRanges("0x0-0x10,zz")).hasMessageContaining("zz");
        assertThatThrownBy(() -> zd.configure(config("", 99))).hasMessageContaining("max_physmem_bits");
        assertThatThrownBy(() -> Range.ofSize(0, 0)).hasMessageContaining("positive");
    }

    @Test
    void countedHoldersAreNamedWithTheirCountAndDetailWhenATeardownWaits() {
        DevPagemap p = pgmap(MemoryType.PCI_P2PDMA, BAR, 1 << 20);
        zd.memremapPages(p, 0);
        long base = zd.refCount(p);
        String[] live = {"0x1000+4096"};
        var h = zd.refHolder(p, "pci_alloc_p2pmem", () -> "in the pool: " + live[0]);
        assertThat(h.tryGetLive()).isTrue();
        assertThat(h.tryGetLive()).isTrue();
        assertThat(h.held()).isEqualTo(2);
        assertThat(zd.refCount(p)).isEqualTo(base + 2);
        assertThat(zd.holders(p)).containsExactly("pci_alloc_p2pmem x2 (pagemap reference; in the pool: 0x1000+4096)");
        h.put();
        zd.putRef(p, "pci_alloc_p2pmem"); // named by its name, a counted holder drops one reference
        assertThat(h.held()).isZero();
        assertThat(zd.holders(p)).isEmpty();
        assertThatThrownBy(h::put).hasMessageStartingWith("EINVAL").hasMessageContaining("holds no reference");
        assertThat(zd.refCount(p)).as("a refused put changes nothing").isEqualTo(base);
        assertThat(h.tryGetLive()).isTrue();
        assertThatThrownBy(() -> zd.memunmapPages(p, Duration.ofMillis(50))).hasMessageContaining("ETIMEDOUT")
                .hasMessageContaining("pci_alloc_p2pmem x1 (pagemap reference; in the pool: 0x1000+4096)");
        assertThat(h.tryGetLive()).as("no new reference once dying").isFalse();
        h.put();
        assertThat(zd.pagemaps()).isEmpty();
    }
}
