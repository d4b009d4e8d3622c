package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.dma.PhysMemory;

/** HMM in the running system: a process, a dmirror device, migration both ways, from the shell. */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class HmmShellTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @Test
    void aProcessesPagesGoToDeviceMemoryAndComeBack() throws Exception {
        Shell sh = new Shell(processor);
        PhysMemory ram = Runtime.await(ctx, PhysMemory.class, 5000);
        long used0 = ram.used();
        sh.run("hmm:proc itest-app");
        sh.run("hmm:dmirror itest-dev 16");
        try {
            run(sh, used0, ram);
        } finally {
            try {
                sh.run("hmm:exit itest-app");
            } catch (Exception e) {
                // already gone
            }
            sh.run("hmm:rmdev itest-dev");
            try {
                sh.run("hmm:rmdev itest-dev2");
            } catch (Exception e) {
                // removed by the test itself
            }
        }
        assertThat(ram.used()).as("the process's pages are back in the RAM map").isEqualTo(used0);
    }

    private void run(Shell sh, long used0, PhysMemory ram) throws Exception {
        String a = sh.run("hmm:mmap itest-app 16K");
        assertThat(sh.run("hmm:write itest-app " + a + " hello-hmm")).contains("9 bytes");
        assertThat(sh.run("hmm:devread itest-dev itest-app " + a + " 1 9")).startsWith("hello-hmm");
        assertThat(sh.run("hmm:migrate itest-dev itest-app " + a + " 4")).startsWith("4 of 4");
        assertThat(sh.run("hmm:snapshot itest-dev itest-app " + a + " 4")).isEqualTo(
                "dev-private dev-private dev-private dev-private");
        assertThat(sh.run("hmm:read itest-app " + a + " 9")).as("the CPU faults it back").isEqualTo("hello-hmm");
        assertThat(sh.run("hmm:snapshot itest-dev itest-app " + a + " 2")).startsWith("rw dev-private");
        assertThat(sh.run("hmm:migrateback itest-dev itest-app " + a + " 4")).startsWith("3 page(s)");
        assertThatThrownBy(() -> sh.run("hmm:read nosuch 0x1000 1")).hasMessageContaining("no process 'nosuch'");
        assertThatThrownBy(() -> sh.run("hmm:mmap itest-app 16K q")).hasMessageContaining("protection 'q'");
        assertThatThrownBy(() -> sh.run("hmm:read itest-app 0x10 1")).hasMessageContaining("EFAULT");
        assertThatThrownBy(() -> sh.run("hmm:read itest-app " + a + " 2147483647")).hasMessageContaining("1 MiB");
        assertThatThrownBy(() -> sh.run("hmm:devread itest-dev itest-app " + a + " 100000000 1"))
                .hasMessageContaining("1 to 256");
        sh.run("hmm:dmirror itest-dev2 4");
        sh.run("hmm:migrate itest-dev2 itest-app " + a + " 1");
        assertThat(sh.run("hmm:snapshot itest-dev itest-app " + a + " 1")).isEqualTo("none"); // another device's page
        assertThat(sh.run("hmm:rmdev itest-dev2")).contains("1 page(s) evicted to system memory");
        assertThat(sh.run("hmm:read itest-app " + a + " 9")).as("migrate_release: the data survived").isEqualTo("hello-hmm");
    }
}
