package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peerdma.p2pdma.internal.Machines.bridge;
import static org.peerdma.p2pdma.internal.Machines.host;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** The kernel's worked examples and the acceptance checks of reference §B5 and §C. */
class CalcTest {
    private static final int SKYLAKE_E = 0x2020;
    private static final int ROCKET_LAKE = 0x4c43;

    private PciCoreImpl core;

    private PciMachine load(MachineDTO m) {
        core = new PciCoreImpl();
        return core.load(m);
    }

    private PciDevice d(String bdf) {
        return core.get(Bdf.parse(bdf));
    }

    private P2pVerdict calc(String p, String c, KernelVersion v) {
        return Calc.calc(core.machine(), d(p), d(c), v);
    }

    @Test
    void workedDistances() {
        load(Machines.switches(0x8086, SKYLAKE_E, 0));
        P2pVerdict self = calc("03:00.0", "03:00.0", KernelVersion.NEWEST);
        assertThat(self.mapType()).isEqualTo(MapType.BUS_ADDR);
        assertThat(self.distance()).isZero();
        assertThat(calc("03:00.0", "03:00.1", KernelVersion.NEWEST).distance()).isEqualTo(2);
        P2pVerdict sameSwitch = calc("03:00.0", "04:00.0", KernelVersion.NEWEST);
        assertThat(sameSwitch.distance()).isEqualTo(4);
        assertThat(sameSwitch.commonUpstream().bdf()).isEqualTo(Bdf.parse("01:00.0"));
        // one more switch level on the client side adds 2
        assertThat(calc("03:00.0", "07:00.0", KernelVersion.NEWEST).distance()).isEqualTo(6);
        // provider below the client's ancestor chain: the client itself can be the common device
        assertThat(calc("03:00.0", "02:00.0", KernelVersion.NEWEST).distance()).isEqualTo(1);
        for (KernelVersion v : KernelVersion.values()) {
            assertThat(calc("03:00.0", "04:00.0", v).mapType()).as(v.label()).isEqualTo(MapType.BUS_ADDR);
        }
    }

