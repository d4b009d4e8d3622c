package org.peerdma.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.peerdma.systemtests.Peerdma.Run;

/**
 * Every runtime (runconfig) launched for real: its modules load, one command of each of its
 * features works, and --with adds a feature at launch.
 */
class RuntimesTest {
    private static Run script(String runtime, String script) {
        Run r = runtime == null ? Peerdma.run(script, "--topology", "sample")
                : Peerdma.run(script, "--run", runtime, "--topology", "sample");
        assertThat(r.status()).as(runtime + "\n" + r).isZero();
        assertThat(r.err()).as(runtime).isEmpty();
        return r;
    }

    @Test
    void doctor() {
        Run r = script("doctor", "lsmod\ncheck 03:00.0 05:00.0\niommu:groups\n");
        assertThat(r.out()).contains("p2pdma").contains("arch_x86").contains("iommu").contains("cli")
                .doesNotContain("dma_buf").doesNotContain("hmm ").doesNotContain("xl ");
        assertThat(r.out()).contains("PCI_P2PDMA_MAP_THRU_HOST_BRIDGE").contains("group");
    }

    @Test
    void xen() {
        Run r = script("xen", "lsmod\nxl:list\nhdmabuf:backend\ndmabuf:heaps\n");
        assertThat(r.out()).contains("xl ").contains("hyper_dmabuf").contains("dma_buf").doesNotContain("hmm ");
        assertThat(r.out()).contains("Domain-0");
    }

    @Test
    void hmm() {
        Run r = script("hmm", "lsmod\nhmm:proc p\nhmm:dmirror d 16\n");
        assertThat(r.out()).contains("hmm ").doesNotContain("xl ");
    }

    @Test
    void defaultRuntimeHoldsEveryModuleAndLsmodShowsWhatModprobeCanLoad() {
        Run r = script(null, "lsmod\nlsmod -a\n");
        assertThat(r.out()).contains("hmm ").contains("xl ").contains("gpu_exporter").contains("p2pmem")
                .contains("hyper_dmabuf_ivshmem");
        Run doctor = script("doctor", "lsmod -a\n");
        // the doctor leaves modules out; lsmod -a lists them as loadable from the module path
        assertThat(doctor.out()).containsPattern("(?m)^hmm .*Available \\(modprobe hmm\\)")
                .containsPattern("(?m)^xl .*Available");
        Run probed = script("doctor", "modprobe p2pmem\np2pmem:ls\n");
        assertThat(probed.out()).contains("loaded p2pmem");
    }

    @Test
    void moduleParametersAndLoadedModulesDoNotOutliveARun() {
        // the bundle cache is kept between runs; the configuration (module parameters) is not
        script("doctor", "modparam p2pdma kernel_version=v5.2\nmodprobe p2pmem\n");
        Run next = script("doctor", "modparam p2pdma\nlsmod\n");
        assertThat(next.out()).containsPattern("kernel_version\\s+rw\\s+newest").doesNotContain("p2pmem ");
    }

    @Test
    void withAddsAFeatureAtLaunch() {
        Run r = Peerdma.run("lsmod\nhmm:proc p\n", "--run", "doctor", "--with", "hmm", "--topology", "sample");
        assertThat(r.status()).as(r.toString()).isZero();
        assertThat(r.out()).contains("hmm ");
        Run bad = Peerdma.run("", "--with", "nosuch", "check");
        assertThat(bad.status()).isEqualTo(64);
        assertThat(bad.err()).contains("no feature 'nosuch'").contains("hmm");
    }

    private static java.util.List<String> caches() throws java.io.IOException {
        try (var s = java.nio.file.Files.list(java.nio.file.Path.of(System.getenv("PEERDMA_CACHE")))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aRunWithAFeatureKeepsThePlainRuntimesCache() throws Exception {
        assertThat(Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology", "sample").status()).isZero();
        java.util.List<String> plain = caches().stream().filter(n -> n.matches("doctor-[0-9a-f]{12}")).toList();
        assertThat(plain).hasSize(1);
        assertThat(Peerdma.run("", "--with", "hmm", "check", "03:00.0", "05:00.0", "--topology", "sample").status())
                .isZero();
        assertThat(caches()).containsAll(plain).anyMatch(n -> n.matches("doctor\\+hmm-[0-9a-f]{12}"));
    }

    @Test
    void theStorageOfAKilledRunIsRemovedByTheNextOne() throws Exception {
        java.nio.file.Path left = java.nio.file.Path.of(System.getenv("PEERDMA_CACHE"), "tmp", "fw-killed");
        java.nio.file.Files.createDirectories(left.resolve("fw"));
        java.nio.file.Files.writeString(left.resolve("inuse"), "");
        assertThat(Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology", "sample").status()).isZero();
        assertThat(left).doesNotExist();
    }
}
