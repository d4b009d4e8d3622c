package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.xl.Toolstack;

/**
 * Guests as their own frameworks above the hypervisor: created from dom0's shell, running their own
 * bundles, reached only through grants, crashed and destroyed with everything returned.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class XenDomainsTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    private static int num(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void aGuestRunsItsOwnKernelAndSharesAPageWithDom0WithoutACopy() throws Exception {
        Shell sh = new Shell(processor);
        Toolstack xl = Runtime.await(ctx, Toolstack.class, 5000);
        Hypervisor hv = Runtime.await(ctx, Hypervisor.class, 5000);
        long free0 = hv.freeFrames();
        assertThat(sh.run("xl:list")).contains("Domain-0").contains("dom0 (this shell)");
        String created = sh.run("xl:create name=itest-guest memory=16");
        int id = num(created, "id (\\d+)");
        try {
            assertThat(sh.run("xl:list")).contains("itest-guest").contains("own framework");
            // its own framework, its own bundles: the guest's kmod sees its own module list
            BundleContext guest = xl.context("itest-guest");
            assertThat(guest).isNotSameAs(ctx.getBundle(0).getBundleContext());
            assertThat(guest.getProperty("peerdma.xen.domid")).isEqualTo(Integer.toString(id));
            String lsmod = sh.run("xl:exec itest-guest kmod:lsmod");
            assertThat(lsmod).contains("xen").contains("xen_gntdev").doesNotContain("iommu").doesNotContain("gpu_exporter")
                    .doesNotContain("\nxl ");
            Hypercalls g = guest.getService(guest.getServiceReference(Hypercalls.class));
            assertThat(g.domid()).isEqualTo(id);
            // the guest writes a page and grants it to dom0; dom0 maps it and reads the guest's bytes
            sh.run("xl:exec itest-guest xen:poke 3 0 hello-from-the-guest");
            int ref = num(sh.run("xl:exec itest-guest xen:grant 0 3 ro"), "ref (\\d+)");
            int handle = num(sh.run("xen:map " + id + " " + ref + " ro"), "handle (\\d+)");
            assertThat(sh.run("xen:peek " + handle + " 0 20")).isEqualTo("hello-from-the-guest");
            sh.run("xl:exec itest-guest xen:poke 3 0 HELLO"); // a later write is seen through the same mapping
            assertThat(sh.run("xen:peek " + handle + " 0 5")).isEqualTo("HELLO");
            assertThatThrownBy(() -> sh.run("xen:map " + id + " " + ref)).as("writable map of a r/o grant")
                    .hasMessageContaining("GNTST -1");
            assertThat(sh.run("xl:exec itest-guest xen:end " + ref)).contains("deferred");
            sh.run("xen:unmap " + handle);
            Runtime.eventually("the deferred end completes", 5000,
                    () -> xl.exec("itest-guest", "xen:info").contains("0 in use, 0 deferred"));
            // a framebuffer in the guest shared through a page directory; dom0 exports it as a dma-buf
            int gfd = num(sh.run("xl:exec itest-guest gntdev:dumb 64 64 32"), "fd (\\d+)");
            sh.run("xl:exec itest-guest gntdev:write " + gfd + " 0 frame-1");
            int dir = num(sh.run("xl:exec itest-guest gntdev:share " + gfd + " 0"), "gref_directory (\\d+)");
            int dfd = num(sh.run("gntdev:fromdir " + id + " " + dir + " 16384"), "fd (\\d+)");
            assertThat(sh.run("gntdev:read " + dfd + " 0 7")).isEqualTo("frame-1");
            sh.run("xl:exec itest-guest gntdev:write " + gfd + " 0 frame-2");
            assertThat(sh.run("gntdev:read " + dfd + " 0 7")).as("the guest's later write, same pages").isEqualTo("frame-2");
            assertThat(sh.run("gntdev:waitrel " + dfd + " 20")).isEqualTo("ETIMEDOUT");
            sh.run("gntdev:close " + dfd);
            assertThat(sh.run("gntdev:waitrel " + dfd + " 20")).isEqualTo("ENOENT");
            assertThat(sh.run("xl:exec itest-guest gntdev:unshare " + dir)).contains("ended");
            assertThatThrownBy(() -> sh.run("gntdev:fromdir " + id + " " + dir + " 16384")).hasMessageContaining("GNTST");
            // bad input: clear errors, the runtime goes on
            assertThatThrownBy(() -> sh.run("xl:create name=itest-guest")).hasMessageContaining("exists");
            assertThatThrownBy(() -> sh.run("xl:create name=x colour=blue")).hasMessageContaining("unknown domain configuration key");
            assertThatThrownBy(() -> sh.run("xl:create name=x bundles=no.such.bundle")).hasMessageContaining("no.such.bundle");
            assertThatThrownBy(() -> sh.run("xl:exec nosuch xen:info")).hasMessageContaining("no live domain");
            assertThatThrownBy(() -> sh.run("xl:destroy 0")).hasMessageContaining("dom0");
        } finally {
            if (xl.guests().containsKey(id)) {
                sh.run("xl:destroy itest-guest");
            }
        }
        assertThat(hv.info(id)).isEmpty();
        assertThat(hv.freeFrames()).as("every frame back").isEqualTo(free0);
        assertThat(xl.guests()).isEmpty();
    }

    @Test
    void aCrashedGuestLeavesDom0sMappingUsableUntilUnmappedThenDies() throws Exception {
        Shell sh = new Shell(processor);
        Toolstack xl = Runtime.await(ctx, Toolstack.class, 5000);
        Hypervisor hv = Runtime.await(ctx, Hypervisor.class, 5000);
        long free0 = hv.freeFrames();
        int id = xl.create(Map.of("name", "itest-crash", "memory", "8")).domid();
        xl.exec("itest-crash", "xen:poke 1 0 last-words");
        int ref = num(xl.exec("itest-crash", "xen:grant 0 1"), "ref (\\d+)");
        int handle = num(sh.run("xen:map " + id + " " + ref), "handle (\\d+)");
        xl.pause("itest-crash");
        assertThat(hv.info(id).orElseThrow().state()).isEqualTo(DomainState.PAUSED);
        xl.unpause("itest-crash");
        sh.run("xl:crash itest-crash");
        assertThat(hv.info(id).orElseThrow().state()).isEqualTo(DomainState.CRASHED);
        assertThat(sh.run("xl:list")).contains("crashed");
        assertThatThrownBy(() -> xl.exec("itest-crash", "xen:info")).hasMessageContaining("no live domain");
        assertThat(sh.run("xen:peek " + handle + " 0 10")).as("the frame is not freed under dom0's mapping")
                .isEqualTo("last-words");
        sh.run("xen:unmap " + handle);
        assertThat(hv.info(id)).as("gone once unmapped").isEmpty();
        assertThat(hv.freeFrames()).isEqualTo(free0);
    }
}
