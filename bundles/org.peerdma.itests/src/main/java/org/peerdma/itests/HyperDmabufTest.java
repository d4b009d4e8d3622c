package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.peerdma.xen.hv.Hypervisor;

/**
 * Three domains, each with its own hyper_dmabuf front end: one exporter guest, an importer guest
 * and dom0 importing too; the importer guest crashes in the middle.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class HyperDmabufTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    private static String group(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1);
    }

    private static String quiet(Shell sh, String cmd) {
        try {
            return sh.run(cmd);
        } catch (Exception e) {
            return e.getMessage();
        }
    }

    @Test
    void oneExporterTwoImportersAndACrash() throws Exception {
        Shell sh = new Shell(processor);
        Hypervisor hv = Runtime.await(ctx, Hypervisor.class, 5000);
        long free0 = hv.freeFrames();
        int e = Integer.parseInt(group(sh.run("xl:create name=hd-exp memory=32"), "id (\\d+)"));
        int i = Integer.parseInt(group(sh.run("xl:create name=hd-imp memory=32"), "id (\\d+)"));
        try {
            for (int d : new int[] {i, 0}) {
                sh.run("xl:exec hd-exp hdmabuf:tx " + d);
                String who = d == 0 ? "" : "xl:exec hd-imp ";
                sh.run(who + "hdmabuf:rx " + e);
                sh.run(who + "hdmabuf:tx " + e);
                sh.run("xl:exec hd-exp hdmabuf:rx " + d);
            }
            String fd = group(sh.run("xl:exec hd-exp hdmabuf:dumb 64 64"), "fd (\\d+)");
            sh.run("xl:exec hd-exp hdmabuf:write " + fd + " 0 hello");
            String hidI = group(sh.run("xl:exec hd-exp hdmabuf:export " + fd + " " + i + " for importer"), "hid (\\S+)");
            String hid0 = group(sh.run("xl:exec hd-exp hdmabuf:export " + fd + " 0 for dom0"), "hid (\\S+)");
            assertThat(hidI).isNotEqualTo(hid0);
            Runtime.eventually("dom0 got its event", 5000, () -> quiet(sh, "hdmabuf:events").contains(hid0));
            assertThat(quiet(sh, "xl:exec hd-imp hdmabuf:query " + hidI + " priv")).isEqualTo("for importer");
            String ifd = group(sh.run("xl:exec hd-imp hdmabuf:importfd " + hidI), "fd (\\d+)");
            String dfd = group(sh.run("hdmabuf:importfd " + hid0), "fd (\\d+)");
            assertThat(sh.run("xl:exec hd-imp hdmabuf:read " + ifd + " 0 5")).isEqualTo("hello");
            assertThat(sh.run("hdmabuf:read " + dfd + " 0 5")).isEqualTo("hello");
            assertThat(sh.run("xl:exec hd-exp hdmabuf:query " + hidI + " busy")).isEqualTo("1");
            // the importer guest crashes holding its buffer: the exporter cleans its side
            sh.run("xl:crash hd-imp");
            Runtime.eventually("the exporter dropped the dead importer's export", 5000,
                    () -> quiet(sh, "xl:exec hd-exp hdmabuf:query " + hidI + " type").contains("ENOENT"));
            // dom0 is unaffected and still sees the exporter's later writes, zero copy
            sh.run("xl:exec hd-exp hdmabuf:write " + fd + " 0 world");
            assertThat(sh.run("hdmabuf:read " + dfd + " 0 5")).isEqualTo("world");
            // the exporter unexports dom0's: as in the driver the pages stay shared until dom0 releases them
            // (its fd still reads the exporter's bytes, zero copy); a new import of that id is refused
            sh.run("xl:exec hd-exp hdmabuf:unexport " + hid0);
            Runtime.eventually("dom0 told", 5000, () -> "1".equals(quiet(sh, "hdmabuf:query " + hid0 + " unexported")));
            assertThat(sh.run("hdmabuf:read " + dfd + " 0 5")).isEqualTo("world");
            assertThatThrownBy(() -> sh.run("hdmabuf:importfd " + hid0)).isInstanceOf(Exception.class);
            sh.run("hdmabuf:close " + dfd);
            Runtime.eventually("cleaned up on the exporter", 5000,
                    () -> quiet(sh, "xl:exec hd-exp hdmabuf:query " + hid0 + " type").contains("ENOENT"));
            assertThatThrownBy(() -> sh.run("hdmabuf:importfd " + hid0)).hasMessageContaining("ENOENT");
            assertThatThrownBy(() -> sh.run("hdmabuf:query nonsense type")).hasMessageContaining("not a hyper_dmabuf id");
        } finally {
            quiet(sh, "xl:destroy hd-exp");
            quiet(sh, "xl:destroy hd-imp");
        }
        Runtime.eventually("every frame back", 5000, () -> hv.freeFrames() == free0);
    }

    @Test
    void theBackendSwapsWhileNothingIsSharedAndIsRefusedOtherwise() throws Exception {
        Shell sh = new Shell(processor);
        assertThat(sh.run("hdmabuf:backend")).contains("backend xen").contains("ivshmem");
        int e = Integer.parseInt(group(sh.run("xl:create name=kvm-exp memory=16 ivshmem=hyper_dmabuf"), "id (\\d+)"));
        int i = Integer.parseInt(group(sh.run("xl:create name=kvm-imp memory=16 ivshmem=hyper_dmabuf"), "id (\\d+)"));
        try {
            for (String d : new String[] {"kvm-exp", "kvm-imp"}) {
                assertThat(sh.run("xl:exec " + d + " hdmabuf:backend ivshmem")).contains("backend ivshmem");
            }
            sh.run("xl:exec kvm-exp hdmabuf:tx " + i);
            sh.run("xl:exec kvm-imp hdmabuf:rx " + e);
            sh.run("xl:exec kvm-imp hdmabuf:tx " + e);
            sh.run("xl:exec kvm-exp hdmabuf:rx " + i);
            String fd = group(sh.run("xl:exec kvm-exp hdmabuf:dumb 64 64"), "fd (\\d+)");
            sh.run("xl:exec kvm-exp hdmabuf:write " + fd + " 0 copied");
            String hid = group(sh.run("xl:exec kvm-exp hdmabuf:export " + fd + " " + i), "hid (\\S+)");
            Runtime.eventually("imported", 5000, () -> quiet(sh, "xl:exec kvm-imp hdmabuf:query " + hid + " type").equals("2"));
            String ifd = group(sh.run("xl:exec kvm-imp hdmabuf:importfd " + hid), "fd (\\d+)");
            assertThat(sh.run("xl:exec kvm-imp hdmabuf:read " + ifd + " 0 6")).isEqualTo("copied");
            assertThat(sh.run("xl:exec kvm-exp hdmabuf:status")).contains("16384 bytes copied");
            assertThatThrownBy(() -> sh.run("xl:exec kvm-exp hdmabuf:backend xen")).hasMessageContaining("EBUSY")
                    .hasMessageContaining("unexport and release");
            sh.run("xl:exec kvm-imp hdmabuf:close " + ifd);
            sh.run("xl:exec kvm-exp hdmabuf:unexport " + hid);
            Runtime.eventually("cleaned up", 5000,
                    () -> quiet(sh, "xl:exec kvm-exp hdmabuf:query " + hid + " type").contains("ENOENT"));
            assertThat(sh.run("xl:exec kvm-exp hdmabuf:backend xen")).contains("backend xen");
            assertThatThrownBy(() -> sh.run("hdmabuf:backend hyperv")).hasMessageContaining("no backend 'hyperv'");
        } finally {
            quiet(sh, "xl:destroy kvm-exp");
            quiet(sh, "xl:destroy kvm-imp");
        }
    }
}
