package org.peerdma.pci.imports.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.pci.Acs;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.peerdma.pci.imports.sysfs.FakeSysfs.Cfg;
import org.peerdma.pci.imports.sysfs.FakeSysfs.Fn;
import org.peerdma.pci.spi.TopologySource;

class SysfsParserTest {
    private static final long MEM = 0x200;
    private static final long IO = 0x100;
    private static final long PREF = 0x2000;
    private static final long MEM64 = 0x100000;
    private static final long UNSET = 0x20000000;
    private static final long G = 1L << 30;
    private static final String HB = "pci0000:00";
    private static final String RP = "0000:00:01.0";
    private static final String UP = "0000:01:00.0";
    private static final String DN1 = "0000:02:08.0";
    private static final String DN2 = "0000:02:10.0";

    @TempDir
    Path tmp;

    /**
     * A Broadwell-like socket: root port 00:01.0 - PEX 8747 switch (01:00.0 up, 02:08.0 and
     * 02:10.0 down) - NVMe 03:00.0 (+ a VF 03:00.1) and a P100 04:00.0; plus the DMI2 host bridge,
     * a 256-byte-config RCiEP and an ISA bridge whose config was copied without root (64 bytes).
     *
     * @param iov whether the kernel had CONFIG_PCI_IOV (13/17 resource lines instead of 7/11)
     */
    static List<Fn> machine(boolean iov) {
        int fnLines = iov ? 13 : 7;
        List<Fn> fns = new ArrayList<>();

        Fn host = new Fn("0000:00:00.0", HB).ids(0x8086, 0x6f00, 0x060000);
        host.numa = "0";
        host.config = new Cfg(4096).header(0x8086, 0x6f00, 0x060000, 1, 0x00, 0).b;
        host.padRes(fnLines);
        fns.add(host);

        Fn rp = new Fn(RP, HB).ids(0x8086, 0x6f02, 0x060400);
        rp.numa = "0";
        rp.driver = "pcieport";
        rp.secondary = "1";
        rp.subordinate = "4";
        rp.config = new Cfg(4096).header(0x8086, 0x6f02, 0x060400, 1, 0x81, 0x40).buses(0, 1, 4)
                .cap(0x40, 0x01, 0x90).express(0x90, 0xa0, 4, 3, 8).linkCap(0x90, 3, 16).cap(0xa0, 0x0d, 0).u16(0xa4, 0x1028)
                .u16(0xa6, 0x0600).ext(0x100, 0x01, 2, 0x148).acs(0x148, 0, 0x1f, Acs.RR | Acs.CR)
                .u16(0x04, 0x0547).u16(0x06, 0x0010).u32(0x94, 0x00008021L).u16(0x98, 0x2027).u16(0x9a, 0x0010).b;
        bridgeWindows(rp.padRes(fnLines), 0x2000, 0x2fff, 0xfa000000L, 0xfbffffffL);
        fns.add(rp);

        Fn up = new Fn(UP, HB, RP).ids(0x10b5, 0x8747, 0x060400);
        up.driver = "pcieport";
        up.revision = "0xca";
        up.config = new Cfg(4096).header(0x10b5, 0x8747, 0x060400, 0xca, 0x01, 0x68).buses(1, 2, 4)
                .express(0x68, 0, 5, 3, 16).ext(0x100, 0x01, 2, 0).b;
        bridgeWindows(up.padRes(fnLines), 0, 0, 0xfa000000L, 0xfbffffffL);
        fns.add(up);

        Fn dn1 = new Fn(DN1, HB, RP, UP).ids(0x10b5, 0x8747, 0x060400);
        dn1.revision = "0xca";
        dn1.config = new Cfg(4096).header(0x10b5, 0x8747, 0x060400, 0xca, 0x01, 0x68).buses(2, 3, 3)
                .express(0x68, 0, 6, 3, 4).acs(0x100, 0, 0x5f, 0).b;
        bridgeWindows(dn1.padRes(fnLines), 0, 0, 0xfb000000L, 0xfb0fffffL);
        fns.add(dn1);

        Fn dn2 = new Fn(DN2, HB, RP, UP).ids(0x10b5, 0x8747, 0x060400);
        dn2.revision = "0xca";
        dn2.config = new Cfg(4096).header(0x10b5, 0x8747, 0x060400, 0xca, 0x01, 0x68).buses(2, 4, 4)
                .express(0x68, 0, 6, 3, 16).acs(0x100, 0, 0x5f, Acs.SV | Acs.RR | Acs.CR | Acs.UF).b;
        bridgeWindows(dn2.padRes(fnLines), 0, 0, 0xfa000000L, 0xfaffffffL);
        fns.add(dn2);

        Fn nvme = new Fn("0000:03:00.0", HB, RP, UP, DN1).ids(0x144d, 0xa808, 0x010802);
        nvme.numa = "0";
        nvme.revision = "0x00";
        nvme.driver = "nvme";
        nvme.config = new Cfg(4096).header(0x144d, 0xa808, 0x010802, 0, 0x80, 0x70).subsystem(0x144d, 0xa801)
                .express(0x70, 0, 0, 3, 4).ext(0x100, 0x01, 2, 0x150).ext(0x150, 0x10, 1, 0).b;
        nvme.res(0xfb000000L, 0xfb003fffL, 0x140204).padRes(fnLines);
        fns.add(nvme);

        Fn vf = new Fn("0000:03:00.1", HB, RP, UP, DN1).ids(0x144d, 0xa824, 0x010802);
        vf.physfn = "0000:03:00.0";
        vf.revision = "0x00";
        vf.config = new Cfg(4096).header(0xffff, 0xffff, 0x010802, 0, 0x00, 0x70).express(0x70, 0, 0, 3, 4).b;
        vf.res(0xfb004000L, 0xfb007fffL, 0x140204).padRes(fnLines);
        fns.add(vf);

        Fn gpu = new Fn("0000:04:00.0", HB, RP, UP, DN2).ids(0x10de, 0x15f7, 0x030200);
        gpu.numa = "0";
        gpu.revision = "0xa1";
        gpu.driver = "nvidia";
        gpu.config = new Cfg(4096).header(0x10de, 0x15f7, 0x030200, 0xa1, 0x00, 0x60).subsystem(0x10de, 0x118f)
                .cap(0x60, 0x01, 0x78).express(0x78, 0, 0, 3, 16).ext(0x100, 0x02, 1, 0x250).ext(0x250, 0x0b, 1, 0).b;
        gpu.res(0xfa000000L, 0xfaffffffL, 0x40200).res(0x38000000000L, 0x38000000000L + 32 * G - 1, 0x14220c)
                .res(0, 0, 0).res(0, 0, 0).res(0, 0, 0).res(0, 0, 0).res(0, 0x7ffff, UNSET | 0x4e200).padRes(fnLines);
        fns.add(gpu);

        Fn rciep = new Fn("0000:00:05.0", HB).ids(0x8086, 0x6f28, 0x088000);
        rciep.config = new Cfg(256).header(0x8086, 0x6f28, 0x088000, 1, 0x80, 0x40).express(0x40, 0, 9, 0, 0).b;
        rciep.padRes(fnLines);
        fns.add(rciep);

        Fn isa = new Fn("0000:00:1f.0", HB).ids(0x8086, 0x8d44, 0x060100);
        isa.revision = "0x05";
        isa.config = new Cfg(64).header(0x8086, 0x8d44, 0x060100, 5, 0x80, 0xe0).b;
        isa.padRes(fnLines);
        fns.add(isa);
        return fns;
    }

