package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.dma.DmaApi;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.TopologyIO;

/**
 * A p2pdma provider that goes away (pci:remove, or pci:unplug for a surprise removal) while a process
 * maps its memory, a client driver holds an allocation and an IOMMU-translated device has live DMA
 * mappings: the user mapping is zapped (its next access faults) instead of holding the removal up, the
 * client can still free into the dying provider, the removed device's DMA mappings and IOVAs go with it,
 * and once the last allocation is back the same BAR probes again with nothing left behind.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class ProviderHotRemoveTest {
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

    @BeforeEach
    void sample() throws Exception {
        core.load(io.sample());
        new Shell(processor).run("kmod:modparam p2pdma release_wait_ms=300");
    }

    @AfterEach
    void restore() throws Exception {
        Shell sh = new Shell(processor);
        sh.run("kmod:modparam p2pdma release_wait_ms=5000");
        try {
            sh.run("hmm:exit hotrm");
        } catch (Exception ignored) {
            // already gone
        }
        core.load(io.sample());
    }

    private static String group(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"remove", "unplug"})
    void aRemovedProviderLeavesNothingBehind(String how) throws Exception {
        Shell sh = new Shell(processor);
        DmaApi dma = Runtime.await(ctx, DmaApi.class, 5000);
        int refs0 = core.references().size();
        int pagemaps0 = zone.pagemaps().size();

        sh.run("p2p:addres 03:00.0 3");
        String alloc = sh.run("p2p:alloc 03:00.0 64K");
        String virt = alloc.strip().lines().reduce((a, b) -> b).orElseThrow();
        sh.run("hmm:proc hotrm");
        String addr = sh.run("hmm:p2pmmap hotrm 03:00.0 16K").strip();
        assertThat(sh.run("hmm:write hotrm " + addr + " hello")).contains("5 bytes");
        String mapped = sh.run("dma:map 05:00.0 page 0x10000000 8192");
        assertThat(mapped).contains("via iommu");

        assertThat(sh.run("pci:" + how + " 03:00.0")).contains("0000:03:00.0");
        // the process mapping was zapped: no page reference of it holds the teardown up, an access faults
        assertThatThrownBy(() -> sh.run("hmm:read hotrm " + addr + " 5")).hasMessageContaining("EFAULT");
        assertThat(zone.pagemaps()).as("the pagemap waits for the client allocation only").singleElement()
                .satisfies(pg -> assertThat(zone.holders(pg)).singleElement().asString().startsWith("pci_alloc_p2pmem"));
        // the client still holds its pci_dev and frees into the dying provider: the teardown completes
        assertThat(sh.run("p2p:free 03:00.0 " + virt + " 64K")).contains("(removed) teardown complete");
        assertThat(zone.pagemaps()).hasSize(pagemaps0);
        // freed twice: the provider is gone for good now
        assertThatThrownBy(() -> sh.run("p2p:free 03:00.0 " + virt + " 64K")).hasMessageStartingWith("ENODEV");

        // the IOMMU-translated device goes too: its mapping is unmapped and revoked, the IOVA is free again
        PciDeviceHolder nic = new PciDeviceHolder(core, "05:00.0");
        assertThat(dma.mappings(nic.dev)).hasSize(1);
        sh.run("pci:" + how + " 05:00.0");
        assertThat(dma.mappings(nic.dev)).isEmpty();

        // back: the same BAR probes again, the same IOVA is handed out again, references as before
        core.load(io.sample());
        assertThat(sh.run("p2p:addres 03:00.0 3")).contains("available 33554432");
        assertThat(sh.run("dma:map 05:00.0 page 0x10000000 8192")).contains(group(mapped, "(dma 0x[0-9a-f]+)"));
        sh.run("dma:unmapall 05:00.0");
        sh.run("p2p:release 03:00.0");
        assertThat(core.references()).hasSize(refs0);
        assertThat(zone.pagemaps()).hasSize(pagemaps0);
    }

    /** A device looked up once, kept after it is removed (as a driver keeps its pci_dev). */
    private static final class PciDeviceHolder {
        final org.peerdma.pci.PciDevice dev;

        PciDeviceHolder(PciCore core, String bdf) {
            dev = core.get(Bdf.parse(bdf));
        }
    }
}
