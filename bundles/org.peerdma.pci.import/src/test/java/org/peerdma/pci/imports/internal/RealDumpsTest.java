package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.spi.TopologyImporter;

/**
 * Every real dump in shared/topologies/real through the auto-detecting document path and into
 * the PCI core, asserting what each one lets us recover.
 */
class RealDumpsTest {
    private TopologyIOImpl io;
    private PciCoreImpl core;

    static Path shared() {
        for (String p : new String[] {System.getProperty("peerdma.shared"), "../../../shared", "/work/shared"}) {
            if (p != null && Files.isDirectory(Path.of(p, "topologies/real"))) {
                return Path.of(p);
            }
        }
        throw new IllegalStateException("shared/topologies/real not found next to the checkout");
    }

    static TopologyIOImpl io() {
        TopologyIOImpl io = new TopologyIOImpl();
        long id = 1;
        Map<String, TopologyImporter> all = new java.util.LinkedHashMap<>();
        all.put("peerdma", new PeerdmaImporter());
        all.put("lspci-vvv", new LspciVerboseImporter());
        all.put("lspci-tv", new LspciTreeImporter());
        all.put("hwloc-xml", new HwlocXmlImporter());
        all.put("lstopo-v", new LstopoTextImporter());
        all.put("nccl-topo-xml", new NcclXmlImporter());
        all.put("sysfs", new SysfsImporter());
        for (Map.Entry<String, TopologyImporter> e : all.entrySet()) {
            TopologyImporter imp = e.getValue();
            Map<String, Object> props = new HashMap<>();
            props.put(TopologyImporter.FORMAT, e.getKey());
            props.put(Constants.SERVICE_ID, id++);
            io.addImporter(imp, props);
        }
        return io;
    }

    @BeforeEach
    void setUp() {
        io = io();
        core = new PciCoreImpl();
    }

    private PciMachine load(String file) {
        MachineDTO m = io.read(shared().resolve("topologies/real").resolve(file), TopologyIO.AUTO);
        return core.load(m);
    }

    private PciDevice dev(String bdf) {
        return core.get(Bdf.parse(bdf));
    }

    @Test
    void asusGenoa() {
        PciMachine m = load("asus-esc8000a-e12-genoa.txt");
        assertThat(m.name()).isEqualTo("asus-esc8000a-e12-genoa");
        assertThat(m.devices()).hasSize(198);
        assertThat(m.hostBridges()).hasSize(8);
        assertThat(m.cpu().vendor()).isEqualTo("AuthenticAMD");
        assertThat(m.cpu().family()).isEqualTo(25);
        for (String[] gpu : new String[][] {{"01:00.0", "00:01.1"}, {"41:00.0", "40:01.1"}, {"c1:00.0", "c0:01.1"},
            {"e1:00.0", "e0:01.1"}}) {
            assertThat(dev(gpu[0]).upstreamBridge().bdf()).as(gpu[0]).isEqualTo(Bdf.parse(gpu[1]));
            assertThat(dev(gpu[0]).bar(1)).as(gpu[0] + " has its -vvv BARs").isPresent();
        }
        // the -vvv block of 01:00.0 gave the IDs and the port type the tree lacks
        assertThat(dev("01:00.0").vendor()).isEqualTo(0x10de);
        assertThat(dev("01:00.0").notes()).anyMatch(n -> n.contains("device ID is unknown"));
        assertThat(dev("01:00.0").bar(1).orElseThrow().prefetchable()).isTrue();
        // NVMe behind the HighPoint switch chain
        List<String> chain = new java.util.ArrayList<>();
        for (PciDevice up = dev("6b:00.0").upstreamBridge(); up != null; up = up.upstreamBridge()) {
            chain.add(up.bdf().shortName());
        }
        assertThat(chain).containsExactly("6a:00.0", "69:00.0", "62:04.0", "61:00.0", "60:01.1");
        assertThat(m.notes()).anyMatch(n -> n.contains("ACSCtl lines without device addresses") && n.contains("all bits '-'"));
        assertThat(m.devices().stream().filter(PciDevice::hasAcs)).allMatch(d -> d.acsCtrl() == 0);
    }

    @Test
    void pugetThreadripper() {
        PciMachine m = load("puget-wrx90-threadripper-pro.txt");
        assertThat(m.devices()).hasSize(113);
        assertThat(m.hostBridges()).extracting(h -> h.rootBus().number()).containsExactly(0x00, 0x20, 0xc0, 0xe0);
        assertThat(dev("c1:00.0").upstreamBridge().bdf()).isEqualTo(Bdf.parse("c0:01.1"));
        assertThat(dev("c2:00.0").upstreamBridge().bdf()).isEqualTo(Bdf.parse("c0:03.1"));
        assertThat(dev("c1:00.0").hostBridge()).isSameAs(dev("c2:00.0").hostBridge());
        assertThat(m.cpu().isAmd()).isTrue();
        assertThat(m.cpu().family()).isEqualTo(25);
        assertThat(dev("c1:00.0").hostBridge().firstDevice()).map(d -> d.bdf().shortName()).contains("c0:00.0");
    }