    /** The four bridge window lines: I/O (when ioEnd != 0), memory, prefetchable 64-bit, unused. */
    private static void bridgeWindows(Fn f, long io, long ioEnd, long mem, long memEnd) {
        f.res(io, ioEnd, ioEnd == 0 ? 0 : IO).res(mem, memEnd, MEM);
        if (f.bdf.equals(RP) || f.bdf.equals(UP) || f.bdf.equals(DN2)) {
            f.res(0x38000000000L, 0x387ffffffffL, MEM | PREF | MEM64);
        } else {
            f.res(0, 0, 0);
        }
        f.res(0, 0, 0);
    }

    private static final List<String> CPUINFO = List.of("processor\t: 0", "vendor_id\t: GenuineIntel",
            "cpu family\t: 6", "model\t\t: 79", "model name\t: Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz",
            "physical id\t: 0", "", "processor\t: 1", "vendor_id\t: GenuineIntel", "cpu family\t: 6",
            "model\t\t: 79", "physical id\t: 1", "");

    private Path linkedTree() throws IOException {
        Path root = tmp.resolve("sys");
        FakeSysfs.writeLinked(root, machine(true));
        Files.createDirectories(root.resolve("devices/pci0000:80"));
        Files.write(root.resolve("cpuinfo"), CPUINFO);
        return root;
    }

