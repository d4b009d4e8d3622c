package org.peerdma.draw.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.draw.PciDrawing;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

/** The layout of a tree (ELK outside OSGi), the caption's wrapping, and writing a picture. */
class LayoutTest {
    @Test
    void aTreeIsLaidOutLeftToRightInBusOrderWithoutOverlaps() {
        // a host bridge, two root ports, a switch below the first with three ports
        List<ElkLayout.Node> nodes = new ArrayList<>();
        for (String id : List.of("hb", "rp1", "rp2", "up", "dn1", "dn2", "dn3")) {
            nodes.add(new ElkLayout.Node(id, 120, 40));
        }
        List<String[]> edges = List.of(new String[] {"hb", "rp1"}, new String[] {"hb", "rp2"},
                new String[] {"rp1", "up"}, new String[] {"up", "dn1"}, new String[] {"up", "dn2"},
                new String[] {"up", "dn3"});
        ElkLayout.Result r = ElkLayout.layout(nodes, edges);
        for (String[] e : edges) {
            assertThat(r.positions().get(e[1])[0]).as(e[1] + " right of " + e[0])
                    .isGreaterThanOrEqualTo(r.positions().get(e[0])[0] + 120);
        }
        // siblings keep their bus order, top to bottom
        assertThat(r.positions().get("rp1")[1]).isLessThan(r.positions().get("rp2")[1]);
        assertThat(r.positions().get("dn1")[1]).isLessThan(r.positions().get("dn2")[1]);
        assertThat(r.positions().get("dn2")[1]).isLessThan(r.positions().get("dn3")[1]);
        for (int i = 0; i < nodes.size(); i++) {
            for (int j = i + 1; j < nodes.size(); j++) {
                double[] a = r.positions().get(nodes.get(i).id());
                double[] b = r.positions().get(nodes.get(j).id());
                boolean apart = a[0] + 120 <= b[0] || b[0] + 120 <= a[0] || a[1] + 40 <= b[1] || b[1] + 40 <= a[1];
                assertThat(apart).as(nodes.get(i).id() + " and " + nodes.get(j).id() + " overlap").isTrue();
            }
        }
        // every edge is routed from its parent's right side to its child's left side
        for (int i = 0; i < edges.size(); i++) {
            List<double[]> route = r.routes().get(i);
            assertThat(route.get(0)[0]).isEqualTo(r.positions().get(edges.get(i)[0])[0] + 120);
            assertThat(route.get(route.size() - 1)[0]).isEqualTo(r.positions().get(edges.get(i)[1])[0]);
        }
        assertThat(r.width()).isGreaterThanOrEqualTo(4 * 120);
    }

    @Test
    void theRuleIsWrappedAtWordsAndNeverLost() {
        String rule = "ACS redirect on 0000:02:08.0 sends the traffic through the host bridge, which is allowed: "
                + "pci0000:00 whitelisted: 8086:2020 (Intel Skylake-E; since v5.6)";
        List<String> lines = TreePicture.wrap(rule, 40);
        assertThat(lines).allMatch(l -> l.length() <= 40);
        assertThat(String.join(" ", lines)).isEqualTo(rule);
        assertThat(TreePicture.wrap("x".repeat(50), 40)).containsExactly("x".repeat(50));
    }

    @Test
    void theFileNameChoosesTheFormatAndWritingSaysWhyItFailed(@TempDir Path tmp) {
        assertThat(PciDrawing.formatOf("tree.SVG")).isEqualTo("svg");
        assertThat(PciDrawing.formatOf("out/heat.png")).isEqualTo("png");
        assertThatThrownBy(() -> PciDrawing.formatOf("tree.svg.txt")).isInstanceOf(KernelException.class);
        PciDrawing.Picture p = new PciDrawing.Picture("svg", "<svg/>".getBytes(), 1, 1, "t", 0, List.of());
        p.save(tmp.resolve("a.svg"));
        assertThat(tmp.resolve("a.svg")).hasContent("<svg/>");
        assertThatThrownBy(() -> p.save(tmp.resolve("none/a.svg")))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENOENT));
        assertThatThrownBy(() -> p.save(tmp))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EISDIR));
        assertThat(p.summary("a.svg")).isEqualTo("wrote a.svg: svg, 1 x 1 pixels, 0 devices; t");
    }
}
