package org.peerdma.xen.xl.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    @Test
    void anXlCfgFileWithOverrides(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("guest.cfg");
        Files.writeString(cfg, "# a guest\nname = \"frontend\"\nmemory = 32\nbundles = [ \"slf4j.api\", 'org.peerdma.base' ]\n");
        assertThat(ToolstackImpl.parse(List.of(cfg.toString(), "memory=48")))
                .containsEntry("name", "frontend").containsEntry("memory", "48")
                .containsEntry("bundles", "slf4j.api,org.peerdma.base");
        assertThat(ToolstackImpl.parse(List.of("name=a", "kernel=guest"))).containsEntry("name", "a");
        assertThatThrownBy(() -> ToolstackImpl.parse(List.of(dir.resolve("missing.cfg").toString())))
                .hasMessageContaining("ENOENT").hasMessageContaining("missing.cfg");
        assertThatThrownBy(() -> ToolstackImpl.parse(List.of("=x"))).hasMessageContaining("KEY=VALUE");
    }
}