    private static DeviceDTO dev(MachineDTO m, String bdf) {
        return m.devices.stream().filter(d -> d.bdf.equals(bdf)).findFirst().orElseThrow(() -> new AssertionError(bdf));
    }

    private static BarDTO bar(DeviceDTO d, int index) {
        return d.bars.stream().filter(b -> b.index == index).findFirst().orElseThrow(() -> new AssertionError(index));
    }

    @Test
    void linkedSysfsRoot() throws IOException {
        Path root = linkedTree();
        TopologySource src = TopologySource.ofDirectory(root);
        assertThat(SysfsParser.probe(src)).isEqualTo(100);
        MachineDTO m = SysfsParser.parse(src);
        assertThat(m.format).isEqualTo("sysfs");
        assertThat(m.name).isEqualTo(root.toString());
        assertThat(m.devices).extracting(d -> d.bdf).containsExactly("0000:00:00.0", RP, "0000:00:05.0",
                "0000:00:1f.0", UP, DN1, DN2, "0000:03:00.0", "0000:03:00.1", "0000:04:00.0");
        assertThat(m.hostBridges).extracting(h -> h.name).containsExactly("pci0000:00", "pci0000:80");
        HostBridgeDTO hb = m.hostBridges.get(0);
        assertThat(hb.domain).isZero();
        assertThat(hb.bus).isZero();
        assertThat(hb.busEnd).isNull();
        assertThat(m.hostBridges.get(1).bus).isEqualTo(0x80);
        assertThat(m.cpu.sockets).isEqualTo(2);
        assertThat(m.cpu.model).isEqualTo(79);
        assertThat(m.arch).isEqualTo("x86_64");
        checkCommon(m);

        DeviceDTO vf = dev(m, "0000:03:00.1");
        assertThat(vf.physfn).isEqualTo("0000:03:00.0");
        assertThat(vf.vendor).isEqualTo(0x144d);
        assertThat(vf.device).isEqualTo(0xa824);
        assertThat(vf.notes).noneMatch(n -> n.contains("config space says"));
        assertThat(dev(m, RP).driver).isEqualTo("pcieport");
        // 17 resource lines (CONFIG_PCI_IOV): the windows are the last four.
        assertThat(dev(m, RP).bridgeWindows).hasSize(3);
    }

