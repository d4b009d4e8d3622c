package org.peerdma.arch.arm64.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;

/** What bnd generated from the annotations: the service properties the DMA core and p2pdma select on. */
class BundleMetadataTest {
    private static String resource(String name) throws IOException {
        try (InputStream in = BundleMetadataTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void directOpsAreRegisteredAsArm64DirectBelowX86() throws IOException {
        String xml = resource("OSGI-INF/org.peerdma.arch.arm64.internal.Arm64DirectOps.xml");
        assertThat(xml).contains("interface=\"org.peerdma.dma.spi.DmaOps\"")
                .contains("name=\"peerdma.dma.ops\"").contains("value=\"arm64-direct\"")
                .contains("name=\"peerdma.dma.kind\"").contains("value=\"direct\"")
                .contains("name=\"service.ranking\"").contains("type=\"Integer\"").contains("value=\"0\"")
                .contains("configuration-pid=\"org.peerdma.arch.arm64.dma\"");
    }

    @Test
    void policyIsRegisteredForArm64() throws IOException {
        String xml = resource("OSGI-INF/org.peerdma.arch.arm64.internal.Arm64Policy.xml");
        assertThat(xml).contains("interface=\"org.peerdma.dma.spi.ArchPolicy\"")
                .contains("name=\"peerdma.arch\"").contains("value=\"arm64\"")
                .contains("configuration-pid=\"org.peerdma.arch.arm64\"");
    }

    @Test
    void parametersHaveMetatypeAndTheModuleCapabilityListsThem() throws IOException {
        assertThat(resource("OSGI-INF/metatype/org.peerdma.arch.arm64.dma.xml"))
                .contains("id=\"dma_ranges\"").contains("default=\"0x0:0x80000000:0x80000000\"")
                .contains("id=\"system_ram\"").doesNotContain("dma.ranges");
        assertThat(resource("OSGI-INF/metatype/org.peerdma.arch.arm64.xml"))
                .contains("id=\"host_bridge_whitelist\"").contains("default=\"false\"");
        Manifest mf;
        // bnd-process writes the manifest next to the classes; the tests run in the module directory
        try (InputStream in = Files.newInputStream(Path.of("target/classes/META-INF/MANIFEST.MF"))) {
            mf = new Manifest(in);
        }
        String cap = mf.getMainAttributes().getValue("Provide-Capability");
        assertThat(cap).contains("peerdma.module=arch_arm64")
                .contains("org.peerdma.arch.arm64,org.peerdma.arch.arm64.dma");
    }
}
