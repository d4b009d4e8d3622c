package org.peerdma.kmod;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;

/** What lsmod, rmmod, modinfo and modprobe decide without a framework: names, the table, the module path, jars. */
class KmodLogicTest {
    @Test
    void aModuleAnswersToItsNameWithDashOrUnderscoreItsSymbolicNameAndItsId() {
        assertThat(Module.matches("dma_heap", "org.peerdma.dmaheap", 12, "dma_heap")).isTrue();
        assertThat(Module.matches("dma_heap", "org.peerdma.dmaheap", 12, "dma-heap")).as("modprobe reads - as _").isTrue();
        assertThat(Module.matches("hyper-dmabuf", "org.peerdma.hyperdmabuf", 3, "hyper_dmabuf")).isTrue();
        assertThat(Module.matches("dma_heap", "org.peerdma.dmaheap", 12, "org.peerdma.dmaheap")).isTrue();
        assertThat(Module.matches("dma_heap", "org.peerdma.dmaheap", 12, "12")).isTrue();
        assertThat(Module.matches("dma_heap", "org.peerdma.dmaheap", 12, "13")).isFalse();
        assertThat(Module.matches("dma_heap", "org.peerdma.dmaheap", 12, "dma_heaps")).isFalse();
        assertThat(Module.matches("dma_heap", "org.peerdma.dmaheap", 12, "DMA_HEAP")).as("names are exact").isFalse();
        // a library bundle is named by its symbolic name, dashes and all
        String jackson = "com.fasterxml.jackson.core.jackson-databind";
        assertThat(Module.matches(jackson, jackson, 40, jackson)).isTrue();
        assertThat(Module.matches("bundle41", null, 41, "bundle41")).isTrue();
        assertThat(Module.matches("bundle41", null, 41, "null")).isFalse();
    }

    @Test
    void theCapabilitysListsAreReadAsListsOrCommaSeparatedText() {
        assertThat(Module.strings(List.of("org.peerdma.pci", "", " "))).containsExactly("org.peerdma.pci");
        assertThat(Module.strings("a, b,c")).containsExactly("a", "b", "c");
        assertThat(Module.strings("")).isEmpty();
        assertThat(Module.strings(null)).isEmpty();
        assertThat(Module.strings(42)).isEmpty();
    }

    @Test
    void lsmodLinesUpItsColumnsCountsUsersAndLiveObjects() {
        String t = KmodCommands.lsmodTable(List.of(
                new KmodCommands.LsmodRow("pci", 52_000, List.of("pci_shell", "p2pdma", "pci_import"), 0, "Live"),
                new KmodCommands.LsmodRow("memremap", 9_000, List.of("p2pdma"), 2, "Live"),
                new KmodCommands.LsmodRow("udmabuf", 14_000, List.of(), 1, "Live"),
                new KmodCommands.LsmodRow("kmod", 30_000, List.of(), 0, "Live")), List.of(), false);
        assertThat(t).isEqualTo(""
                + "Module                  Size  Used by\n"
                + "pci                    52000  3 p2pdma,pci_import,pci_shell\n"
                + "memremap                9000  3 p2pdma [2 live]\n"
                + "udmabuf                14000  1 [1 live]\n"
                + "kmod                   30000  0\n");
        String all = KmodCommands.lsmodTable(List.of(
                new KmodCommands.LsmodRow("a_module_with_a_long_name", 1, List.of(), 0, "Unloaded")),
                List.<String[]>of(new String[] {"hyper_dmabuf_ivshmem_backend_x", "4096"}), true);
        assertThat(all.lines().toList()).as("as wide as the longest name, available ones included").containsExactly(
                "Module                              Size  Used by",
                "a_module_with_a_long_name              1  0   Unloaded",
                "hyper_dmabuf_ivshmem_backend_x      4096  -  Available (modprobe hyper_dmabuf_ivshmem_backend_x)");
        assertThat(KmodCommands.lsmodTable(List.of(), List.of(), false)).isEqualTo("Module                  Size  Used by\n");
    }

    @Test
    void rmmodNamesEveryUserAndLiveObject() {
        assertThat(KmodCommands.inUse("pci", List.of("pci_shell", "p2pdma"), List.of()))
                .isEqualTo("Module pci is in use by: p2pdma pci_shell");
        assertThat(KmodCommands.inUse("memremap", List.of(), List.of("p2pmem0 -> 06:00.0", "1 pagemap")))
                .isEqualTo("Module memremap is in use (2 live: p2pmem0 -> 06:00.0; 1 pagemap)");
        assertThat(KmodCommands.inUse("dma_buf", List.of("udmabuf"), List.of("3 buffers")))
                .isEqualTo("Module dma_buf is in use by: udmabuf (1 live: 3 buffers)");
    }

