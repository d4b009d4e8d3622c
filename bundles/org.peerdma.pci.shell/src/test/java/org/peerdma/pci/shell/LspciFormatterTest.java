package org.peerdma.pci.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.ShellTestCores;

class LspciFormatterTest {
    private static final String PEX = Machines.PLX + " " + Machines.PEX;
    private PciCore core;
    private LspciFormatter f;

    @BeforeEach
    void load() {
        core = ShellTestCores.core("");
        core.load(Machines.small());
        f = new LspciFormatter(core.machine());
    }

    private LspciFormatter withDetails() {
        Map<Bdf, DeviceDTO> m = new HashMap<>();
        for (DeviceDTO d : core.snapshot().devices) {
            m.put(Bdf.parse(d.bdf), d);
        }
        return new LspciFormatter(core.machine(), m);
    }

    @Test
    void defaultListing() {
        assertThat(f.format()).isEqualTo(""
                + "00:00.0 Host bridge: Intel Corporation Sky Lake-E DMI3 Registers (rev 04)\n"
                + "00:01.0 PCI bridge: Intel Corporation Device 2030 (rev 04)\n"
                + "01:00.0 PCI bridge: " + PEX + " (rev ca)\n"
                + "02:08.0 PCI bridge: " + PEX + " (rev ca)\n"
                + "02:10.0 PCI bridge: " + PEX + " (rev ca)\n"
                + "03:00.0 3D controller: NVIDIA Corporation GV100GL [Tesla V100 PCIe 32GB] (rev a1)\n"
                + "04:00.0 Non-Volatile memory controller: Samsung Electronics Co Ltd NVMe SSD Controller "
                + "SM981/PM981/PM983\n"
                + "80:02.0 PCI bridge: Intel Corporation Device 2032 (rev 04)\n"
                + "80:05.0 Generic system peripheral [08ff]: Device 1d17:1003\n"
                + "81:00.0 Infiniband controller: Mellanox Technologies MT28908 Family [ConnectX-6]\n");
    }

    @Test
    void namesAndNumbers() {
        String out = f.format("-nn");
        assertThat(out.lines()).hasSize(10);
        assertThat(out).startsWith(""
                + "00:00.0 Host bridge [0600]: Intel Corporation Sky Lake-E DMI3 Registers [8086:2020] (rev 04)\n"
                + "00:01.0 PCI bridge [0604]: Intel Corporation Device [8086:2030] (rev 04)\n"
                + "01:00.0 PCI bridge [0604]: " + PEX + " [10b5:8747] (rev ca)\n");
        assertThat(out).contains(
                "03:00.0 3D controller [0302]: NVIDIA Corporation GV100GL [Tesla V100 PCIe 32GB] [10de:1db6] (rev a1)\n",
                "80:05.0 Generic system peripheral [08ff]: Device [1d17:1003]\n",
                "81:00.0 Infiniband controller [0207]: Mellanox Technologies MT28908 Family [ConnectX-6] [15b3:101b]\n");
    }

    @Test
    void numericOnly() {
        assertThat(f.format("-n", "-s", "03:00.0")).isEqualTo("03:00.0 0302: 10de:1db6 (rev a1)\n");
    }

    @Test
    void classNameFromTheDumpWins() {
        MachineDTO m = Machines.small();
        m.devices.get(0).className = "Host bridge (from the dump)";
        PciCore c = ShellTestCores.core("");
        c.load(m);
        Map<Bdf, DeviceDTO> details = Map.of(Bdf.parse("00:00.0"), m.devices.get(0));
        assertThat(new LspciFormatter(c.machine(), details).format("-s", "00:00.0", "-nn")).isEqualTo(
                "00:00.0 Host bridge (from the dump) [0600]: Intel Corporation Sky Lake-E DMI3 Registers [8086:2020] "
                        + "(rev 04)\n");
    }

    @Test
    void tree() {
        assertThat(f.format("-t")).isEqualTo(""
                + "-+-[0000:00]-+-00.0\n"
                + " |           \\-01.0-[01-04]----00.0-[02-04]--+-08.0-[03]----00.0\n"
                + " |                                           \\-10.0-[04]----00.0\n"
                + " \\-[0000:80]-+-02.0-[81]----00.0\n"
                + "             \\-05.0\n");
    }