    /** What both layouts must recover. */
    private static void checkCommon(MachineDTO m) {
        assertThat(m.devices).allSatisfy(d -> assertThat(d.notes).noneMatch(n -> n.contains("config space says")));
        DeviceDTO host = dev(m, "0000:00:00.0");
        assertThat(host.classCode).isEqualTo(0x060000);
        assertThat(host.deviceName).contains("DMI2");
        assertThat(host.extendedCapsKnown).isTrue();
        assertThat(host.acs).isNull();

        DeviceDTO rp = dev(m, RP);
        assertThat(rp.portType).isEqualTo("ROOT_PORT");
        assertThat(rp.headerType).isEqualTo(1);
        assertThat(rp.multifunction).isTrue();
        assertThat(rp.secondaryBus).isEqualTo(1);
        assertThat(rp.subordinateBus).isEqualTo(4);
        assertThat(rp.subsystemVendor).isEqualTo(0x1028);
        assertThat(rp.extendedCapsKnown).isTrue();
        assertThat(rp.acs.offset).isEqualTo(0x148);
        assertThat(rp.acs.cap).isEqualTo(0x1f);
        assertThat(rp.acs.ctrl).isEqualTo(Acs.RR | Acs.CR);
        assertThat(rp.capabilities).extracting(c -> c.extended + ":" + Integer.toHexString(c.id) + "@"
                + Integer.toHexString(c.offset)).containsExactly("false:1@40", "false:10@90", "false:d@a0",
                        "true:1@100", "true:d@148");
        assertThat(rp.linkSpeed).isEqualTo("8GT/s");
        assertThat(rp.linkWidth).isEqualTo(8);
        // LnkCap at Express + 0x0c: an x16 port trained at x8
        assertThat(rp.linkCapSpeed).isEqualTo("8GT/s");
        assertThat(rp.linkCapWidth).isEqualTo(16);
        // Command/Status at 0x04/0x06, DevCap/DevCtl/DevSta at Express + 0x04/0x08/0x0a
        assertThat(rp.command).isEqualTo(0x0547);
        assertThat(rp.status).isEqualTo(0x0010);
        assertThat(rp.devCap).isEqualTo(0x8021);
        assertThat(rp.devCtl).isEqualTo(0x2027);
        assertThat(rp.devSta).isEqualTo(0x0010);
        assertThat(rp.className).isEqualTo("PCI bridge");
        WindowDTO io = rp.bridgeWindows.get(0);
        assertThat(io.io).isTrue();
        assertThat(io.cpuStart).isEqualTo(0x2000);
        assertThat(io.size).isEqualTo(0x1000);
        assertThat(rp.bridgeWindows.get(1).size).isEqualTo(32L << 20);
        WindowDTO pref = rp.bridgeWindows.get(2);
        assertThat(pref.prefetchable).isTrue();
        assertThat(pref.size).isEqualTo(32 * G);

        DeviceDTO up = dev(m, UP);
        assertThat(up.portType).isEqualTo("UPSTREAM_PORT");
        assertThat(up.secondaryBus).isEqualTo(2);
        assertThat(up.subordinateBus).isEqualTo(4);
        assertThat(up.acs).isNull();
        assertThat(up.extendedCapsKnown).isTrue();
        assertThat(up.multifunction).isFalse();
        DeviceDTO dn1 = dev(m, DN1);
        assertThat(dn1.portType).isEqualTo("DOWNSTREAM_PORT");
        assertThat(dn1.secondaryBus).isEqualTo(3);
        assertThat(dn1.acs.ctrl).isZero();
        assertThat(dn1.acs.cap).isEqualTo(0x5f);
        assertThat(dev(m, DN2).acs.ctrl).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        assertThat(dev(m, DN2).bridgeWindows).extracting(w -> w.prefetchable).containsExactly(false, true);

        DeviceDTO nvme = dev(m, "0000:03:00.0");
        assertThat(nvme.portType).isEqualTo("ENDPOINT");
        assertThat(nvme.classCode).isEqualTo(0x010802);
        assertThat(nvme.subsystemVendor).isEqualTo(0x144d);
        assertThat(nvme.subsystemDevice).isEqualTo(0xa801);
        assertThat(nvme.numaNode).isZero();
        assertThat(nvme.driver).isEqualTo("nvme");
        assertThat(nvme.linkWidth).isEqualTo(4);
        assertThat(nvme.bars).hasSize(1);
        BarDTO b0 = nvme.bars.get(0);
        assertThat(b0.index).isZero();
        assertThat(b0.start).isEqualTo(0xfb000000L);
        assertThat(b0.size).isEqualTo(0x4000);
        assertThat(b0.mem64).isTrue();
        assertThat(b0.prefetchable).isFalse();
        assertThat(b0.io).isFalse();
        assertThat(nvme.capabilities).filteredOn(c -> c.extended).extracting(c -> c.id).containsExactly(0x01, 0x10);
        assertThat(nvme.acs).isNull();
        assertThat(nvme.extendedCapsKnown).isTrue();

        DeviceDTO gpu = dev(m, "0000:04:00.0");
        assertThat(gpu.vendorName).isEqualTo("NVIDIA Corporation");
        assertThat(gpu.bars).extracting(b -> b.index).containsExactly(0, 1, 6);
        assertThat(bar(gpu, 0).size).isEqualTo(16L << 20);
        assertThat(bar(gpu, 0).mem64).isFalse();
        BarDTO big = bar(gpu, 1);
        assertThat(big.start).isEqualTo(0x38000000000L);
        assertThat(big.size).isEqualTo(32 * G);
        assertThat(big.prefetchable).isTrue();
        assertThat(big.mem64).isTrue();
        assertThat(big.disabled).isFalse();
        BarDTO rom = bar(gpu, 6);
        assertThat(rom.start).isNull();
        assertThat(rom.disabled).isTrue();
        assertThat(rom.size).isEqualTo(512 * 1024);

        DeviceDTO rciep = dev(m, "0000:00:05.0");
        assertThat(rciep.portType).isEqualTo("RC_INTEGRATED_ENDPOINT");
        assertThat(rciep.extendedCapsKnown).isFalse();
        assertThat(rciep.notes).anyMatch(n -> n.contains("config space readable only to 256 bytes")
                && n.contains("extended capabilities and ACS unknown"));

        DeviceDTO isa = dev(m, "0000:00:1f.0");
        assertThat(isa.portType).isNull();
        assertThat(isa.capabilities).isEmpty();
        assertThat(isa.headerType).isZero();
        assertThat(isa.multifunction).isTrue();
        assertThat(isa.revision).isEqualTo(5);
        assertThat(isa.extendedCapsKnown).isFalse();
        assertThat(isa.notes).anyMatch(n -> n.contains("64 bytes (not root)") && n.contains("Express port type"));

        assertThat(m.notes).anyMatch(n -> n.startsWith("2 of 10 devices") && n.contains("0000:00:05.0")
                && n.contains("0000:00:1f.0"));
        assertThat(m.cpu.vendor).isEqualTo("GenuineIntel");
        assertThat(m.cpu.family).isEqualTo(6);
        assertThat(m.cpu.modelName).contains("E5-2690 v4");
    }

