package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.udmabuf.Memfd;
import org.peerdma.udmabuf.Udmabuf;

/** udmabuf in the running system: its module parameters are writable while loaded (mode 0644). */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class DmaBufModuleTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @Test
    void sizeLimitChangesWhileLoaded() throws Exception {
        Shell sh = new Shell(processor);
        assertThat(sh.run("kmod:modinfo udmabuf")).contains("parm:").contains("list_limit").contains("size_limit_mb");
        Udmabuf udmabuf = Runtime.await(ctx, Udmabuf.class, 5000);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        FdTable proc = core.fdTable("itest");
        Memfd m = Memfd.create("itest", Memfd.MFD_ALLOW_SEALING);
        m.ftruncate(4L << 20);
        m.addSeals(Memfd.F_SEAL_SHRINK);
        int memfd = proc.install(m);
        java.util.List<Integer> fds = new java.util.ArrayList<>();
        int before = core.buffers().size();
        try {
            int fd = udmabuf.create(proc, memfd, 0, 0, 2L << 20);
            assertThat(fd).isPositive();
            fds.add(fd);
            sh.run("kmod:modparam udmabuf size_limit_mb=1");
            Runtime.eventually("size limit applied", 5000, () -> {
                int r = udmabuf.create(proc, memfd, 0, 0, 2L << 20);
                if (r > 0) {
                    fds.add(r); // created before the new limit reached the component
                }
                return r == -22;
            });
            sh.run("kmod:modparam udmabuf size_limit_mb=64");
            Runtime.eventually("size limit back", 5000, () -> {
                int r = udmabuf.create(proc, memfd, 0, 0, 2L << 20);
                if (r > 0) {
                    fds.add(r);
                }
                return r > 0;
            });
        } finally {
            for (int fd : fds) {
                proc.close(fd);
            }
            proc.close(memfd);
        }
        assertThat(core.buffers()).hasSize(before); // every buffer it made is released
    }
}