    @Test
    void treeWithNames() {
        assertThat(f.format("-tv")).isEqualTo(""
                + "-+-[0000:00]-+-00.0  Intel Corporation Sky Lake-E DMI3 Registers\n"
                + " |           \\-01.0-[01-04]----00.0-[02-04]--+-08.0-[03]----00.0  NVIDIA Corporation GV100GL "
                + "[Tesla V100 PCIe 32GB]\n"
                + " |                                           \\-10.0-[04]----00.0  Samsung Electronics Co Ltd NVMe "
                + "SSD Controller SM981/PM981/PM983\n"
                + " \\-[0000:80]-+-02.0-[81]----00.0  Mellanox Technologies MT28908 Family [ConnectX-6]\n"
                + "             \\-05.0  Device 1d17:1003\n");
        assertThat(f.format("-t", "-v", "-nn").lines()).contains(
                "             \\-05.0  Device [1d17:1003]");
    }

    @Test
    void treeVeryVerboseShowsBarsUnderTheDevice() {
        assertThat(f.format("-tvv").lines()).containsSequence(
                " |           \\-01.0-[01-04]----00.0-[02-04]--+-08.0-[03]----00.0  NVIDIA Corporation GV100GL "
                        + "[Tesla V100 PCIe 32GB]",
                " |                                           |                      Memory at f0000000 (32-bit, "
                        + "non-prefetchable) [size=16M]",
                " |                                           |                      Memory at 380000000000 (64-bit, "
                        + "prefetchable) [size=64G]",
                " |                                           \\-10.0-[04]----00.0  Samsung Electronics Co Ltd NVMe "
                        + "SSD Controller SM981/PM981/PM983");
    }

    @Test
    void treeOfOneBridgeWithSlotFilter() {
        assertThat(f.format("-t", "-s", "01:00.0")).isEqualTo(""
                + "0000:01:00.0-[02-04]--+-08.0-[03]----00.0\n"
                + "                      \\-10.0-[04]----00.0\n");
        // lspci -t -s shows subtrees of matching bridges only
        assertThat(f.format("-t", "-s", "03:00.0")).isEmpty();
    }

    @Test
    void singleRootTreeAndElidedBuses() {
        PciCore c = ShellTestCores.core("");
        c.load(Machines.elided());
        assertThat(new LspciFormatter(c.machine()).format("-tv")).isEqualTo(""
                + "-[0000:00]-+-00.0  Intel Corporation Rocket Lake-S Host Bridge\n"
                + "           \\-01.0-[01-18]----00.0-[02-18]--+- \u2026 -[0e]----00.0  Intel Corporation Battlemage G31\n"
                + "                                           +- \u2026 -[12]----00.0  Intel Corporation Battlemage G31\n"
                + "                                           \\-1c.0-[18]----00.0  Broadcom / LSI PEX880xx PCIe Gen 4 "
                + "Switch\n");
        assertThat(new LspciFormatter(c.machine()).format("-v", "-s", "12:00.0")).isEqualTo(""
                + "12:00.0 VGA compatible controller: Intel Corporation Battlemage G31 (prog-if 00 [VGA controller])\n"
                + "\t# bus 12: the bridge leading to it is not in the dump\n\n");
    }

    @Test
    void emptyMachineTreeIsLspcisBusZero() {
        assertThat(new LspciFormatter(ShellTestCores.core("").machine()).format("-t")).isEqualTo("-[0000:00]-\n");
    }

    @Test
    void acsLinesAtVeryVerbose() {
        assertThat(f.format("-vv", "-s", "02:08.0")).isEqualTo(""
                + "02:08.0 PCI bridge: " + PEX + " (rev ca) (prog-if 00 [Normal decode])\n"
                + "\tBus: primary=02, secondary=03, subordinate=03, sec-latency=0\n"
                + "\tCapabilities: [68] Express (v2) Downstream Port\n"
                + "\tCapabilities: [148 v1] Access Control Services\n"
                + "\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl+ DirectTrans+\n"
                + "\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-\n"
                + "\tKernel driver in use: pcieport\n\n");
        // ACS known from the dump but absent from its capability list: shown at the dumped offset
        assertThat(f.format("-vv", "-s", "02:10.0").lines()).containsSequence(
                "\tCapabilities: [68] Express (v2) Downstream Port",
                "\tCapabilities: [148] Access Control Services",
                "\t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl+ DirectTrans+",
                "\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir- CmpltRedir- UpstreamFwd- EgressCtrl- DirectTrans-");
        // -v names the capability but, like lspci, does not decode it
        assertThat(f.format("-v", "-s", "02:08.0")).contains("\tCapabilities: [148] Access Control Services\n")
                .doesNotContain("ACSCtl");
    }