    @Test
    void busPciDevicesListingGivenDirectly() throws IOException {
        Path root = linkedTree();
        TopologySource src = TopologySource.ofDirectory(root.resolve("bus/pci/devices"));
        assertThat(SysfsParser.probe(src)).isEqualTo(90);
        MachineDTO m = SysfsParser.parse(src);
        assertThat(m.devices).hasSize(10);
        assertThat(m.hostBridges).extracting(h -> h.name).containsExactly("pci0000:00", "pci0000:80");
        assertThat(dev(m, DN2).acs.ctrl).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        // No cpuinfo beside the listing.
        assertThat(m.cpu).isNull();
        assertThat(m.notes).anyMatch(n -> n.contains("CPU unknown"));
    }

    @Test
    void deviceTreeLayouts() throws IOException {
        Path root = linkedTree();
        for (Path dir : List.of(root.resolve("devices"), root.resolve("devices/pci0000:00"))) {
            TopologySource src = TopologySource.ofDirectory(dir);
            assertThat(SysfsParser.probe(src)).isEqualTo(80);
            MachineDTO m = SysfsParser.parse(src);
            assertThat(m.devices).hasSize(10);
            assertThat(dev(m, "0000:04:00.0").bars).hasSize(3);
            assertThat(m.hostBridges.get(0).name).isEqualTo("pci0000:00");
        }
        assertThat(SysfsParser.parse(TopologySource.ofDirectory(root.resolve("devices"))).hostBridges).hasSize(2);
    }