    @Test
    void dellBroadwellWithoutNumericIds() {
        PciMachine m = load("dell-r730-broadwell-ep-2xp100-nvme.txt");
        assertThat(m.devices()).hasSize(201);
        PciDevice host = dev("00:00.0");
        assertThat(host.vendor()).isEqualTo(0x8086);
        assertThat(host.device()).isEqualTo(0x6f00); // recovered by name through pci.ids
        assertThat(host.notes()).anyMatch(n -> n.contains("recovered from the name"));
        assertThat(dev("04:00.0").device()).isEqualTo(0x15f7);
        assertThat(dev("04:00.0").upstreamBridge()).isNotNull();
        assertThat(dev("04:00.0").hostBridge()).isNotSameAs(dev("82:00.0").hostBridge());
        assertThat(dev("81:00.0").hostBridge()).isSameAs(dev("82:00.0").hostBridge());
        assertThat(m.devices().stream().filter(PciDevice::hasAcs)).hasSize(9).allMatch(d -> d.acsCtrl() == 0);
    }

    @Test
    void hwlocHaswellTwoK80Boards() {
        PciMachine m = load("hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt");
        assertThat(m.devices()).hasSize(23);
        assertThat(m.hostBridges()).hasSize(2);
        assertThat(dev("06:00.0").upstreamBridge().bdf()).isEqualTo(Bdf.parse("05:08.0"));
        assertThat(dev("07:00.0").upstreamBridge().bdf()).isEqualTo(Bdf.parse("05:10.0"));
        assertThat(dev("05:08.0").upstreamBridge().bdf()).isEqualTo(Bdf.parse("04:00.0"));
        assertThat(dev("84:00.0").upstreamBridge().upstreamBridge().bdf()).isEqualTo(Bdf.parse("82:00.0"));
        assertThat(dev("06:00.0").acsUnknown()).isTrue();
        assertThat(m.cpu().family()).isEqualTo(6);
    }

    @Test
    void skylakeLstopoText() {
        PciMachine m = load("hwloc-skylake-sp-multi-root-bus-3rc.txt");
        assertThat(m.devices()).hasSize(17);
        assertThat(m.hostBridges()).hasSize(3);
        assertThat(dev("17:00.0").device()).isEqualTo(0x2030);
        assertThat(dev("18:00.0").upstreamBridge().bdf()).isEqualTo(Bdf.parse("17:00.0"));
        assertThat(dev("5e:00.0").hostBridge()).isNotSameAs(dev("18:00.0").hostBridge());
    }

    @Test
    void intelB70Fragment() {
        PciMachine m = load("intel-b70-rocketlake-pex880xx-acs.txt");
        PciDevice g1 = dev("0e:00.0");
        PciDevice g2 = dev("12:00.0");
        for (PciDevice g : List.of(g1, g2)) {
            assertThat(g.bus().isElided()).isTrue();
            assertThat(g.bus().parent().self().bdf()).isEqualTo(Bdf.parse("01:00.0"));
        }
        assertThat(dev("18:00.0").upstreamBridge().bdf()).isEqualTo(Bdf.parse("02:1c.0"));
        assertThat(m.notes()).anyMatch(n -> n.contains("elided"));
    }

    @Test
    void dgxNcclFragment() {
        PciMachine m = load("dgx-a100-nccl-topo-xml-nccl1505.txt");
        assertThat(dev("07:00.0").device()).isEqualTo(0x20b0);
        PciDevice nic = dev("0c:00.0");
        assertThat(nic.vendor()).isEqualTo(0x15b3);
        assertThat(nic.bus().parent().self().bdf()).isEqualTo(Bdf.parse("0a:00.0"));
        assertThat(m.notes()).anyMatch(n -> n.contains("partial") || n.contains("fragment"));
    }

    @Test
    void supermicroPlxListing() {
        PciMachine m = load("supermicro-7048gr-tr-plx-k80-nccl19.txt");
        assertThat(m.devices()).hasSize(9).allMatch(d -> d.vendor() == 0x10b5 && d.device() == 0x8747);
        assertThat(m.notes()).anyMatch(n -> n.contains("no bus ranges"));
    }

