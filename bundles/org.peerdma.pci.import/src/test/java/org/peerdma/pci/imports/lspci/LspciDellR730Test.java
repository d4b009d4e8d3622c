package org.peerdma.pci.imports.lspci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peerdma.pci.imports.lspci.LspciDumps.device;

import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.peerdma.pci.Acs;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CapabilityDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.peerdma.pci.spi.TopologySource;

/**
 * dell-r730-broadwell-ep-2xp100-nvme.txt: everything after the '#' header is one plain
 * {@code lspci -vvv} (no -nn) of a dual-socket Broadwell-EP PowerEdge.
 */
class LspciDellR730Test {
    private static final String FILE = "dell-r730-broadwell-ep-2xp100-nvme.txt";
    /** grep -cE '^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ' on the file. */
    private static final int DEVICES = 201;
    private static final long K = 1024;
    private static final long M = K * K;
    private static final long G = M * K;

    private static MachineDTO machine;

    @BeforeAll
    static void parse() {
        machine = LspciVerboseParser.parse(LspciDumps.afterHeader(LspciDumps.real(FILE)));
    }

    @Test
    void everyDeviceHeaderIsOneDevice() {
        assertThat(machine.devices).hasSize(DEVICES);
        assertThat(machine.format).isEqualTo(LspciVerboseParser.FORMAT_VVV);
        assertThat(machine.devices).extracting(d -> d.bdf).doesNotHaveDuplicates()
                .allMatch(b -> b.matches("0000:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]"));
        assertThat(machine.notes).anyMatch(n -> n.contains("without -nn"));
    }

    @Test
    void wholeFileWithCommentHeaderGivesTheSameDevices() {
        MachineDTO whole = LspciVerboseParser.parse(LspciDumps.real(FILE));
        assertThat(whole.devices).hasSize(DEVICES);
    }

    @Test
    void linkCapabilityAndStatusOfEveryExpressFunction() {
        // root port 3 of the dump: "LnkCap: Port #7, Speed 8GT/s, Width x4" trained at "Speed 5GT/s (downgraded), Width x1"
        DeviceDTO rp = device(machine, "0000:00:03.0");
        assertThat(rp.linkCapSpeed).isEqualTo("8GT/s");
        assertThat(rp.linkCapWidth).isEqualTo(4);
        assertThat(rp.linkSpeed).isEqualTo("5GT/s");
        assertThat(rp.linkWidth).isEqualTo(1);
        DeviceDTO gpu = device(machine, "0000:04:00.0");
        assertThat(gpu.linkCapSpeed).isEqualTo("8GT/s");
        assertThat(gpu.linkCapWidth).isEqualTo(16);
        // DMI2 at 00:00.0: "LnkCap: Port #0, Speed 5GT/s, Width x4", "LnkSta: Speed unknown (downgraded), Width x0"
        DeviceDTO dmi = device(machine, "0000:00:00.0");
        assertThat(dmi.linkCapSpeed).isEqualTo("5GT/s");
        assertThat(dmi.linkCapWidth).isEqualTo(4);
        assertThat(dmi.linkSpeed).isNull();
        assertThat(dmi.linkWidth).isZero();
        // "LnkCap2: Supported Link Speeds: 2.5-8GT/s" is another register: every function with a LnkCap has both
        assertThat(machine.devices).filteredOn(d -> d.linkSpeed != null)
                .allMatch(d -> d.linkCapSpeed != null && d.linkCapWidth != null);
    }

    @Test
    void teslaP100OnSocket0() {
        DeviceDTO gpu = device(machine, "0000:04:00.0");
        assertThat(gpu.className).isEqualTo("3D controller");
        assertThat(gpu.classCode).isEqualTo(0x030200);
        assertThat(gpu.classCode >> 8).isEqualTo(0x0302);
        assertThat(gpu.vendorName).isEqualTo("NVIDIA Corporation");
        assertThat(gpu.deviceName).isEqualTo("GP100GL [Tesla P100 PCIe 12GB]");
        assertThat(gpu.vendor).as("no -nn: no vendor ID invented").isNull();
        assertThat(gpu.device).isNull();
        assertThat(gpu.subsystemDevice).as("'Subsystem: NVIDIA Corporation Device 11da'").isEqualTo(0x11da);
        assertThat(gpu.subsystemVendor).isNull();
        assertThat(gpu.revision).isEqualTo(0xa1);
        assertThat(gpu.headerType).isZero();
        assertThat(gpu.numaNode).isZero();
        assertThat(gpu.driver).isEqualTo("nvidia");
        assertThat(gpu.portType).isEqualTo("ENDPOINT");
        assertThat(gpu.linkSpeed).isEqualTo("8GT/s");
        assertThat(gpu.linkWidth).isEqualTo(16);
        assertThat(gpu.extendedCapsKnown).isTrue();
        assertThat(gpu.acs).isNull();
        assertBar(gpu, 0, 0x91000000L, 16 * M, false, false);
        assertBar(gpu, 1, 0x3b800000000L, 16 * G, true, true);
        assertBar(gpu, 3, 0x3bc00000000L, 32 * M, true, true);
        assertThat(gpu.bars).hasSize(3);
        assertThat(gpu.capabilities).extracting(c -> c.offset + ":" + c.id + ":" + c.extended + ":" + c.version)
                .containsExactly("96:1:false:0", "104:5:false:0", "120:16:false:0", "256:2:true:1", "600:30:true:1",
                        "296:4:true:1", "1056:1:true:2", "1536:11:true:1", "2304:25:true:1");
    }