    @Test
    void flatCopyInfersHostBridgesFromBusRanges() throws IOException {
        Path dir = tmp.resolve("pci-devices-copy");
        FakeSysfs.writeFlat(dir, machine(false));
        Files.write(dir.resolve("cpuinfo"), CPUINFO);
        TopologySource src = TopologySource.ofDirectory(dir);
        assertThat(SysfsParser.probe(src)).isEqualTo(90);
        MachineDTO m = SysfsParser.parse(src);
        assertThat(m.devices).hasSize(10);
        checkCommon(m);
        assertThat(m.hostBridges).extracting(h -> h.name).containsExactly("pci0000:00");
        assertThat(m.hostBridges.get(0).numaNode).isNull(); // 00:05.0 and 00:1f.0 say -1
        assertThat(m.notes).anyMatch(n -> n.contains("pci0000:00 inferred from root buses"));
        // Links are gone in the copy: uevent lines stand in.
        assertThat(dev(m, "0000:03:00.0").driver).isEqualTo("nvme");
        assertThat(dev(m, "0000:03:00.1").physfn).isEqualTo("0000:03:00.0");
        // 11 resource lines: windows at lines 7..10.
        assertThat(dev(m, RP).bridgeWindows).hasSize(3);
    }

    @Test
    void nestingGivesBusNumbersMissingFromTheBridge() throws IOException {
        Path root = tmp.resolve("sys");
        Fn rp = new Fn(RP, HB).ids(0x8086, 0x6f02, 0x060400);
        rp.padRes(11);
        Fn ep = new Fn("0000:05:00.0", HB, RP).ids(0x15b3, 0x1017, 0x020000);
        ep.numa = "1";
        ep.padRes(7);
        FakeSysfs.writeLinked(root, List.of(rp, ep));
        MachineDTO m = SysfsParser.parse(TopologySource.ofDirectory(root));
        DeviceDTO b = dev(m, RP);
        assertThat(b.headerType).isEqualTo(1);
        assertThat(b.secondaryBus).isEqualTo(5);
        assertThat(b.subordinateBus).isEqualTo(5);
        assertThat(b.notes).anyMatch(n -> n.contains("secondary bus inferred"));
        assertThat(b.notes).anyMatch(n -> n.contains("no config file"));
        assertThat(b.extendedCapsKnown).isNull();
        assertThat(m.hostBridges).singleElement().satisfies(h -> assertThat(h.numaNode).isNull());
        assertThat(dev(m, "0000:05:00.0").numaNode).isEqualTo(1);
    }

    @Test
    void linkAttributesGiveTheLinkWhenThereIsNoConfigFile() throws IOException {
        // an unprivileged copy: no config, but the link attributes pci-sysfs.c prints ("16.0 GT/s PCIe")
        Path dir = tmp.resolve("copy");
        Fn f = new Fn("0000:41:00.0").ids(0x10de, 0x2330, 0x030200);
        f.attrs.put("current_link_speed", "2.5 GT/s PCIe");
        f.attrs.put("current_link_width", "16");
        f.attrs.put("max_link_speed", "32.0 GT/s PCIe");
        f.attrs.put("max_link_width", "16");
        f.padRes(7);
        FakeSysfs.writeFlat(dir, List.of(f));
        DeviceDTO d = SysfsParser.parse(TopologySource.ofDirectory(dir)).devices.get(0);
        assertThat(d.linkSpeed).isEqualTo("2.5GT/s");
        assertThat(d.linkWidth).isEqualTo(16);
        assertThat(d.linkCapSpeed).isEqualTo("32GT/s");
        assertThat(d.linkCapWidth).isEqualTo(16);
    }

