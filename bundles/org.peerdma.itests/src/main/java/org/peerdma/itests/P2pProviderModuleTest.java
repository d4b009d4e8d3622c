package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.p2pdma.P2pMapping;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;

/**
 * A provider's module going away: rmmod refuses while p2pmem is handed out, a forced removal
 * revokes user mappings and returns every page; the pools and references are back where they were.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class P2pProviderModuleTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @InjectService(timeout = 5000)
    ZoneDevice zone;

    @AfterEach
    void restore() throws Exception {
        Runtime.startAll(ctx);
        Runtime.await(ctx, P2pMem.class, 5000);
    }

    @Test
    void forcedRemovalRevokesAndDrains() throws Exception {
        Shell sh = new Shell(processor);
        PciCore core = Runtime.await(ctx, PciCore.class, 5000);
        Runtime.eventually("sample booted", 5000, () -> core.machine().devices().size() == 22);
        P2pMem mem = Runtime.await(ctx, P2pMem.class, 5000);
        int refsBefore = core.references().size();

        assertThat(sh.run("p2p:addres 06:00.0 2 64M")).contains("p2pmem size 67108864 available 67108864");
        assertThat(sh.run("p2p:publish 06:00.0")).contains("published 1");
        assertThat(sh.run("p2p:find 05:00.0")).isEqualTo("0000:06:00.0 (distance 4)");
        assertThat(sh.run("p2p:alloc 06:00.0 5000")).contains("available now 67100672");
        assertThat(sh.run("p2p:p2pmem 06:00.0")).contains("available: 67100672");
        assertThatThrownBy(() -> sh.run("p2p:alloc 06:00.0 1G")).hasMessageContaining("returned NULL");
        P2pMapping user = mem.mmapAllocate(core.get(Bdf.parse("06:00.0")), 1 << 20, 0, true);
        user.pages().get(0).data().putLong(0, 42);

        assertThatThrownBy(() -> sh.run("kmod:rmmod p2pdma")).hasMessageContaining("Module p2pdma is in use")
                .hasMessageContaining("bytes of p2pmem allocated");
        assertThatThrownBy(() -> sh.run("kmod:rmmod memremap")).hasMessageContaining("in use by:")
                .hasMessageContaining("p2pdma").hasMessageContaining("1 live: 0000:06:00.0 BAR 2");

        sh.run("kmod:rmmod -f p2pdma");
        assertThat(user.pages()).allMatch(p -> p.refcount() == 0);
        // the 5000-byte kernel allocation has no owner left to free it: the pagemap stays dying, named
        assertThat(zone.pagemaps()).singleElement().satisfies(pg -> {
            assertThat(zone.isDying(pg)).isTrue();
            assertThat(zone.holders(pg)).singleElement().asString().startsWith("pci_alloc_p2pmem");
        });
        String holder = zone.holders(zone.pagemaps().get(0)).get(0).replaceFirst(" x1 \\(pagemap reference.*\\)$", "");
        zone.putRef(zone.pagemaps().get(0), holder);
        assertThat(zone.pagemaps()).isEmpty();
        assertThat(core.references()).hasSize(refsBefore);

        sh.run("kmod:modprobe p2pdma");
        P2pMem back = Runtime.await(ctx, P2pMem.class, 5000);
        assertThat(back.providers()).isEmpty();
        assertThat(sh.run("p2p:addres 06:00.0 2")).contains("available 536870912");
        back.release(core.get(Bdf.parse("06:00.0")));
        assertThat(zone.pagemaps()).isEmpty();
    }
}