    @Test
    void linkCapabilityAndStatusAtVeryVerboseAsCapExpressLinkPrintsThem() {
        MachineDTO m = Machines.small();
        for (DeviceDTO d : m.devices) {
            switch (d.bdf) {
                case "0000:03:00.0" -> link(d, "8GT/s", 16, "2.5GT/s", 8); // trained below its capability
                case "0000:02:08.0" -> link(d, "8GT/s", 16, "8GT/s", 8); // a downstream port: no "(downgraded)"
                case "0000:04:00.0" -> link(d, "8GT/s", 4, "8GT/s", 4);
                default -> {
                }
            }
        }
        core.load(m);
        LspciFormatter g = new LspciFormatter(core.machine());
        assertThat(g.format("-vv", "-s", "03:00.0").lines()).containsSequence(
                "\tCapabilities: [78] Express (v2) Endpoint",
                "\t\tLnkCap:\tSpeed 8GT/s, Width x16",
                "\t\tLnkSta:\tSpeed 2.5GT/s (downgraded), Width x8 (downgraded)");
        assertThat(g.format("-vvv", "-s", "02:08.0").lines()).containsSequence(
                "\tCapabilities: [68] Express (v2) Downstream Port",
                "\t\tLnkCap:\tSpeed 8GT/s, Width x16",
                "\t\tLnkSta:\tSpeed 8GT/s, Width x8");
        // a dump that gave the port type and link but not the capability list: the link as a model note
        assertThat(g.format("-vv", "-s", "04:00.0")).contains("\t# LnkCap:\tSpeed 8GT/s, Width x4\n"
                + "\t# LnkSta:\tSpeed 8GT/s, Width x4\n");
        // -v names the capability only, as lspci does; a device whose dump had no link fields gets no such lines
        assertThat(g.format("-v", "-s", "03:00.0")).doesNotContain("LnkCap").doesNotContain("LnkSta");
        assertThat(g.format("-vv", "-s", "00:01.0")).doesNotContain("Lnk");
        assertThat(LspciFormatter.linkCompare(org.peerdma.pci.PciePortType.ENDPOINT, 16, 8)).isEqualTo(" (overdriven)");
    }

    private static void link(DeviceDTO d, String capSpeed, int capWidth, String speed, int width) {
        d.linkCapSpeed = capSpeed;
        d.linkCapWidth = capWidth;
        d.linkSpeed = speed;
        d.linkWidth = width;
    }

    @Test
    void verboseEndpoint() {
        assertThat(f.format("-v", "-s", "03:00.0")).isEqualTo(""
                + "03:00.0 3D controller: NVIDIA Corporation GV100GL [Tesla V100 PCIe 32GB] (rev a1)\n"
                + "\tSubsystem: NVIDIA Corporation Device 124a\n"
                + "\tNUMA node: 0\n"
                + "\tMemory at f0000000 (32-bit, non-prefetchable) [size=16M]\n"
                + "\tMemory at 380000000000 (64-bit, prefetchable) [size=64G]\n"
                + "\tCapabilities: [60] Power Management\n"
                + "\tCapabilities: [68] MSI\n"
                + "\tCapabilities: [78] Express Endpoint\n"
                + "\tCapabilities: [100] Virtual Channel\n"
                + "\tCapabilities: [250] Latency Tolerance Reporting\n"
                + "\tKernel driver in use: nvidia\n\n");
        assertThat(f.format("-vvv", "-s", "03:00.0").lines()).contains(
                "\tRegion 1: Memory at 380000000000 (64-bit, prefetchable) [size=64G]",
                "\tCapabilities: [78] Express (v2) Endpoint",
                "\tCapabilities: [250 v1] Latency Tolerance Reporting");
    }

    @Test
    void bridgeWindowsAndModelNotes() {
        String rp = withDetails().format("-vv", "-s", "00:01.0");
        assertThat(rp).isEqualTo(""
                + "00:01.0 PCI bridge: Intel Corporation Device 2030 (rev 04) (prog-if 00 [Normal decode])\n"
                + "\tNUMA node: 0\n"
                + "\tBus: primary=00, secondary=01, subordinate=04, sec-latency=0\n"
                + "\tMemory behind bridge: f0000000-f10fffff [size=17M] [32-bit]\n"
                + "\tPrefetchable memory behind bridge: 0000380000000000-00003810ffffffff [size=68G] [64-bit]\n"
                + "\tCapabilities: [40] Express (v2) Root Port\n"
                + "\tCapabilities: [110 v1] Access Control Services\n"
                + "\t\tACSCap:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-\n"
                + "\t\tACSCtl:\tSrcValid- TransBlk- ReqRedir- CmpltRedir- UpstreamFwd- EgressCtrl- DirectTrans-\n"
                + "\tKernel driver in use: pcieport\n\n");
        assertThat(f.format("-v", "-s", "80:05.0")).isEqualTo(""
                + "80:05.0 Generic system peripheral [08ff]: Device 1d17:1003\n"
                + "\t# ACS unknown: the dump did not show this device's extended capabilities\n\n");
        assertThat(f.format("-v", "-s", "04:00.0")).contains(
                "\tSubsystem: Samsung Electronics Co Ltd Device a801\n",
                "\tMemory at f1000000 (64-bit, non-prefetchable) [size=16K]\n",
                "\t# PCIe port type (from the dump; capability list not shown): Endpoint\n");
    }

