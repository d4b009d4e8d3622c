package org.peerdma.pci.imports.lspci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;

class LspciTreeParserTest {

    static Path shared() {
        String prop = System.getProperty("peerdma.shared");
        if (prop != null && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop);
        }
        Path rel = Path.of("../../../shared");
        return Files.isDirectory(rel) ? rel : Path.of("/work/shared");
    }

    /** The fenced block that starts with a "$ ... lspci -tv" line, without the "$" line and the fence. */
    static TopologySource treeBlock(String file) throws IOException {
        Path p = shared().resolve("topologies/real").resolve(file);
        TopologySource all = TopologySource.ofText(p.toString(), Files.readString(p));
        int from = -1;
        for (int i = 0; i < all.lines().size(); i++) {
            String l = all.lines().get(i);
            if (from < 0 && l.startsWith("$") && l.strip().endsWith("lspci -tv")) {
                from = i + 1;
            } else if (from >= 0 && l.startsWith("```")) {
                return all.slice(from, i);
            }
        }
        throw new AssertionError("no lspci -tv block in " + file);
    }

    static DeviceDTO dev(MachineDTO m, String bdf) {
        return m.devices.stream().filter(d -> d.bdf.equals(bdf)).findFirst()
                .orElseThrow(() -> new AssertionError("no device " + bdf));
    }

    static int bus(String bdf) {
        return Integer.parseInt(bdf.substring(5, 7), 16);
    }

    static String domain(String bdf) {
        return bdf.substring(0, 4);
    }

    /** The bridge whose secondary bus is {@code bdf}'s bus, or null on a root bus. */
    static DeviceDTO parent(MachineDTO m, String bdf) {
        List<DeviceDTO> up = m.devices.stream().filter(d -> d.secondaryBus != null && d.secondaryBus == bus(bdf)
                && domain(d.bdf).equals(domain(bdf))).toList();
        assertThat(up).as("bridges to the bus of " + bdf).hasSizeLessThanOrEqualTo(1);
        return up.isEmpty() ? null : up.get(0);
    }

    static List<String> chain(MachineDTO m, String bdf) {
        List<String> out = new ArrayList<>();
        for (DeviceDTO p = parent(m, bdf); p != null; p = parent(m, p.bdf)) {
            out.add(p.bdf);
        }
        return out;
    }

    static TopologySource text(String name, int firstLine, String... lines) {
        return new TopologySource(name, List.of(lines), firstLine, Optional.empty());
    }

    @Test
    void asusGenoaRootsDevicesAndGpus() throws IOException {
        TopologySource src = treeBlock("asus-esc8000a-e12-genoa.txt");
        assertThat(src.firstLine()).isEqualTo(30);
        MachineDTO m = LspciTreeParser.parse(src);

        assertThat(m.format).isEqualTo("lspci-tv");
        assertThat(m.hostBridges).extracting(h -> h.bus).containsExactly(0x00, 0x20, 0x40, 0x60, 0x80, 0xa0, 0xc0, 0xe0);
        assertThat(m.hostBridges).allSatisfy(h -> {
            assertThat(h.domain).isZero();
            assertThat(h.busEnd).isNull();
        });
        assertThat(m.devices).hasSize(198);
        assertThat(m.devices).filteredOn(d -> d.headerType == 1).hasSize(59);

        for (String gpu : List.of("0000:01:00.0", "0000:41:00.0", "0000:c1:00.0", "0000:e1:00.0")) {
            DeviceDTO g = dev(m, gpu);
            assertThat(g.deviceName).isEqualTo("NVIDIA Corporation AD102GL [RTX 6000 Ada Generation]");
            assertThat(g.vendor).isNull();
            assertThat(g.headerType).isZero();
            assertThat(g.multifunction).isTrue();
            assertThat(g.portType).isNull();
            assertThat(g.extendedCapsKnown).isNull();
        }
        assertThat(chain(m, "0000:01:00.0")).containsExactly("0000:00:01.1");
        assertThat(chain(m, "0000:41:00.0")).containsExactly("0000:40:01.1");
        assertThat(chain(m, "0000:c1:00.0")).containsExactly("0000:c0:01.1");
        assertThat(chain(m, "0000:e1:00.0")).containsExactly("0000:e0:01.1");
        assertThat(dev(m, "0000:c0:01.1").secondaryBus).isEqualTo(0xc1);
        assertThat(dev(m, "0000:c0:01.1").subordinateBus).isEqualTo(0xc1);

        // Samsung NVMe behind the HighPoint switches on 61-73
        DeviceDTO nvme = dev(m, "0000:6b:00.0");
        assertThat(nvme.deviceName).isEqualTo("Samsung Electronics Co Ltd NVMe SSD Controller S4LV008[Pascal]");
        assertThat(chain(m, "0000:6b:00.0"))
                .containsExactly("0000:6a:00.0", "0000:69:00.0", "0000:62:04.0", "0000:61:00.0", "0000:60:01.1");
        DeviceDTO rp = dev(m, "0000:60:01.1");
        assertThat(rp.secondaryBus).isEqualTo(0x61);
        assertThat(rp.subordinateBus).isEqualTo(0x73);
        assertThat(dev(m, "0000:62:04.0").subordinateBus).isEqualTo(0x6e);
        assertThat(m.devices).filteredOn(d -> d.deviceName != null && d.deviceName.contains("S4LV008")).hasSize(16)
                .allSatisfy(d -> assertThat(chain(m, d.bdf)).hasSize(5).last()
                        .isIn("0000:60:01.1", "0000:a0:01.1"));
        // empty buses: 70:15.0 -> 72 and 62:1c.0 -> 73 have nothing below
        assertThat(dev(m, "0000:70:15.0").secondaryBus).isEqualTo(0x72);
        assertThat(m.devices).noneMatch(d -> bus(d.bdf) == 0x72 || bus(d.bdf) == 0x73);
        assertThat(m.notes).contains("lspci -tv gives no BARs, port types or ACS state");
        assertThat(dev(m, "0000:00:00.0").multifunction).isTrue();
        assertThat(dev(m, "0000:00:14.0").multifunction).isTrue();
        assertThat(dev(m, "0000:02:00.0").multifunction).isNull();
    }

    @Test
    void pugetWrx90() throws IOException {
        MachineDTO m = LspciTreeParser.parse(treeBlock("puget-wrx90-threadripper-pro.txt"));
        assertThat(m.hostBridges).extracting(h -> h.name)
                .containsExactly("pci0000:00", "pci0000:20", "pci0000:c0", "pci0000:e0");
        assertThat(m.devices).hasSize(113);
        assertThat(chain(m, "0000:c1:00.0")).containsExactly("0000:c0:01.1");
        assertThat(chain(m, "0000:c2:00.0")).containsExactly("0000:c0:03.1");

        List<DeviceDTO> nvme = m.devices.stream().filter(d -> d.deviceName != null
                && d.deviceName.startsWith("Samsung Electronics Co Ltd NVMe SSD Controller S4LV008")).toList();
        assertThat(nvme).extracting(d -> d.bdf).containsExactly("0000:05:00.0", "0000:06:00.0", "0000:07:00.0",
                "0000:08:00.0", "0000:0b:00.0", "0000:0c:00.0", "0000:0d:00.0", "0000:0e:00.0");
        for (DeviceDTO d : nvme) {
            List<String> up = chain(m, d.bdf);
            // downstream port, 2nd-level upstream port, 1st-level downstream port, 1st-level upstream, root port
            assertThat(up).hasSize(5);
            assertThat(up.get(1)).isIn("0000:03:00.0", "0000:09:00.0");
            assertThat(up.subList(3, 5)).containsExactly("0000:01:00.0", "0000:00:03.1");
        }
        assertThat(chain(m, "0000:0e:00.0"))
                .containsExactly("0000:0a:0c.0", "0000:09:00.0", "0000:02:04.0", "0000:01:00.0", "0000:00:03.1");
        // empty buses
        DeviceDTO empty = dev(m, "0000:10:15.0");
        assertThat(empty.headerType).isEqualTo(1);
        assertThat(empty.secondaryBus).isEqualTo(0x12);
        assertThat(empty.subordinateBus).isEqualTo(0x12);
        assertThat(dev(m, "0000:23:00.0").subordinateBus).isEqualTo(0x57);
        assertThat(m.devices).noneMatch(d -> bus(d.bdf) == 0x12 || bus(d.bdf) == 0x28);
        assertThat(dev(m, "0000:e2:00.0").deviceName).isEqualTo("ASPEED Technology, Inc. ASPEED Graphics Family");
        assertThat(chain(m, "0000:e2:00.0")).containsExactly("0000:e1:00.0", "0000:e0:05.2");
        assertThat(m.notes).noneMatch(n -> n.contains("outside the range"));
    }

    @Test
    void intelFragmentWithElisions() throws IOException {
        Path p = shared().resolve("topologies/real/intel-b70-rocketlake-pex880xx-acs.txt");
        TopologySource all = TopologySource.ofText(p.toString(), Files.readString(p));
        TopologySource frag = all.slice(26, 29); // file lines 27-29
        assertThat(frag.lines().get(0)).startsWith("-01.0-[01-18]");
        MachineDTO m = LspciTreeParser.parse(frag);

        assertThat(m.devices).extracting(d -> d.bdf).containsExactly("0000:00:01.0", "0000:01:00.0", "0000:02:1c.0",
                "0000:0e:00.0", "0000:12:00.0", "0000:18:00.0");
        assertThat(dev(m, "0000:00:01.0").subordinateBus).isEqualTo(0x18);
        assertThat(dev(m, "0000:01:00.0").secondaryBus).isEqualTo(0x02);
        assertThat(dev(m, "0000:02:1c.0").secondaryBus).isEqualTo(0x18);
        assertThat(dev(m, "0000:0e:00.0").deviceName).isEqualTo("Battlemage G31");
        assertThat(dev(m, "0000:18:00.0").deviceName).isEqualTo("Broadcom / LSI PEX880xx PCIe Gen 4 Switch");
        assertThat(parent(m, "0000:0e:00.0")).isNull(); // the bridge to 0e is not invented
        assertThat(m.hostBridges).extracting(h -> h.name).containsExactly("pci0000:00");
        assertThat(m.notes).contains(
                "bus 0e: the bridge leading to it is elided ('\u2026') in the dump; it lies below 0000:01:00.0's bus range",
                "bus 12: the bridge leading to it is elided ('\u2026') in the dump; it lies below 0000:01:00.0's bus range",
                "the tree names no root bus; its top-level devices are taken to be on bus 0000:00");
    }

    @Test
    void asciiElisionAndHiddenBus() {
        MachineDTO m = LspciTreeParser.parse(text("frag.txt", 1,
                "-[0000:00]-+-01.0-[01-05]--+- ... -[03-04]----00.0-[04]----00.0  Leaf",
                "           |               \\- ... --00.0-[05]----00.0  Deep",
                "           \\- ..."));
        assertThat(m.devices).extracting(d -> d.bdf)
                .containsExactly("0000:00:01.0", "0000:03:00.0", "0000:04:00.0", "0000:05:00.0");
        assertThat(m.notes).contains("bus 03: the bridge leading to it is elided ('...') in the dump; it lies below 0000:00:01.0's bus range")
                .anyMatch(n -> n.startsWith("line 2: device 00.0 sits on a bus hidden by an elision"))
                .anyMatch(n -> n.startsWith("line 3: part of bus 00 is elided"));
    }

    @Test
    void tvnnIdsAndNames() {
        MachineDTO m = LspciTreeParser.parse(text("nn.txt", 1,
                "```",
                "-[0000:00]-+-00.0  Intel Corporation Device [8086:2030]",
                "           +-02.0-[01]----00.0  NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]",
                "           +-03.0  Device [abcd:0001]",
                "           \\-1c.0-[02-03]----00.0-[03]--",
                "```"));
        DeviceDTO host = dev(m, "0000:00:00.0");
        assertThat(host.vendor).isEqualTo(0x8086);
        assertThat(host.device).isEqualTo(0x2030);
        assertThat(host.vendorName).isNull();
        assertThat(host.deviceName).isEqualTo("Intel Corporation Device");
        DeviceDTO gpu = dev(m, "0000:01:00.0");
        assertThat(gpu.vendor).isEqualTo(0x10de);
        assertThat(gpu.device).isEqualTo(0x2204);
        assertThat(gpu.deviceName).isEqualTo("NVIDIA Corporation GA102 [GeForce RTX 3090]");
        assertThat(dev(m, "0000:00:03.0").vendor).isEqualTo(0xabcd);
        assertThat(dev(m, "0000:00:03.0").deviceName).isNull();
        assertThat(dev(m, "0000:02:00.0").secondaryBus).isEqualTo(3);
        assertThat(dev(m, "0000:00:1c.0").subordinateBus).isEqualTo(3);
        assertThat(m.notes).contains("lspci -tvnn prints vendor and device name as one string; kept together in deviceName");
    }

    @Test
    void plainTreeDomainsOldFormAndFilteredForm() {
        MachineDTO m = LspciTreeParser.parse(text("t.txt", 1,
                "-+-[0000:00]-+-00.0",
                " |           \\-01.0-[01]----00.0",
                " \\-[10000:e0]---00.0"));
        assertThat(m.devices).extracting(d -> d.bdf).containsExactly("0000:00:00.0", "0000:00:01.0", "0000:01:00.0",
                "10000:e0:00.0");
        assertThat(m.hostBridges).extracting(h -> h.domain).containsExactly(0, 0x10000);
        assertThat(m.notes).contains("lspci -t without -v: no vendor/device IDs or names");

        MachineDTO old = LspciTreeParser.parse(text("old.txt", 1,
                "-+-00.0  Intel Corporation 440FX - 82441FX PMC [Natoma]",
                " +-1e.0-[01]--",
                " \\-1f.3  Intel Corporation SMBus"));
        assertThat(old.devices).extracting(d -> d.bdf).containsExactly("0000:00:00.0", "0000:00:1e.0", "0000:00:1f.3");
        assertThat(old.hostBridges).extracting(h -> h.name).containsExactly("pci0000:00");

        MachineDTO filtered = LspciTreeParser.parse(text("s.txt", 1,
                "0000:00:01.1-[01]--+-00.0  NVIDIA Corporation AD102GL",
                "                   \\-00.1  NVIDIA Corporation AD102 HD Audio",
                "0000:40:01.1-[41-42]----00.0-[42]----00.0  Leaf",
                "0000:41:00.0-[42]----00.0  Leaf"));
        assertThat(filtered.devices).extracting(d -> d.bdf).containsExactly("0000:00:01.1", "0000:01:00.0",
                "0000:01:00.1", "0000:40:01.1", "0000:41:00.0", "0000:42:00.0");
        assertThat(filtered.hostBridges).isEmpty();
        assertThat(filtered.notes).anyMatch(n -> n.startsWith("lspci -t -s/-d output"));
    }

    @Test
    void tvvvBars() {
        MachineDTO m = LspciTreeParser.parse(text("v.txt", 1,
                "-[0000:00]-+-00.0  Host",
                "           |         Region 0: Memory at f0000000 (64-bit, prefetchable) [size=16M]",
                "           |         Region 4: I/O ports at e000 [disabled] [size=32]",
                "           \\-02.0  Dev",
                "                     Memory at <unassigned> (32-bit, non-prefetchable) [size=4K]"));
        List<BarDTO> bars = dev(m, "0000:00:00.0").bars;
        assertThat(bars).hasSize(2);
        assertThat(bars.get(0).index).isZero();
        assertThat(bars.get(0).start).isEqualTo(0xf0000000L);
        assertThat(bars.get(0).size).isEqualTo(16L << 20);
        assertThat(bars.get(0).mem64).isTrue();
        assertThat(bars.get(0).prefetchable).isTrue();
        assertThat(bars.get(1).io).isTrue();
        assertThat(bars.get(1).disabled).isTrue();
        assertThat(bars.get(1).size).isEqualTo(32);
        assertThat(dev(m, "0000:00:02.0").bars).isEmpty();
        assertThat(dev(m, "0000:00:02.0").notes).anyMatch(n -> n.contains("without their numbers"));
    }

    @Test
    void brokenBusRangeNamesFileAndLine() {
        assertThatThrownBy(() -> LspciTreeParser.parse(text("bad-range.txt", 40,
                "-[0000:00]-+-00.0  Host",
                "           \\-03.1-[0g-13]----00.0  X")))
                .isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("bad-range.txt:41:")
                .hasMessageContaining("malformed bus range '-[0g-13]'")
                .satisfies(e -> assertThat(((TopologyFormatException) e).line()).isEqualTo(41));
    }

    @Test
    void deviceInClosedOrUnknownColumnIsAnError() {
        assertThatThrownBy(() -> LspciTreeParser.parse(text("closed.txt", 10,
                "-[0000:00]-+-00.0  A",
                "           \\-01.0  B",
                "           +-02.0  C")))
                .isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("closed.txt:12:")
                .hasMessageContaining("belongs to no open branch");
        assertThatThrownBy(() -> LspciTreeParser.parse(text("stray.txt", 1,
                "-[0000:00]-+-00.0  A",
                "      +-05.0  B",
                "           \\-01.0  C")))
                .isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("stray.txt:2: column 7: '+-' belongs to no open branch");
    }

    @Test
    void duplicateBdfIsAnError() {
        assertThatThrownBy(() -> LspciTreeParser.parse(text("dup.txt", 5,
                "-[0000:00]-+-00.0  A",
                "           +-01.0  B",
                "           \\-01.0  C")))
                .isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("dup.txt:7:")
                .hasMessageContaining("duplicate device 0000:00:01.0 (first seen on line 6)");
    }

    @Test
    void notATree() {
        TopologySource vvv = text("vvv.txt", 1, "00:00.0 Host bridge: Intel Corporation Device 4c43 (rev 01)",
                "\tSubsystem: ASUSTeK Computer Inc. Device 8694");
        assertThat(LspciTreeParser.probe(vvv)).isZero();
        assertThatThrownBy(() -> LspciTreeParser.parse(vvv)).isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("vvv.txt:1:");
        assertThatThrownBy(() -> LspciTreeParser.parse(text("empty.txt", 3, "", "```", "```")))
                .hasMessageContaining("no lspci -t tree lines");
    }

    @Test
    void probeScoresTrees() throws IOException {
        assertThat(LspciTreeParser.probe(treeBlock("asus-esc8000a-e12-genoa.txt"))).isEqualTo(100);
        assertThat(LspciTreeParser.probe(treeBlock("puget-wrx90-threadripper-pro.txt"))).isEqualTo(100);
        Path p = shared().resolve("topologies/real/intel-b70-rocketlake-pex880xx-acs.txt");
        TopologySource frag = TopologySource.ofText(p.toString(), Files.readString(p)).slice(25, 30);
        assertThat(LspciTreeParser.probe(frag)).isEqualTo(100);
        TopologySource broken = text("b.txt", 1, "-[0000:00]-+-00.0  A", "           \\-01.0-[0g]--");
        assertThat(LspciTreeParser.probe(broken)).isBetween(1, 40);
    }
}
