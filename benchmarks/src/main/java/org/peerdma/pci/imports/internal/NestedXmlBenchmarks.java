package org.peerdma.pci.imports.internal;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.osgi.framework.Constants;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologyImporter;

/**
 * Deeply nested hwloc and NCCL XML read through {@code TopologyIO} (format detection, parse, pci.ids names):
 * 5,000 against 20,000 nesting levels. Linear reading takes about 4 times as long for 4 times the depth;
 * the quadratic reader this replaced took about 18 times as long.
 * <ul>
 * <li>{@code hwloc}: a host bridge, then {@code depth} PCI bridges each inside the previous one (bus numbers
 * consistent: each bridge's secondary bus is the next one's bus), hwloc 2.x attributes;</li>
 * <li>{@code nccl}: a {@code <cpu>}, then {@code depth} nested {@code <nic>} levels each holding one
 * {@code <pci/>} (NCCL's own {@code <pci>} nesting cannot go deeper than the 255 buses of a domain).</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar NestedXml}.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
@BenchmarkMode(Mode.SingleShotTime)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class NestedXmlBenchmarks {
    @Param({"5000", "20000"})
    public int depth;

    @Param({"hwloc", "nccl"})
    public String format;

    private TopologyIOImpl io;
    private String text;

    @Setup(Level.Trial)
    public void setUp() {
        io = io();
        text = format.equals("hwloc") ? hwloc(depth) : nccl(depth);
        MachineDTO m = io.readText("nested.xml", text, TopologyIO.AUTO);
        if (m.devices.size() != depth) {
            throw new IllegalStateException("expected " + depth + " devices, read " + m.devices.size());
        }
    }

    /** The whole read of one nested document. */
    @Benchmark
    public MachineDTO readNested() {
        return io.readText("nested.xml", text, TopologyIO.AUTO);
    }

    /** The module's importers registered as DS would. */
    static TopologyIOImpl io() {
        TopologyIOImpl io = new TopologyIOImpl();
        Map<String, TopologyImporter> all = new java.util.LinkedHashMap<>();
        all.put("peerdma", new PeerdmaImporter());
        all.put("lspci-vvv", new LspciVerboseImporter());
        all.put("lspci-tv", new LspciTreeImporter());
        all.put("hwloc-xml", new HwlocXmlImporter());
        all.put("lstopo-v", new LstopoTextImporter());
        all.put("nccl-topo-xml", new NcclXmlImporter());
        all.put("sysfs", new SysfsImporter());
        long id = 1;
        for (Map.Entry<String, TopologyImporter> e : all.entrySet()) {
            Map<String, Object> props = new HashMap<>();
            props.put(TopologyImporter.FORMAT, e.getKey());
            props.put(Constants.SERVICE_ID, id++);
            io.addImporter(e.getValue(), props);
        }
        return io;
    }

    /** Level i's bus: 01..ff, then again (20,000 levels need several rounds). */
    static int bus(int i) {
        return 1 + (i / 256) % 255;
    }

    /** A distinct address per level in domain 0. */
    static String bdf(int i) {
        return String.format(Locale.ROOT, "0000:%02x:%02x.%d", bus(i), (i / 8) % 32, i % 8);
    }

    static String hwloc(int depth) {
        StringBuilder sb = new StringBuilder(depth * 260);
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n")
                .append("<topology version=\"2.0\">\n")
                .append("<object type=\"Machine\" os_index=\"0\" cpuset=\"0x1\" nodeset=\"0x1\">\n")
                .append("<object type=\"Bridge\" bridge_type=\"0-1\" depth=\"0\" bridge_pci=\"0000:[00-ff]\">\n");
        for (int i = 0; i < depth; i++) {
            sb.append(String.format(Locale.ROOT, "<object type=\"Bridge\" bridge_type=\"1-1\" depth=\"%d\""
                    + " bridge_pci=\"0000:[%02x-ff]\" pci_busid=\"%s\" pci_type=\"0604 [10b5:8747] [0000:0000] ca\""
                    + " pci_link_speed=\"0.000000\">\n", i + 1, bus(i + 1), bdf(i)));
        }
        sb.append("</object>\n".repeat(depth));
        return sb.append("</object>\n</object>\n</topology>\n").toString();
    }

    static String nccl(int depth) {
        StringBuilder sb = new StringBuilder(depth * 220);
        sb.append("<system version=\"1\">\n<cpu numaid=\"0\" affinity=\"ff\" arch=\"x86_64\" vendor=\"AuthenticAMD\""
                + " familyid=\"23\" modelid=\"49\">\n");
        for (int i = 0; i < depth; i++) {
            sb.append("<nic>\n<pci busid=\"").append(bdf(i)).append("\" class=\"0x020000\" vendor=\"0x15b3\""
                    + " device=\"0x101b\" subsystem_vendor=\"0x15b3\" subsystem_device=\"0x0007\""
                    + " link_speed=\"16.0 GT/s PCIe\" link_width=\"16\"/>\n");
        }
        sb.append("</nic>\n".repeat(depth));
        return sb.append("</cpu>\n</system>\n").toString();
    }
}