    @Test
    void kernelDriversWithoutVerbose() {
        assertThat(f.format("-k", "-s", "04:00.0")).isEqualTo(""
                + "04:00.0 Non-Volatile memory controller: Samsung Electronics Co Ltd NVMe SSD Controller "
                + "SM981/PM981/PM983\n"
                + "\tSubsystem: Samsung Electronics Co Ltd Device a801\n"
                + "\tKernel driver in use: nvme\n");
    }

    @Test
    void slotAndIdFilters() {
        assertThat(f.format("-s", "02:").lines()).extracting(l -> l.substring(0, 7))
                .containsExactly("02:08.0", "02:10.0");
        assertThat(f.format("-s", "10.0").lines()).extracting(l -> l.substring(0, 7)).containsExactly("02:10.0");
        assertThat(f.format("-s", ".0").lines()).hasSize(10);
        assertThat(f.format("-s", "0000:80:*.*").lines()).hasSize(2);
        assertThat(f.format("-s", "1:80:05.0")).isEmpty();
        assertThat(f.format("-d", "10b5:").lines()).hasSize(3);
        assertThat(f.format("-d", ":1003").lines()).extracting(l -> l.substring(0, 7)).containsExactly("80:05.0");
        assertThat(f.format("-d", "*:*:0302").lines()).extracting(l -> l.substring(0, 7)).containsExactly("03:00.0");
        assertThat(f.format("-d", "8086:", "-s", "80:")).startsWith("80:02.0 PCI bridge:");
    }

    @Test
    void badSwitchesAndFilters() {
        assertThatThrownBy(() -> f.format("-s", "02:1g.0")).isInstanceOf(KernelException.class)
                .hasMessage("EINVAL: lspci -s '02:1g.0': Invalid slot number");
        assertThatThrownBy(() -> f.format("-s", "100:00.0")).hasMessage("EINVAL: lspci -s '100:00.0': Invalid bus number");
        assertThatThrownBy(() -> f.format("-s", "00.9")).hasMessage("EINVAL: lspci -s '00.9': Invalid function number");
        assertThatThrownBy(() -> f.format("-d", "10de")).hasMessage("EINVAL: lspci -d '10de': ':' expected");
        assertThatThrownBy(() -> f.format("-d", "10de:xyz")).hasMessage("EINVAL: lspci -d '10de:xyz': Invalid device ID");
        assertThatThrownBy(() -> f.format("-s")).hasMessage("EINVAL: lspci: option -s needs an argument");
        assertThatThrownBy(() -> f.format("-y")).hasMessage("EINVAL: lspci: invalid option -- 'y'");
        assertThatThrownBy(() -> f.format("-x")).hasMessageStartingWith("EINVAL: lspci: option -x is not reproduced");
        assertThatThrownBy(() -> f.format("03:00.0")).hasMessageContaining("unexpected argument '03:00.0'");
    }

    @Test
    void domainsShownWhenAnyDeviceIsOutsideDomainZeroOrWithD() {
        assertThat(f.format("-D", "-s", "81:")).isEqualTo(
                "0000:81:00.0 Infiniband controller: Mellanox Technologies MT28908 Family [ConnectX-6]\n");
        MachineDTO m = Machines.small();
        m.hostBridges.add(Machines.host(1, 0, null));
        m.devices.add(Machines.dev("0001:00:00.0", 0x1b4b, 0x9230, 0x010601, null, null, null));
        PciCore c = ShellTestCores.core("");
        c.load(m);
        LspciFormatter g = new LspciFormatter(c.machine());
        assertThat(g.format("-s", "00:00.0")).isEqualTo(""
                + "0000:00:00.0 Host bridge: Intel Corporation Sky Lake-E DMI3 Registers (rev 04)\n"
                + "0001:00:00.0 SATA controller: Device 1b4b:9230\n");
        assertThat(g.format("-t").lines()).endsWith(" \\-[0001:00]---00.0");
    }
}