    @Test
    void statesAreNamedAsLsmodShowsThem() {
        assertThat(KmodCommands.state(Bundle.ACTIVE)).isEqualTo("Live");
        assertThat(KmodCommands.state(Bundle.STARTING)).isEqualTo("Loading");
        assertThat(KmodCommands.state(Bundle.STOPPING)).isEqualTo("Unloading");
        assertThat(KmodCommands.state(Bundle.RESOLVED)).isEqualTo("Unloaded");
        assertThat(KmodCommands.state(Bundle.INSTALLED)).isEqualTo("Installed (unresolved)");
        assertThat(KmodCommands.state(Bundle.UNINSTALLED)).isEqualTo("Uninstalled");
    }

    @Test
    void theModulePathDefaultsToModulesAndSplitsOnThePathSeparator() {
        String sep = java.io.File.pathSeparator;
        assertThat(KmodCommands.modpath(null)).containsExactly(Path.of("modules"));
        assertThat(KmodCommands.modpath("  ")).containsExactly(Path.of("modules"));
        assertThat(KmodCommands.modpath("/opt/a" + sep + " /opt/b " + sep + sep)).as("blank entries dropped")
                .containsExactly(Path.of("/opt/a"), Path.of("/opt/b"));
    }

    private static Path jar(Path dir, String name, String bsn, String caps) throws Exception {
        Path p = dir.resolve(name);
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (bsn != null) {
            mf.getMainAttributes().putValue("Bundle-SymbolicName", bsn);
        }
        if (caps != null) {
            mf.getMainAttributes().putValue("Provide-Capability", caps);
        }
        try (OutputStream o = Files.newOutputStream(p); JarOutputStream j = new JarOutputStream(o, mf)) {
            j.flush();
        }
        return p;
    }

    @Test
    void aJarAnswersToItsSymbolicNameAndItsModuleNames(@TempDir Path dir) throws Exception {
        Path mod = jar(dir, "heap.jar", "org.peerdma.dmaheap;singleton:=true",
                "peerdma.module; peerdma.module=dma-heap; pids:List<String>=\"org.peerdma.dmaheap\"");
        assertThat(KmodCommands.jarNames(mod)).containsExactly("org.peerdma.dmaheap", "dma_heap");
        Path quoted = jar(dir, "q.jar", "org.peerdma.udmabuf", "peerdma.module;peerdma.module=\"udmabuf\"");
        assertThat(KmodCommands.jarNames(quoted)).containsExactly("org.peerdma.udmabuf", "udmabuf");
        Path lib = jar(dir, "lib.jar", "com.example.lib", null);
        assertThat(KmodCommands.jarNames(lib)).as("not a module: lsmod -a does not offer it").containsExactly("com.example.lib");
        Path bare = jar(dir, "bare.jar", null, null);
        assertThat(KmodCommands.jarNames(bare)).isEmpty();
        Path text = Files.writeString(dir.resolve("notes.jar"), "not a zip");
        assertThat(KmodCommands.jarNames(text)).isEmpty();
        assertThat(KmodCommands.jarNames(dir.resolve("missing.jar"))).isEmpty();
    }

    @Test
    void theModulePathOffersWhatIsNotInstalledAndModprobeFindsJarsByName(@TempDir Path dir) throws Exception {
        Path a = Files.createDirectory(dir.resolve("a"));
        Path b = Files.createDirectory(dir.resolve("b"));
        Path heap = jar(a, "org.peerdma.dmaheap.jar", "org.peerdma.dmaheap", "peerdma.module; peerdma.module=dma_heap");
        jar(a, "org.peerdma.pci.jar", "org.peerdma.pci", "peerdma.module; peerdma.module=pci");
        jar(a, "lib.jar", "com.example.lib", null);
        Path shadowed = jar(b, "dmaheap-old.jar", "org.peerdma.dmaheap.old", "peerdma.module; peerdma.module=dma_heap");
        Path iv = jar(b, "iv.jar", "org.peerdma.hyperdmabuf.ivshmem", "peerdma.module; peerdma.module=hyper_dmabuf_ivshmem");
        Files.writeString(b.resolve("README"), "not a jar");
        List<String[]> rows = KmodCommands.available(List.of(a, b, dir.resolve("missing")),
                java.util.Set.of("pci", "org.peerdma.pci"));
        assertThat(rows).extracting(r -> r[0]).as("pci is installed, lib.jar is no module")
                .containsExactly("dma_heap", "hyper_dmabuf_ivshmem");
        assertThat(rows.get(0)[1]).as("the first jar of a name, by size").isEqualTo(String.valueOf(Files.size(heap)));
        assertThat(KmodCommands.locate("dma_heap", List.of(a, b))).isEqualTo(heap);
        assertThat(KmodCommands.locate("dma-heap", List.of(b, a))).as("- as _; the first directory first").isEqualTo(shadowed);
        assertThat(KmodCommands.locate("org.peerdma.hyperdmabuf.ivshmem", List.of(a, b))).isEqualTo(iv);
        assertThat(KmodCommands.locate(iv.toString(), List.of())).as("a jar by its path").isEqualTo(iv);
        assertThat(KmodCommands.locate("nosuchmod", List.of(a, b))).isNull();
        assertThat(KmodCommands.locate(dir.resolve("gone.jar").toString(), List.of(a))).isNull();
        assertThat(KmodCommands.locate("bad\0name.jar", List.of(a))).as("not a path either").isNull();
    }
}
