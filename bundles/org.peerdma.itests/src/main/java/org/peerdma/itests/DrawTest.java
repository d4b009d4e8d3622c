package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.draw.PciDrawing;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The pictures, drawn in the framework (the embedded layout and SVG libraries resolve and run there): the
 * SVG parses and holds a group per device with its kind, ACS and path classes and colours; the PNG decodes
 * to the size reported and holds the colours; the heatmap holds a cell per ordered pair; every real dump draws.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class DrawTest {
    @InjectBundleContext
    BundleContext ctx;

    /** The colours of Palette, as JFreeSVG writes them. */
    static final String GPU = "rgb(200,230,201)";
    static final String REDIRECT = "rgb(211,47,47)";
    static final String PATH = "rgb(21,101,192)";

    @InjectService(timeout = 5000)
    PciDrawing drawing;

    @InjectService(timeout = 5000)
    PciCore core;

    @InjectService(timeout = 5000)
    TopologyIO io;

    @InjectService(timeout = 5000)
    P2pDoctor doctor;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @AfterEach
    void sampleAgain() {
        core.load(io.sample());
    }

    private PciMachine sample() {
        return core.load(io.sample());
    }

    private PciDevice dev(String bdf) {
        return core.get(Bdf.parse(bdf));
    }

    static Document svg(byte[] bytes) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(bytes));
    }

    /** The groups of the picture by id. */
    static Map<String, Element> groups(Document d) {
        Map<String, Element> out = new LinkedHashMap<>();
        NodeList gs = d.getElementsByTagName("g");
        for (int i = 0; i < gs.getLength(); i++) {
            Element g = (Element) gs.item(i);
            if (!g.getAttribute("id").isEmpty()) {
                out.put(g.getAttribute("id"), g);
            }
        }
        return out;
    }

    static String text(Element g) {
        return g.getTextContent();
    }

    static String style(Element g) {
        StringBuilder sb = new StringBuilder();
        NodeList all = g.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            sb.append(((Element) all.item(i)).getAttribute("style")).append(';');
        }
        return sb.toString();
    }

    @Test
    void theSampleTreeWithAPairShowsThePathThroughTheHostBridgeAndTheRedirectingPorts() throws Exception {
        PciMachine m = sample();
        PciDrawing.Picture p = drawing.tree(m, dev("03:00.0"), dev("05:00.0"), false, null, "svg");
        assertThat(p.caption()).isEqualTo("P2P SUPPORTED: PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, distance 4   [newest (v7.x)]");
        Document d = svg(p.bytes());
        assertThat(d.getDocumentElement().getAttribute("width")).startsWith(String.valueOf(p.width()));
        Map<String, Element> g = groups(d);
        // every drawn device is a group, and each has its edge to the box above it
        assertThat(g.keySet().stream().filter(k -> k.startsWith("dev-"))).hasSize(p.drawn());
        assertThat(g.keySet().stream().filter(k -> k.startsWith("edge-"))).hasSize(p.drawn());
        Element gpu = g.get("dev-0000-03-00.0");
        assertThat(gpu.getAttribute("class")).isEqualTo("gpu path");
        assertThat(text(gpu)).contains("03:00.0", "GPU", "A100");
        assertThat(style(gpu)).contains("fill:" + GPU).contains(PATH);
        // the switch port above the GPU redirects (RR CR): red on the path too; the NIC's port does not
        assertThat(g.get("dev-0000-02-08.0").getAttribute("class")).isEqualTo("port redirect path");
        assertThat(style(g.get("dev-0000-02-08.0"))).contains(REDIRECT);
        assertThat(text(g.get("dev-0000-02-08.0"))).contains("ACS RR CR: redirects P2P");
        assertThat(g.get("dev-0000-02-10.0").getAttribute("class")).isEqualTo("port path");
        // an ACS redirect sends the requests to the root complex: the host bridge is on the path, whitelisted
        assertThat(g.get("hb-pci0000-00").getAttribute("class")).isEqualTo("host-bridge path");
        assertThat(text(g.get("hb-pci0000-00"))).contains("whitelisted", "8086:2020");
        assertThat(g.get("edge-hb-pci0000-00--dev-0000-00-01.0")).isNotNull();
        assertThat(style(g.get("edge-hb-pci0000-00--dev-0000-00-01.0"))).contains(PATH);
        // the other socket is drawn, not on the path
        assertThat(g.get("dev-0000-81-00.0").getAttribute("class")).isEqualTo("gpu");
        assertThat(text(g.get("verdict"))).isEqualTo(p.caption());
        assertThat(d.getDocumentElement().getTextContent()).contains("ACS redirect on 0000:02:08.0");
        // only the functions of interest and the bridges above them; all=true draws every one
        assertThat(p.notes()).singleElement().asString().startsWith("3 function(s) not drawn");
        PciDrawing.Picture all = drawing.tree(m, null, null, true, null, "svg");
        assertThat(all.drawn()).isEqualTo(m.devices().size());
        assertThat(all.notes()).isEmpty();
        assertThat(groups(svg(all.bytes())).keySet()).contains("dev-0000-00-00.0", "dev-0000-00-1f.0");
    }

    @Test
    void aPairBelowOneSwitchIsBusAddrWithItsPathBelowTheSwitchOnly() throws Exception {
        PciMachine m = sample();
        PciDrawing.Picture p = drawing.tree(m, dev("05:00.0"), dev("06:00.0"), false, null, "svg");
        assertThat(p.caption()).startsWith("P2P SUPPORTED: PCI_P2PDMA_MAP_BUS_ADDR");
        Map<String, Element> g = groups(svg(p.bytes()));
        assertThat(g.get("dev-0000-01-00.0").getAttribute("class")).endsWith("path");
        assertThat(g.get("dev-0000-00-01.0").getAttribute("class")).doesNotContain("path");
        assertThat(g.get("hb-pci0000-00").getAttribute("class")).isEqualTo("host-bridge");
    }

    @Test
    void thePngDecodesToItsSizeAndHoldsTheColours() throws Exception {
        PciMachine m = sample();
        PciDrawing.Picture p = drawing.tree(m, dev("03:00.0"), dev("05:00.0"), false, null, "png");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(p.bytes()));
        assertThat(img.getWidth()).isEqualTo(p.width());
        assertThat(img.getHeight()).isEqualTo(p.height());
        Map<Integer, Integer> count = new LinkedHashMap<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                count.merge(img.getRGB(x, y) & 0xffffff, 1, Integer::sum);
            }
        }
        assertThat(count.getOrDefault(0xc8e6c9, 0)).as("GPU fill").isGreaterThan(1000);
        assertThat(count.getOrDefault(0xd32f2f, 0)).as("redirect border").isGreaterThan(100);
        assertThat(count.getOrDefault(0x1565c0, 0)).as("path").isGreaterThan(100);
    }

    @Test
    void theHeatmapHasACellPerOrderedPairColouredByMapTypeWithTheClass() throws Exception {
        PciMachine m = sample();
        List<PciDevice> eps = doctor.endpoints(m);
        PciDrawing.Picture p = drawing.matrix(m, eps, null, "svg");
        Map<String, Element> g = groups(svg(p.bytes()));
        assertThat(g.keySet().stream().filter(k -> k.startsWith("cell-"))).hasSize(eps.size() * eps.size());
        Element bus = g.get("cell-0000-05-00.0--0000-06-00.0");
        assertThat(bus.getAttribute("class")).isEqualTo("cell bus-addr");
        assertThat(text(bus)).isEqualTo("PIX");
        assertThat(style(bus)).contains("fill:rgb(102,187,106)");
        assertThat(g.get("cell-0000-03-00.0--0000-81-00.0").getAttribute("class")).isEqualTo("cell thru-host-bridge");
        assertThat(text(g.get("cell-0000-03-00.0--0000-81-00.0"))).isEqualTo("SYS");
        assertThat(g.get("cell-0000-03-00.0--0000-03-00.0").getAttribute("class")).isEqualTo("self");
        // v4.20 refuses everything not below one switch: red cells
        PciDrawing.Picture old = drawing.matrix(m, eps, doctor.rules("v4.20", "-k"), "svg");
        Map<String, Element> og = groups(svg(old.bytes()));
        assertThat(og.get("cell-0000-03-00.0--0000-81-00.0").getAttribute("class")).isEqualTo("cell not-supported");
        assertThat(style(og.get("cell-0000-03-00.0--0000-81-00.0"))).contains("fill:rgb(239,83,80)");
    }

    @Test
    void everyRealDumpDrawsAndEveryDrawnDeviceIsAGroup() throws Exception {
        Path dir = Runtime.realDumps(ctx);
        List<String> drawn = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                PciMachine m;
                try {
                    m = core.load(io.read(f, TopologyIO.AUTO));
                } catch (KernelException notAMachine) {
                    continue; // a section-only paste the importers refuse on its own
                }
                if (m.devices().isEmpty()) {
                    continue;
                }
                PciDrawing.Picture p = drawing.tree(m, null, null, true, null, "svg");
                Map<String, Element> g = groups(svg(p.bytes()));
                assertThat(g.keySet().stream().filter(k -> k.startsWith("dev-"))).as(f.toString())
                        .hasSize(m.devices().size());
                List<PciDevice> eps = doctor.endpoints(m);
                if (eps.size() >= 2 && eps.size() <= PciDrawing.MAX_MATRIX) {
                    PciDrawing.Picture h = drawing.matrix(m, eps, null, "svg");
                    assertThat(groups(svg(h.bytes())).keySet().stream().filter(k -> k.startsWith("cell-")))
                            .as(f.toString()).hasSize(eps.size() * eps.size());
                }
                drawn.add(f.getFileName() + ": " + p.drawn());
            }
        }
        assertThat(drawn).hasSizeGreaterThanOrEqualTo(5);
    }

    @Test
    void badRequestsAreRefusedWithTheirErrno() {
        PciMachine m = sample();
        assertThatThrownBy(() -> drawing.tree(m, null, null, false, null, "gif")).isInstanceOf(KernelException.class)
                .hasMessageContaining("svg or png");
        assertThatThrownBy(() -> drawing.tree(m, dev("03:00.0"), null, false, null, "svg"))
                .hasMessageContaining("a pair is a provider and a client");
        assertThatThrownBy(() -> drawing.tree(m, dev("03:00.0"), dev("03:00.0"), false, null, "svg"))
                .hasMessageContaining("both");
        assertThatThrownBy(() -> drawing.matrix(m, List.of(dev("03:00.0")), null, "svg"))
                .hasMessageContaining("at least two");
        assertThatThrownBy(() -> drawing.draw(m, List.of("03:00.0"), false, false, "", null, "svg"))
                .hasMessageContaining("a pair, PROVIDER CLIENT, or nothing");
        assertThatThrownBy(() -> drawing.draw(m, List.of(), true, false, "gpu,fish", null, "svg"))
                .hasMessageContaining("unknown device kind 'fish'");
        assertThatThrownBy(() -> drawing.draw(m, List.of("03:00.0", "7f:00.0"), true, false, "", null, "svg"))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENODEV));
        List<PciDevice> many = new ArrayList<>();
        for (int i = 0; i <= PciDrawing.MAX_MATRIX; i++) {
            many.add(m.devices().get(i % m.devices().size()));
        }
        assertThatThrownBy(() -> drawing.matrix(m, many, null, "svg"))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.E2BIG));
        assertThatThrownBy(() -> PciDrawing.formatOf("tree.jpg")).hasMessageContaining(".svg or .png");
    }

    @Test
    void theShellCommandWritesTheFileAndSaysWhatItDrew(@TempDir Path tmp) throws Exception {
        sample();
        Shell sh = new Shell(processor);
        Path out = tmp.resolve("pair.svg");
        String said = sh.run("p2p:draw -o " + out + " 03:00.0 05:00.0");
        assertThat(said).startsWith("wrote " + out + ": svg, ").contains("THRU_HOST_BRIDGE");
        assertThat(groups(svg(Files.readAllBytes(out)))).containsKey("dev-0000-03-00.0");
        Path heat = tmp.resolve("m.png");
        assertThat(sh.run("p2p:draw -m -t gpu,nic -o " + heat)).contains("png").contains("7 devices");
        assertThat(ImageIO.read(heat.toFile())).isNotNull();
        assertThatThrownBy(() -> sh.run("p2p:draw 03:00.0 05:00.0")).hasMessageContaining("needs -o FILE.svg");
        assertThatThrownBy(() -> sh.run("p2p:draw -o " + tmp.resolve("no/such/dir.svg")))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENOENT));
    }
}
