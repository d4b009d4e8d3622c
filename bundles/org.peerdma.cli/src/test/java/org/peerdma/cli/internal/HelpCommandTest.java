package org.peerdma.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.KernelException;

/** help explains what an unscoped name runs: the first scope of the search path that has it. */
class HelpCommandTest {
    public static class Gntdev {
        @Descriptor("this shell's gntdev state")
        public String status() {
            return "";
        }
    }

    public static class Hdmabuf {
        @Descriptor("the driver's state")
        public String status() {
            return "";
        }

        @Descriptor("a dumb buffer")
        public int dumb(@Descriptor("width") int w, @Descriptor("height") int h) {
            return 0;
        }
    }

    private final Map<String, Object> objects = Map.of("gntdev:status", new Gntdev(), "hdmabuf:status", new Hdmabuf(),
            "hdmabuf:dumb", new Hdmabuf());
    // listed in the framework's order, which is not the lookup order
    private final List<String> commands = List.of("hdmabuf:status", "hdmabuf:dumb", "gntdev:status");

    @Test
    void theScopeThatRunsComesFirstAndTheOthersAreNamed() {
        String h = HelpCommand.explain("status", commands, (s, f) -> objects.get(s + ":" + f));
        assertThat(h).startsWith("gntdev:status   (what 'status' runs) - this shell's gntdev state\n");
        assertThat(h).contains("hdmabuf:status   (type hdmabuf:status) - the driver's state");
        assertThat(h.indexOf("gntdev:status")).isLessThan(h.indexOf("hdmabuf:status"));
    }

    @Test
    void aScopedNameExplainsThatOneWithItsUsage() {
        String h = HelpCommand.explain("hdmabuf:dumb", commands, (s, f) -> objects.get(s + ":" + f));
        assertThat(h).isEqualTo("hdmabuf:dumb - a dumb buffer\n  usage: hdmabuf:dumb W H\n      W              width\n"
                + "      H              height");
    }

    @Test
    void anUnknownNameSuggestsTheClosest() {
        assertThatThrownBy(() -> HelpCommand.explain("statu", commands, (s, f) -> objects.get(s + ":" + f)))
                .isInstanceOf(KernelException.class).hasMessageContaining("no command statu; did you mean: status?");
    }

    @Test
    void theListFollowsTheLookupOrder() {
        String l = HelpCommand.list(commands);
        assertThat(l).startsWith("gntdev: status\nhdmabuf: dumb status\n").contains("An unscoped name runs the first");
    }
}