    @Test
    void configDisagreeingWithClassFileIsNoted() throws IOException {
        Path dir = tmp.resolve("copy");
        Fn f = new Fn("0000:00:02.0").ids(0x8086, 0x1234, 0x030000);
        f.config = new Cfg(256).header(0x8086, 0x1234, 0x038000, 1, 0, 0).b;
        f.padRes(7);
        FakeSysfs.writeFlat(dir, List.of(f));
        DeviceDTO d = SysfsParser.parse(TopologySource.ofDirectory(dir)).devices.get(0);
        assertThat(d.classCode).isEqualTo(0x030000);
        assertThat(d.notes).anyMatch(n -> n.contains("class file says 030000 but config space says 038000"));
        // Conventional PCI (no capability list): 256 bytes is the whole config space.
        assertThat(d.portType).isEqualTo("CONVENTIONAL");
        assertThat(d.extendedCapsKnown).isTrue();
    }

    @Test
    void capabilityLoopsStop() throws IOException {
        Path dir = tmp.resolve("copy");
        Fn f = new Fn("0000:00:03.0").ids(0x8086, 0x6f03, 0x060400);
        f.config = new Cfg(4096).header(0x8086, 0x6f03, 0x060400, 1, 1, 0x40).cap(0x40, 0x01, 0x50)
                .cap(0x50, 0x05, 0x40).ext(0x100, 0x01, 2, 0x140).ext(0x140, 0x02, 1, 0x100).b;
        f.padRes(11);
        FakeSysfs.writeFlat(dir, List.of(f));
        DeviceDTO d = SysfsParser.parse(TopologySource.ofDirectory(dir)).devices.get(0);
        assertThat(d.capabilities).hasSize(4);
        assertThat(d.notes).anyMatch(n -> n.startsWith("capability list loops back to 0x40"));
        assertThat(d.notes).anyMatch(n -> n.startsWith("extended capability list loops back to 0x100"));
        assertThat(d.portType).isEqualTo("CONVENTIONAL");
    }