    @Test
    void teslaP100OnSocket1() {
        DeviceDTO gpu = device(machine, "0000:82:00.0");
        assertThat(gpu.classCode).isEqualTo(0x030200);
        assertThat(gpu.numaNode).isEqualTo(1);
        assertBar(gpu, 0, 0xc8000000L, 16 * M, false, false);
        assertBar(gpu, 1, 0x3f800000000L, 16 * G, true, true);
        assertBar(gpu, 3, 0x3fc00000000L, 32 * M, true, true);
    }

    @Test
    void nvmeDrivesOnSocket1() {
        for (String bdf : new String[] {"0000:81:00.0", "0000:84:00.0"}) {
            DeviceDTO nvme = device(machine, bdf);
            assertThat(nvme.classCode).as(bdf).isEqualTo(0x010802);
            assertThat(nvme.vendorName).isEqualTo("Intel Corporation");
            assertThat(nvme.deviceName).isEqualTo("PCIe Data Center SSD");
            assertThat(nvme.revision).isEqualTo(1);
            assertThat(nvme.driver).isEqualTo("nvme");
            assertThat(nvme.portType).isEqualTo("ENDPOINT");
            assertThat(nvme.numaNode).isEqualTo(1);
            assertThat(nvme.subsystemDevice).isEqualTo(0x00e9);
            BarDTO b0 = bar(nvme, 0);
            assertThat(b0.size).isEqualTo(16 * K);
            assertThat(b0.mem64).isTrue();
            assertThat(b0.prefetchable).isFalse();
            BarDTO rom = bar(nvme, 6);
            assertThat(rom.size).isEqualTo(64 * K);
            assertThat(rom.disabled).isTrue();
        }
        assertThat(bar(device(machine, "0000:81:00.0"), 0).start).isEqualTo(0xc9400000L);
        assertThat(bar(device(machine, "0000:84:00.0"), 0).start).isEqualTo(0xc9000000L);
    }

    @Test
    void rootPortsCarryTheBusLines() {
        Map<String, String> expected = Map.of("0000:00:01.0", "03-03", "0000:00:02.0", "04-04",
                "0000:00:03.0", "02-02", "0000:00:03.1", "01-01", "0000:80:01.0", "81-81",
                "0000:80:02.0", "82-82", "0000:80:03.0", "83-83", "0000:80:03.2", "84-84",
                "0000:00:1c.7", "07-0b");
        expected.forEach((bdf, range) -> {
            DeviceDTO rp = device(machine, bdf);
            assertThat(String.format("%02x-%02x", rp.secondaryBus, rp.subordinateBus)).as(bdf).isEqualTo(range);
            assertThat(rp.portType).as(bdf).isEqualTo("ROOT_PORT");
            assertThat(rp.headerType).as(bdf).isEqualTo(1);
            assertThat(rp.classCode).as(bdf).isEqualTo(0x060400);
        });
        DeviceDTO gpuPort = device(machine, "0000:00:02.0");
        assertThat(gpuPort.bridgeWindows).as("I/O window is [disabled]").hasSize(2);
        WindowDTO mem = gpuPort.bridgeWindows.get(0);
        assertThat(mem.cpuStart).isEqualTo(0x91000000L);
        assertThat(mem.size).isEqualTo(16 * M);
        assertThat(mem.prefetchable).isFalse();
        WindowDTO pref = gpuPort.bridgeWindows.get(1);
        assertThat(pref.cpuStart).isEqualTo(0x3b800000000L);
        assertThat(pref.size).isEqualTo(16416 * M);
        assertThat(pref.prefetchable).isTrue();
        DeviceDTO nicPort = device(machine, "0000:80:03.0");
        assertThat(nicPort.bridgeWindows).filteredOn(w -> w.io).singleElement()
                .satisfies(w -> assertThat(w.cpuStart).isEqualTo(0x8000L))
                .satisfies(w -> assertThat(w.size).isEqualTo(4 * K));
        assertThat(device(machine, "0000:00:03.2").bridgeWindows).as("all three windows disabled").isEmpty();
    }