    @Test
    void acsRedirectGoesThroughTheWhitelistedHostBridgeOrIsRefused() {
        load(Machines.switches(0x8086, SKYLAKE_E, Acs.SV | Acs.RR | Acs.CR | Acs.UF));
        P2pVerdict r = calc("03:00.0", "04:00.0", KernelVersion.NEWEST);
        assertThat(r.mapType()).isEqualTo(MapType.THRU_HOST_BRIDGE);
        assertThat(r.distance()).isEqualTo(4);
        assertThat(r.acsList()).isEqualTo("0000:02:01.0");
        assertThat(r.disableAcsRedirParam()).isEqualTo("pci=disable_acs_redir=0000:02:01.0");
        assertThat(r.warnings()).containsExactly(
                "0000:04:00.0: ACS redirect is set between the client and provider (0000:03:00.0)",
                "0000:04:00.0: to disable ACS redirect for this path, add the kernel parameter: "
                        + "pci=disable_acs_redir=0000:02:01.0");
        assertThat(calc("03:00.0", "04:00.0", KernelVersion.V5_X).mapType()).isEqualTo(MapType.THRU_HOST_BRIDGE);
        assertThat(calc("03:00.0", "04:00.0", KernelVersion.V5_2).distance()).isEqualTo(-2);
        assertThat(calc("03:00.0", "04:00.0", KernelVersion.V4_20).distance()).isEqualTo(-2);
        // pairs that do not pass the redirecting port are unaffected
        assertThat(calc("03:00.0", "07:00.0", KernelVersion.NEWEST).mapType()).isEqualTo(MapType.BUS_ADDR);

        load(Machines.switches(0x8086, ROCKET_LAKE, Acs.RR));
        P2pVerdict no = calc("03:00.0", "04:00.0", KernelVersion.NEWEST);
        assertThat(no.mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        assertThat(no.distance()).isEqualTo(-1);
        assertThat(no.hops()).isEqualTo(4);
        assertThat(no.warnings()).contains("0000:00:00.0: Host bridge not in P2PDMA whitelist: 8086:4c43",
                "0000:04:00.0: cannot be used for peer-to-peer DMA as the client and provider (0000:03:00.0) do not "
                        + "share an upstream bridge or whitelisted host bridge");
        // an EC-only port also counts as redirecting
        load(Machines.switches(0x8086, ROCKET_LAKE, Acs.EC));
        assertThat(calc("03:00.0", "04:00.0", KernelVersion.NEWEST).mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        // UF/SV/TB/DT do not
        load(Machines.switches(0x8086, ROCKET_LAKE, Acs.SV | Acs.UF | Acs.TB | Acs.DT));
        assertThat(calc("03:00.0", "04:00.0", KernelVersion.NEWEST).mapType()).isEqualTo(MapType.BUS_ADDR);
    }

    @Test
    void reqSameHostBridgeForHaswellAndNotForSkylake() {
        // Intel 0x2f00 (Haswell-EP) at 00.0 of both root buses: only within one host bridge
        load(Machines.twoHosts(host("0000:00:00.0", 0x8086, 0x2f00), host("0000:80:00.0", 0x8086, 0x2f00)));
        P2pVerdict same = calc("01:00.0", "02:00.0", KernelVersion.NEWEST);
        assertThat(same.mapType()).isEqualTo(MapType.THRU_HOST_BRIDGE);
        assertThat(same.distance()).isEqualTo(4);
        assertThat(same.hostBridgeCheck().sameHostBridge()).isTrue();
        P2pVerdict across = calc("01:00.0", "81:00.0", KernelVersion.NEWEST);
        assertThat(across.mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        assertThat(across.hostBridgeCheck().bridges().get(0).why()).contains("REQ_SAME_HOST_BRIDGE");
        // no ACS redirect on this path, so __host_bridge_whitelist is called without warn
        assertThat(across.warnings()).noneMatch(w -> w.contains("whitelist: 8086"));

        // Skylake-E 0x2030 Root Ports first on the root buses: allowed across host bridges
        var rp0 = bridge("0000:00:00.0", "ROOT_PORT", 0x10, 0x10, 0);
        rp0.vendor = 0x8086;
        rp0.device = 0x2030;
        var rp80 = bridge("0000:80:01.0", "ROOT_PORT", 0x90, 0x90, 0);
        rp80.vendor = 0x8086;
        rp80.device = 0x2030;
        load(Machines.twoHosts(rp0, rp80));
        assertThat(calc("01:00.0", "81:00.0", KernelVersion.NEWEST).mapType()).isEqualTo(MapType.THRU_HOST_BRIDGE);
        // v5.x accepts only a devfn 00.0 device: 80:01.0 first on its bus fails there
        P2pVerdict v5 = calc("01:00.0", "81:00.0", KernelVersion.V5_X);
        assertThat(v5.mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        assertThat(v5.hostBridgeCheck().bridges().get(1).why()).contains("not 00.0");
    }

    @Test
    void amdZenCpuRuleBypassesTheWhitelist() {
        MachineDTO m = Machines.twoHosts(host("0000:00:00.0", 0x1022, 0x14a4), host("0000:80:00.0", 0x1022, 0x14a4));
        m.cpu = Machines.cpu("AuthenticAMD", 0x19);
        load(m);
        P2pVerdict r = calc("01:00.0", "81:00.0", KernelVersion.NEWEST);
        assertThat(r.mapType()).isEqualTo(MapType.THRU_HOST_BRIDGE);
        assertThat(r.hostBridgeCheck().cpuSupports()).isTrue();
        assertThat(r.rule()).contains("CPU rule");
        m.cpu = Machines.cpu("AuthenticAMD", 0x15);
        load(m);
        assertThat(calc("01:00.0", "81:00.0", KernelVersion.NEWEST).mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        m.cpu = Machines.cpu("AuthenticAMD", 0x19);
        m.arch = "arm64";
        load(m);
        assertThat(calc("01:00.0", "81:00.0", KernelVersion.NEWEST).mapType()).isEqualTo(MapType.NOT_SUPPORTED);
    }

    @Test
    void v52RootComplexWhitelistAndPenalty() {
        MachineDTO m = Machines.twoHosts(host("0000:00:00.0", 0x1022, 0x1450), host("0000:80:00.0", 0x1022, 0x1450));
        load(m);
        P2pVerdict r = calc("01:00.0", "81:00.0", KernelVersion.V5_2);
        assertThat(r.distance()).isEqualTo(0x1000 + 4);
        assertThat(calc("01:00.0", "81:00.0", KernelVersion.V4_20).distance()).isEqualTo(-1);
        m = Machines.twoHosts(host("0000:00:00.0", 0x1022, 0x1450), host("0000:80:00.0", 0x1022, 0x1480));
        load(m);
        assertThat(calc("01:00.0", "81:00.0", KernelVersion.V5_2).distance()).isEqualTo(-1);
    }

    @Test
    void distanceManySumsAndRefusesNonPciClients() {
        load(Machines.switches(0x8086, SKYLAKE_E, 0));
        List<String> log = new ArrayList<>();
        DeviceNode c1 = DeviceNode.of(d("03:00.1"));
        DeviceNode c2 = DeviceNode.of(d("04:00.0"));
        assertThat(P2pdmaImpl.distanceMany(core, KernelVersion.NEWEST, d("03:00.0"), List.of(c1, c2), false, log))
                .isEqualTo(6);
        assertThat(P2pdmaImpl.distanceMany(core, KernelVersion.NEWEST, d("03:00.0"), List.of(), true, log))
                .isEqualTo(-1);
        // a platform device below a PCI function counts as that function
        DeviceNode child = DeviceNode.platform("nvme0n1", c2);
        assertThat(P2pdmaImpl.distanceMany(core, KernelVersion.NEWEST, d("03:00.0"), List.of(child), false, log))
                .isEqualTo(4);
        DeviceNode orphan = DeviceNode.platform("platform-dma", null);
        assertThat(P2pdmaImpl.distanceMany(core, KernelVersion.NEWEST, d("03:00.0"), List.of(c1, orphan), true, log))
                .isEqualTo(-1);
        assertThat(log).contains("platform-dma: cannot be used for peer-to-peer DMA as it is not a PCI device");
    }

    @Test
    void acsListPrintedFromA128ByteBuffer() {
        String ten = "0000:00:00.0;".repeat(10);
        assertThat(Calc.truncated(ten)).hasSize(126);
        assertThat(Calc.truncated("0000:0b:00.0;0000:0d:01.0;")).isEqualTo("0000:0b:00.0;0000:0d:01.0");
    }
}