    @Test
    void malformedResourceLineNamesFileAndLine() throws IOException {
        Path dir = tmp.resolve("copy");
        Fn f = new Fn("0000:00:03.0").ids(0x8086, 0x6f03, 0x060400);
        f.res(0, 0, 0).resource.add("0x00000000fb000000 0x00000000fb003fff");
        f.padRes(7);
        FakeSysfs.writeFlat(dir, List.of(f));
        Path file = dir.resolve("0000:00:03.0/resource");
        assertThatThrownBy(() -> SysfsParser.parse(TopologySource.ofDirectory(dir)))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.file()).isEqualTo(file.toString());
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("three hex numbers");
                });
    }

    @Test
    void garbageVendorFileNamesTheFile() throws IOException {
        Path dir = tmp.resolve("copy");
        Fn f = new Fn("0000:00:03.0").ids(0x8086, 0x6f03, 0x060400);
        f.vendor = "Intel";
        f.padRes(7);
        FakeSysfs.writeFlat(dir, List.of(f));
        assertThatThrownBy(() -> SysfsParser.parse(TopologySource.ofDirectory(dir)))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> {
                    assertThat(e.file()).isEqualTo(dir.resolve("0000:00:03.0/vendor").toString());
                    assertThat(e.line()).isEqualTo(1);
                    assertThat(e.getMessage()).contains("'Intel'");
                });
    }

    @Test
    void unreadableFilesBecomeNotes() throws IOException {
        Path dir = tmp.resolve("copy");
        Fn f = new Fn("0000:00:03.0").ids(0x8086, 0x6f03, 0x060400);
        FakeSysfs.writeFlat(dir, List.of(f));
        // A directory where a file should be cannot be read as one.
        Files.createDirectories(dir.resolve("0000:00:03.0/resource"));
        Files.createDirectories(dir.resolve("0000:00:03.0/config"));
        DeviceDTO d = SysfsParser.parse(TopologySource.ofDirectory(dir)).devices.get(0);
        assertThat(d.notes).anyMatch(n -> n.startsWith("resource unreadable"));
        assertThat(d.notes).anyMatch(n -> n.startsWith("no config file"));
        assertThat(d.bars).isEmpty();
        assertThat(d.vendor).isEqualTo(0x8086);
        assertThat(d.headerType).isEqualTo(1);
    }

    @Test
    void duplicateFunctionAndNonSysfsInputAreErrors() throws IOException {
        Path devs = tmp.resolve("devices");
        for (String h : List.of("pci0000:00", "pci0000:01")) {
            Fn f = new Fn(RP, h).ids(0x8086, 0x6f02, 0x060400);
            FakeSysfs.write(Files.createDirectories(devs.resolve(h).resolve(RP)), "vendor", f.vendor);
        }
        assertThatThrownBy(() -> SysfsParser.parse(TopologySource.ofDirectory(devs)))
                .isInstanceOf(TopologyFormatException.class).hasMessageContaining(RP + " appears twice");

        Path empty = Files.createDirectories(tmp.resolve("nothing"));
        TopologySource none = TopologySource.ofDirectory(empty);
        assertThat(SysfsParser.probe(none)).isZero();
        assertThatThrownBy(() -> SysfsParser.parse(none)).isInstanceOf(TopologyFormatException.class)
                .hasMessageContaining("not a sysfs tree").hasMessageContaining(empty + ": ");
        TopologySource text = TopologySource.ofText("lspci.txt", "00:00.0 Host bridge: x");
        assertThat(SysfsParser.probe(text)).isZero();
        assertThatThrownBy(() -> SysfsParser.parse(text)).isInstanceOf(TopologyFormatException.class);
    }

    @Test
    void danglingListingIsAnError() throws IOException {
        Path list = Files.createDirectories(tmp.resolve("devices-only"));
        Files.createSymbolicLink(list.resolve(RP), Path.of("../../../devices/pci0000:00/" + RP));
        assertThatThrownBy(() -> SysfsParser.parse(TopologySource.ofDirectory(list)))
                .isInstanceOf(TopologyFormatException.class).hasMessageContaining("dangling");
    }

    @Test
    void cpuinfo() {
        CpuDTO c = SysfsParser.parseCpuinfo(CPUINFO);
        assertThat(c.vendor).isEqualTo("GenuineIntel");
        assertThat(c.family).isEqualTo(6);
        assertThat(c.model).isEqualTo(79);
        assertThat(c.sockets).isEqualTo(2);
        assertThat(SysfsParser.parseCpuinfo(List.of("processor : 0", "vendor_id : AuthenticAMD")).sockets).isNull();
        assertThatThrownBy(() -> SysfsParser.parseCpuinfo(List.of("processor : 0", "cpu family : six")))
                .isInstanceOfSatisfying(TopologyFormatException.class, e -> assertThat(e.line()).isEqualTo(2));
    }

    @Test
    void liveSysfs() throws IOException {
        Path list = Path.of("/sys/bus/pci/devices");
        assumeThat(Files.isDirectory(list)).as("live /sys/bus/pci/devices").isTrue();
        long count;
        try (Stream<Path> s = Files.list(list)) {
            count = s.count();
        }
        assumeThat(count).as("PCI functions on this machine").isPositive();
        MachineDTO m = SysfsParser.parse(TopologySource.ofDirectory(Path.of("/sys")));
        assertThat(m.devices).hasSize((int) count);
        assertThat(m.hostBridges).isNotEmpty();
        assertThat(m.devices).allSatisfy(d -> {
            assertThat(d.vendor).isNotNull();
            assertThat(d.classCode).isNotNull();
        });
        assertThat(m.name).isNotEqualTo("/sys");
        assertThat(m.cpu).isNotNull();
        assertThat(m.cpu.vendor).isNotBlank();
        assertThat(SysfsParser.parse(TopologySource.ofDirectory(list)).devices).hasSize((int) count);
    }
}
