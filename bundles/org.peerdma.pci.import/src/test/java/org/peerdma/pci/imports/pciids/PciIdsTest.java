package org.peerdma.pci.imports.pciids;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.imports.pciids.PciIds.VendorDevice;

class PciIdsTest {
    /** A device line of plain lspci (no -nn): "bb:dd.f Class: Vendor Device (rev xx) (prog-if ...)". */
    private static final Pattern LSPCI = Pattern.compile(
            "([0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]) [^:]+: (.*?)(?: \\(rev [0-9a-f]{2}\\))?(?: \\(prog-if .*\\))?");

    static Path shared() {
        String prop = System.getProperty("peerdma.shared");
        if (prop != null && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop);
        }
        Path rel = Path.of("../../../shared");
        return Files.isDirectory(rel) ? rel : Path.of("/work/shared");
    }

    private static PciIds parse(String text) throws IOException {
        return PciIds.load(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "test.ids");
    }

    @Test
    void bundledNamesAndLicenseHeader() throws IOException {
        PciIds ids = PciIds.bundled();
        assertThat(PciIds.bundled()).isSameAs(ids);
        assertThat(ids.version()).isEqualTo("2023.04.10");
        assertThat(ids.vendorCount()).isGreaterThan(2000);
        assertThat(ids.vendorName(0x8086)).isEqualTo("Intel Corporation");
        assertThat(ids.deviceName(0x8086, 0x6f00)).contains("DMI2");
        assertThat(ids.deviceName(0x10de, 0x15f7)).isEqualTo("GP100GL [Tesla P100 PCIe 12GB]");
        assertThat(ids.deviceName(0x8086, 0xfffe)).isNull();
        assertThat(ids.vendorName(0x0002)).isNull();
        assertThat(ids.subsystemName(0x8086, 0x10fb, 0x1028, 0x1f72)).isEqualTo("Ethernet 10G 4P X520/I350 rNDC");
        assertThat(ids.className(0x0604)).isEqualTo("PCI bridge");
        assertThat(ids.className(0x0108)).isEqualTo("Non-Volatile memory controller");
        assertThat(ids.className(0x06ee)).isEqualTo("Bridge"); // unknown subclass: base class name
        assertThat(ids.className(0xeeee)).isNull();
        assertThat(ids.progIfName(0x010802)).isEqualTo("NVM Express");
        try (InputStream in = PciIds.class.getResourceAsStream(PciIds.RESOURCE)) {
            String head = new String(in.readNBytes(1200), StandardCharsets.UTF_8);
            assertThat(head).contains("GNU General Public License").contains("3-clause BSD License");
        }
    }

    @Test
    void reverseLookups() {
        PciIds ids = PciIds.bundled();
        assertThat(ids.vendorId("Intel Corporation")).hasValue(0x8086);
        assertThat(ids.vendorId("intel corporation")).hasValue(0x8086);
        assertThat(ids.vendorId("NVIDIA Corporation")).hasValue(0x10de);
        assertThat(ids.vendorId("No Such Vendor Inc.")).isEmpty();
        assertThat(ids.deviceId(0x8086, "Xeon E7 v4/Xeon E5 v4/Xeon E3 v4/Xeon D DMI2")).hasValue(0x6f00);
        assertThat(ids.deviceId(0x10de, "GP100GL [Tesla P100 PCIe 12GB]")).hasValue(0x15f7);
        assertThat(ids.deviceId(0x10de, "gp100gl [tesla p100 pcie 12gb]")).hasValue(0x15f7);
        assertThat(ids.deviceId(0x8086, "Device 0d57")).hasValue(0x0d57);
        assertThat(ids.deviceId(0x10de, "GP100GL [Tesla P100 PCIe 99GB]")).isEmpty();
        assertThat(ids.resolve("NVIDIA Corporation GP100GL [Tesla P100 PCIe 12GB] (rev a1)"))
                .contains(new VendorDevice(0x10de, 0x15f7));
        assertThat(ids.resolve("Intel Corporation Device 0d57")).contains(new VendorDevice(0x8086, 0x0d57));
        assertThat(ids.resolve("Device 1d0f:cd01")).contains(new VendorDevice(0x1d0f, 0xcd01));
        assertThat(ids.resolve("Nobody Something")).isEmpty();
    }

    /**
     * The Dell R730 dump is plain lspci -vvv: every device line maps back to its IDs, except the
     * BCM5720 LOM whose name the database has since changed (name drift is why -nn dumps are better).
     */
    @Test
    void resolvesEveryDeviceOfARealDumpWithoutNn() throws IOException {
        Path dump = shared().resolve("topologies/real/dell-r730-broadwell-ep-2xp100-nvme.txt");
        PciIds ids = PciIds.bundled();
        Map<String, VendorDevice> got = new TreeMap<>();
        List<String> failed = new ArrayList<>();
        for (String line : Files.readAllLines(dump)) {
            Matcher m = LSPCI.matcher(line);
            if (m.matches()) {
                ids.resolve(m.group(2)).ifPresentOrElse(vd -> got.put(m.group(1), vd), () -> failed.add(line));
            }
        }
        assertThat(failed).hasSize(4).allMatch(l -> l.contains("NetXtreme BCM5720 2-port Gigabit Ethernet PCIe"));
        assertThat(ids.deviceName(0x14e4, 0x165f)).isEqualTo("NetXtreme BCM5720 Gigabit Ethernet PCIe");
        assertThat(got).hasSize(197);
        assertThat(got.get("00:00.0")).isEqualTo(new VendorDevice(0x8086, 0x6f00));
        assertThat(got.get("04:00.0")).isEqualTo(new VendorDevice(0x10de, 0x15f7));
        assertThat(got.get("82:00.0")).isEqualTo(new VendorDevice(0x10de, 0x15f7));
        assertThat(got.get("81:00.0")).isEqualTo(new VendorDevice(0x8086, 0x0953));
        assertThat(got.get("83:00.1")).isEqualTo(new VendorDevice(0x8086, 0x154d));
    }

    @Test
    void loadsTheFormatIncludingClassesAndUnknownSections() throws IOException {
        PciIds ids = parse("""
                # Version: 1.2
                1234  Acme
                \t0001  Widget
                \t\t1234 0002  Widget Pro
                # comment inside
                \t0002  widget
                1235  Acme
                C 01  Mass storage controller
                \t08  Non-Volatile memory controller
                \t\t02  NVM Express
                X 11  A future section
                \t22  ignored
                """);
        assertThat(ids.version()).isEqualTo("1.2");
        assertThat(ids.vendorId("Acme")).hasValue(0x1234);
        assertThat(ids.deviceId(0x1234, "widget")).hasValue(0x0002);
        assertThat(ids.deviceId(0x1234, "WIDGET")).hasValue(0x0001);
        assertThat(ids.subsystemName(0x1234, 0x0001, 0x1234, 0x0002)).isEqualTo("Widget Pro");
        assertThat(ids.className(0x0108)).isEqualTo("Non-Volatile memory controller");
        assertThat(ids.className(0x01ff)).isEqualTo("Mass storage controller");
        assertThat(ids.progIfName(0x010802)).isEqualTo("NVM Express");
        assertThat(ids.deviceId(0x1235, "Widget")).isEqualTo(OptionalInt.empty());
    }

    @Test
    void malformedLinesNameTheLine() {
        assertThatThrownBy(() -> parse("1234  Acme\n\tzz01  Bad\n"))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.file()).isEqualTo("test.ids");
                    assertThat(e.line()).isEqualTo(2);
                });
        assertThatThrownBy(() -> parse("# header\n\t0001  Orphan\n"))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(2));
        assertThatThrownBy(() -> parse("12345 Too long\n"))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(1));
    }
}
