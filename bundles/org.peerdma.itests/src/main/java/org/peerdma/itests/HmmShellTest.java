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
        // the zero page, then huge pages: THP under madvise, hugetlb from the pool
        String z = sh.run("hmm:mmap itest-app 8K r");
        sh.run("hmm:read itest-app " + z + " 1");
        assertThat(sh.run("hmm:snapshot itest-dev itest-app " + z + " 2")).isEqualTo("zero none");
        assertThat(sh.run("hmm:pte itest-app " + z)).contains("zero-page");
        String t = sh.run("hmm:mmap itest-app 4M");
        long base = (Long.decode(t) + (2 << 20) - 1) & -(2L << 20);
        String b = String.format("%#x", base);
        assertThat(sh.run("hmm:madvise itest-app " + b + " 2M hugepage")).isEqualTo("advice hugepage");
        sh.run("hmm:write itest-app " + b + " huge");
        assertThat(sh.run("hmm:snapshot itest-dev itest-app " + b + " 2")).isEqualTo("rw+pmd rw+pmd");
        assertThat(sh.run("hmm:pte itest-app " + b)).contains("order 9 (PMD)");
        assertThatThrownBy(() -> sh.run("hmm:mmap itest-app 2M rw hugetlb")).hasMessageContaining("nr_hugepages");
        assertThat(sh.run("hmm:hugepages 1")).contains("HugePages_Total: 1");
        String h = sh.run("hmm:mmap itest-app 2M rw hugetlb");
        assertThat(sh.run("hmm:hugepages")).contains("HugePages_Rsvd:  1");
        sh.run("hmm:write itest-app " + h + " hugetlb");
        assertThat(sh.run("hmm:snapshot itest-dev itest-app " + h + " 1")).isEqualTo("rw+pmd");
        assertThatThrownBy(() -> sh.run("hmm:munmap itest-app " + h + " 4K")).hasMessageContaining("EINVAL");
        assertThat(sh.run("hmm:munmap itest-app " + h + " 2M")).isEqualTo("unmapped");
        assertThat(sh.run("hmm:hugepages 0")).contains("HugePages_Total: 0");
        // HMM-4: the process's pages DMA-mapped for the NIC; then the GPU's p2pmem mapped into the process
        String dm = sh.run("hmm:dmamap itest-app " + a + " 2 05:00.0");
        assertThat(dm.lines().filter(l -> l.startsWith("0x"))).hasSize(2).noneMatch(l -> l.contains("ERROR"));
        sh.run("p2p:addres 03:00.0 3 1M");
        try {
            String pm = sh.run("hmm:p2pmmap itest-app 03:00.0 16K");
            sh.run("hmm:write itest-app " + pm + " p2p");
            String pd = sh.run("hmm:dmamap itest-app " + pm + " 4 05:00.0");
            // the sample machine redirects 05:00.0's peer traffic (ACS): through the (whitelisted) host bridge
            var lines = pd.lines().filter(l -> l.startsWith("0x")).toList();
            assertThat(lines).hasSize(4).allMatch(l -> l.contains("(P2PDMA through the host bridge)"));
            assertThat(lines.stream().map(l -> l.substring(l.indexOf("-> "))).distinct()).as("one IOVA each").hasSize(4);
            assertThat(sh.run("hmm:munmap itest-app " + pm + " 16K")).isEqualTo("unmapped");
            assertThat(sh.run("p2p:providers")).contains("0000:03:00.0 size 1048576 available 1048576");
        } finally {
            sh.run("p2p:release 03:00.0");
        }
    }
}