    @Test
    void ownFormatRoundTripsTheSampleAndARealMachine() {
        MachineDTO sample = io.sample();
        core.load(sample);
        String yaml = io.format(core.snapshot(), "yaml");
        assertThat(yaml).startsWith("peerdma-topology: 1").contains("vendor: 0x10de").contains("size: 64G");
        PciCoreImpl again = new PciCoreImpl();
        again.load(io.readText("round.yaml", yaml, TopologyIO.AUTO));
        assertThat(again.snapshot().devices).hasSameSizeAs(core.snapshot().devices);
        assertThat(io.format(again.snapshot(), "yaml")).isEqualTo(yaml);
        String json = io.format(core.snapshot(), "json");
        assertThat(io.format(io.readText("round.json", json, "peerdma"), "json")).isEqualTo(json);

        load("asus-esc8000a-e12-genoa.txt");
        String asus = io.format(core.snapshot(), "yaml");
        PciCoreImpl c2 = new PciCoreImpl();
        c2.load(io.readText("asus.yaml", asus, TopologyIO.AUTO));
        assertThat(io.format(c2.snapshot(), "yaml")).isEqualTo(asus);
        assertThat(c2.get(Bdf.parse("6b:00.0")).upstreamBridge().bdf()).isEqualTo(Bdf.parse("6a:00.0"));
    }

    /**
     * YAML's other line breaks (NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR) inside a name: the saved file reads back
     * (the long fuzz run found a U+2028 in an lspci device name written plain, which read back as
     * "mapping values are not allowed here").
     */
    @Test
    void namesWithYamlLineBreaksInsideSurviveTheOwnFormat() {
        MachineDTO m = io.sample();
        String[] odd = {"0604:\u202810.0 0604", "a\u2029b", "x\u0085y: z", "\u2028"};
        for (int i = 0; i < odd.length; i++) {
            m.devices.get(i + 1).deviceName = odd[i];
        }
        String yaml = io.format(m, "yaml");
        MachineDTO back = io.readText("saved.yaml", yaml, TopologyIO.AUTO);
        for (int i = 0; i < odd.length; i++) {
            assertThat(back.devices.get(i + 1).deviceName).isEqualTo(odd[i]);
        }
        assertThat(io.format(back, "yaml")).isEqualTo(yaml);
    }

    @Test
    void sampleMachineIsRealistic() {
        PciMachine m = core.load(io.sample());
        assertThat(m.hostBridges()).hasSize(2);
        assertThat(dev("03:00.0").bar(1).orElseThrow().size()).isEqualTo(64L << 30);
        assertThat(dev("06:00.0").bar(2).orElseThrow().prefetchable()).isTrue();
        assertThat(dev("02:08.0").acsCtrl() & Acs.RR).isNotZero();
        assertThat(dev("02:10.0").acsCtrl()).isZero();
        assertThat(dev("81:00.0").hostBridge().firstDevice()).map(d -> d.bdf().shortName()).contains("80:00.0");
        assertThat(m.devices()).hasSize(22);
    }

    @Test
    void badInputNamesFileAndLine() throws Exception {
        Path dir = Files.createTempDirectory("bad");
        Path truncated = dir.resolve("truncated.txt");
        Files.writeString(truncated, "00:01.0 PCI bridge: Intel Corporation Device 2030\n"
                + "\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0\n"
                + "\tCapabilities: [90\n");
        assertThatThrownBy(() -> io.read(truncated, TopologyIO.AUTO)).isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("truncated.txt:3");
        Path yaml = dir.resolve("typo.yaml");
        Files.writeString(yaml, "peerdma-topology: 1\nname: x\ndevices:\n  - bdf: 00:00.0\n    vendr: 0x8086\n");
        assertThatThrownBy(() -> io.read(yaml, TopologyIO.AUTO)).hasMessageContaining("typo.yaml:5")
                .hasMessageContaining("unknown key 'vendr'");
        Path version = dir.resolve("v2.yaml");
        Files.writeString(version, "peerdma-topology: 2\nname: x\n");
        assertThatThrownBy(() -> io.read(version, TopologyIO.AUTO)).hasMessageContaining("unsupported");
        Path prose = dir.resolve("prose.txt");
        Files.writeString(prose, "Hello, this is not a dump.\nNothing to see.\n");
        assertThatThrownBy(() -> io.read(prose, TopologyIO.AUTO)).hasMessageContaining("no PCI devices found");
        assertThatThrownBy(() -> io.read(dir.resolve("missing"), TopologyIO.AUTO))
                .isInstanceOf(KernelException.class).hasMessageContaining("ENOENT");
        assertThatThrownBy(() -> io.readText("x", "00:00.0 Host bridge: X\n", "no-such-format"))
                .hasMessageContaining("unknown format 'no-such-format'");
        Path dupYaml = dir.resolve("dup.yaml");
        Files.writeString(dupYaml, "peerdma-topology: 1\ndevices:\n  - bdf: 00:00.0\n  - bdf: 0000:00:00.0\n");
        MachineDTO dup = io.read(dupYaml, TopologyIO.AUTO);
        core.load(io.sample());
        assertThatThrownBy(() -> core.load(dup)).hasMessageContaining("duplicate device 0000:00:00.0");
        assertThat(core.machine().devices()).hasSize(22);
    }
}