    @Test
    void portTypesOfTheWholeMachine() {
        Map<String, Long> types = machine.devices.stream()
                .collect(Collectors.groupingBy(d -> String.valueOf(d.portType), Collectors.counting()));
        assertThat(types).containsOnly(Map.entry("CONVENTIONAL", 130L), Map.entry("RC_INTEGRATED_ENDPOINT", 45L),
                Map.entry("ROOT_PORT", 12L), Map.entry("ENDPOINT", 11L), Map.entry("UPSTREAM_PORT", 1L),
                Map.entry("DOWNSTREAM_PORT", 1L), Map.entry("PCIE_TO_PCI_BRIDGE", 1L));
        assertThat(device(machine, "0000:07:00.0").portType).isEqualTo("UPSTREAM_PORT");
        assertThat(device(machine, "0000:08:00.0").portType).isEqualTo("DOWNSTREAM_PORT");
        assertThat(device(machine, "0000:09:00.0").portType).isEqualTo("PCIE_TO_PCI_BRIDGE");
        assertThat(device(machine, "0000:00:00.0").portType).as("DMI2 host bridge says Root Port")
                .isEqualTo("ROOT_PORT");
    }

    @Test
    void extendedCapabilitiesKnownOnlyWhenListed() {
        // 122 functions print 'Status: Cap-' (no capability list: conventional), 8 list only
        // standard capabilities and no Express: both count as known. 31 of the 71 Express
        // functions list extended capabilities; the other 40 do not, so ACS is unknown there.
        assertThat(machine.devices).filteredOn(d -> Boolean.TRUE.equals(d.extendedCapsKnown)).hasSize(161);
        assertThat(machine.devices).filteredOn(d -> Boolean.FALSE.equals(d.extendedCapsKnown)).hasSize(40)
                .allMatch(d -> d.portType != null && !d.portType.equals("CONVENTIONAL"))
                .allMatch(d -> d.notes.stream().anyMatch(n -> n.contains("no extended capability")));
        DeviceDTO capMinus = device(machine, "0000:7f:08.0");
        assertThat(capMinus.capabilities).isEmpty();
        assertThat(capMinus.portType).isEqualTo("CONVENTIONAL");
    }

    @Test
    void nineAcsCapabilitiesAllWithControlZero() {
        assertThat(machine.devices).filteredOn(d -> d.acs != null).hasSize(9)
                .allSatisfy(d -> {
                    assertThat(d.acs.offset).isEqualTo(0x110);
                    assertThat(d.acs.ctrl).as(d.bdf).isZero();
                    assertThat(d.acs.cap).as(d.bdf).isEqualTo(Acs.SV | Acs.TB | Acs.RR | Acs.CR | Acs.UF);
                    assertThat(d.portType).isEqualTo("ROOT_PORT");
                });
        CapabilityDTO acsCap = device(machine, "0000:00:01.0").capabilities.stream()
                .filter(c -> c.offset == 0x110).findFirst().orElseThrow();
        assertThat(acsCap.id).isEqualTo(Acs.EXT_CAP_ID);
        assertThat(acsCap.extended).isTrue();
    }

    @Test
    void ssvidCapabilityGivesBridgeSubsystem() {
        // a bridge has no level-1 Subsystem line; lspci prints "Capabilities: [40] Subsystem:
        // Intel Corporation Device 0000" (PCI_CAP_ID_SSVID) instead
        DeviceDTO rp = device(machine, "0000:00:01.0");
        assertThat(rp.capabilities).anyMatch(c -> c.id == 0x0d && c.offset == 0x40 && !c.extended);
        assertThat(rp.subsystemDevice).isZero();
        assertThat(rp.subsystemVendor).isNull();
    }

    @Test
    void unassignedClassWithBracketIsNotMinusNn() {
        DeviceDTO spsr = device(machine, "0000:00:11.0");
        assertThat(spsr.className).isEqualTo("Unassigned class");
        assertThat(spsr.classCode).isEqualTo(0xff0000);
        assertThat(spsr.vendorName).isEqualTo("Intel Corporation");
        assertThat(spsr.deviceName).isEqualTo("C610/X99 series chipset SPSR");
        assertThat(spsr.vendor).isNull();
    }

    @Test
    void probeIsHigh() {
        TopologySource src = LspciDumps.afterHeader(LspciDumps.real(FILE));
        assertThat(LspciVerboseParser.probe(src)).isGreaterThanOrEqualTo(90);
    }

    static BarDTO bar(DeviceDTO d, int index) {
        return d.bars.stream().filter(b -> b.index == index).findFirst()
                .orElseThrow(() -> new AssertionError(d.bdf + " has no BAR " + index));
    }

    static void assertBar(DeviceDTO d, int index, long start, long size, boolean pref, boolean mem64) {
        BarDTO b = bar(d, index);
        assertThat(b.start).as(d.bdf + " BAR" + index).isEqualTo(start);
        assertThat(b.size).as(d.bdf + " BAR" + index).isEqualTo(size);
        assertThat(b.prefetchable).as(d.bdf + " BAR" + index + " prefetchable").isEqualTo(pref);
        assertThat(b.mem64).as(d.bdf + " BAR" + index + " 64-bit").isEqualTo(mem64);
        assertThat(b.io).isFalse();
        assertThat(b.disabled).isFalse();
    }
}
