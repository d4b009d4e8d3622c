package org.peerdma.pci.shell;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.internal.LspciVerboseImporter;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.spi.TopologySource;

/**
 * lspci -vv's Control, Status, DevCap, DevCtl, DevSta, LnkCap and LnkSta lines read from a real dump and printed again give the
 * dump's lines: every device of the Dell R730 (a plain lspci -vv listing). The dump comes from an older pciutils,
 * which printed no TEE-IO flag and SlotPowerLimit with three decimals ("75.000W"); the current format is compared after
 * those two differences are taken out.
 */
class LspciRegistersRoundTripTest {
    private static final List<String> LABELS = List.of("Control:", "Status:", "DevCap:", "DevCtl:", "DevSta:",
            "LnkCap:", "LnkSta:");

    static Path shared() {
        for (String p : new String[] {System.getProperty("peerdma.shared"), "../../../shared", "/work/shared"}) {
            if (p != null && Files.isDirectory(Path.of(p, "topologies/real"))) {
                return Path.of(p);
            }
        }
        throw new IllegalStateException("shared/topologies/real not found next to the checkout");
    }

    /** Per device, the register lines of an lspci -vv text (a labelled line and its unlabelled continuations). */
    static Map<String, List<String>> registerLines(String text) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        String bdf = null;
        boolean in = false;
        for (String line : text.split("\n")) {
            if (line.matches("^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7] .*")) {
                String b = line.substring(0, line.indexOf(' '));
                bdf = b.length() == 7 ? "0000:" + b : b;
                in = false;
                continue;
            }
            if (bdf == null || line.isBlank()) {
                continue;
            }
            String t = line.strip();
            boolean labelled = t.matches("^[A-Za-z][A-Za-z0-9]*:.*");
            if (labelled) {
                boolean top = !line.startsWith("\t\t"); // Control/Status of the header, not of a capability
                in = LABELS.stream().anyMatch(t::startsWith)
                        && (top == (t.startsWith("Control:") || t.startsWith("Status:")));
            } else if (t.startsWith("Capabilities:") || !line.startsWith("\t\t\t") && !line.startsWith("        ")) {
                in = false;
            }
            if (in) {
                out.computeIfAbsent(bdf, k -> new ArrayList<>()).add(normalize(t));
            }
        }
        return out;
    }

    /**
     * The differences of older pciutils: no TEE-IO flag, SlotPowerLimit as %.3f, and LnkSta's "(ok)", and its
     * "(downgraded)" on ports that may train below their capability, which link_compare now leaves out (checked
     * apart in LspciFormatterTest).
     */
    static String normalize(String line) {
        return line.replace(" TEE-IO-", "").replace(" TEE-IO+", "").replace(" (ok)", "").replace(" (downgraded)", "").replaceAll("\\s+", " ")
                .replaceAll("SlotPowerLimit ([0-9]+)\\.000W", "SlotPowerLimit $1W")
                .replaceAll("SlotPowerLimit ([0-9]+\\.[0-9]*?)0+W", "SlotPowerLimit $1W");
    }

    @Test
    void everyDevicesRegisterLinesOfTwoRealDumpsComeBackAsTheyWere() throws Exception {
        int compared = 0;
        for (String dump : new String[] {"dell-r730-broadwell-ep-2xp100-nvme.txt"}) {
            String text = Files.readString(shared().resolve("topologies/real").resolve(dump));
            MachineDTO dto = new LspciVerboseImporter().read(TopologySource.ofText(dump, text));
            PciCoreImpl core = new PciCoreImpl();
            PciMachine m = core.load(dto);
            Map<String, List<String>> want = registerLines(text);
            Map<String, List<String>> got = registerLines(new LspciFormatter(m).format("-vv", "-D"));
            assertThat(want).as(dump).isNotEmpty();
            for (Map.Entry<String, List<String>> e : want.entrySet()) {
                assertThat(got.get(e.getKey())).as(dump + " " + e.getKey()).isEqualTo(e.getValue());
                compared += e.getValue().size();
            }
        }
        assertThat(compared).isGreaterThan(250);
    }

    @Test
    void slotPowerLimitsAndSizesAsLspciPrintsThem() {
        assertThat(LspciFormatter.powerLimit(75, 0)).isEqualTo("75W");
        assertThat(LspciFormatter.powerLimit(255, 1)).isEqualTo("25.5W");
        assertThat(LspciFormatter.powerLimit(0xf2, 0)).isEqualTo("300W");
        assertThat(LspciFormatter.powerLimit(0xff, 0)).isEqualTo(">600W");
        assertThat(LspciFormatter.powerLimit(3, 1)).isEqualTo("0.3W");
    }
}
