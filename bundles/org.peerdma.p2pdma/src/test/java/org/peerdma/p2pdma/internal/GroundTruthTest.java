package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.imports.internal.TestIo;
import org.peerdma.pci.internal.PciCoreImpl;

/** Observed ground truth in shared/topologies/real reproduced by the rules. */
class GroundTruthTest {
    private final TopologyIO io = TestIo.io();
    private PciCoreImpl core;

    private PciMachine real(String file) {
        core = new PciCoreImpl();
        return core.load(io.read(TestIo.shared().resolve("topologies/real").resolve(file), TopologyIO.AUTO));
    }

    private P2pVerdict calc(String p, String c) {
        return Calc.calc(core.machine(), core.get(Bdf.parse(p)), core.get(Bdf.parse(c)), KernelVersion.NEWEST);
    }

    @Test
    void rocketLakeWithPex880xxThreeVerdicts() throws IOException {
        String yaml;
        try (InputStream in = getClass().getResourceAsStream("/rocketlake-pex880xx-b70.yaml")) {
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        core = new PciCoreImpl();
        core.load(io.readText("rocketlake-pex880xx-b70.yaml", yaml, TopologyIO.AUTO));
        // A: separate root ports, host bridge 8086:4c43 not whitelisted
        P2pVerdict a = calc("0e:00.0", "21:00.0");
        assertThat(a.mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        assertThat(a.commonUpstream()).isNull();
        assertThat(a.hostBridgeCheck().bridges().get(0).why()).isEqualTo("Host bridge not in P2PDMA whitelist: 8086:4c43");
        // B1: behind the switch with ACS redirect on: not supported, the kernel's list in the thread's order
        P2pVerdict b1 = calc("0e:00.0", "12:00.0");
        assertThat(b1.mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        assertThat(b1.distance()).isEqualTo(-1);
        assertThat(b1.hops()).isEqualTo(8);
        assertThat(b1.commonUpstream().bdf()).isEqualTo(Bdf.parse("0a:00.0"));
        assertThat(b1.acsList()).isEqualTo("0000:0d:01.0;0000:0b:00.0;0000:11:01.0;0000:0b:10.0");
        // B2: redirect cleared on the path (setpci ECAP_ACS+6.w=0000): bus address, distance 8
        for (String port : b1.acsList().split(";")) {
            core.setAcsCtrl(Bdf.parse(port), 0);
        }
        P2pVerdict b2 = calc("0e:00.0", "12:00.0");
        assertThat(b2.mapType()).isEqualTo(MapType.BUS_ADDR);
        assertThat(b2.distance()).isEqualTo(8);
        // and with pci=disable_acs_redir as the kernel message suggests, from a fresh boot
        PciCoreImpl booted = org.peerdma.pci.internal.TestCmdline.core(b1.disableAcsRedirParam().substring(4));
        booted.load(io.readText("rocketlake-pex880xx-b70.yaml", yaml, TopologyIO.AUTO));
        assertThat(Calc.calc(booted.machine(), booted.get(Bdf.parse("0e:00.0")), booted.get(Bdf.parse("12:00.0")),
                KernelVersion.NEWEST).mapType()).isEqualTo(MapType.BUS_ADDR);
    }

    @Test
    void epycMachinesSupportEveryPair() {
        for (String file : List.of("asus-esc8000a-e12-genoa.txt", "puget-wrx90-threadripper-pro.txt")) {
            PciMachine m = real(file);
            List<PciDevice> eps = Doctor.endpoints(m);
            assertThat(eps).as(file).hasSizeGreaterThan(10);
            for (PciDevice p : eps) {
                for (PciDevice c : eps) {
                    P2pVerdict r = Calc.calc(m, p, c, KernelVersion.NEWEST);
                    assertThat(r.supported()).as(file + " " + p.name() + " -> " + c.name()).isTrue();
                }
            }
        }
        real("puget-wrx90-threadripper-pro.txt");
        P2pVerdict gpus = calc("c1:00.0", "c2:00.0");
        assertThat(gpus.mapType()).isEqualTo(MapType.THRU_HOST_BRIDGE);
        assertThat(gpus.hostBridgeCheck().cpuSupports()).isTrue();
        assertThat(PathClass.of(gpus)).isEqualTo("PHB"); // nvidia-smi topo -m in the dump says PHB
        real("asus-esc8000a-e12-genoa.txt");
        assertThat(PathClass.of(calc("01:00.0", "41:00.0"))).isEqualTo("NODE");
        assertThat(PathClass.of(calc("01:00.0", "c1:00.0"))).isEqualTo("SYS");
        assertThat(calc("01:00.0", "c1:00.0").mapType()).isEqualTo(MapType.THRU_HOST_BRIDGE);
    }

    @Test
    void broadwellDellIsRefusedEverywhereAcrossRootPorts() {
        real("dell-r730-broadwell-ep-2xp100-nvme.txt");
        P2pVerdict nvmeGpu = calc("81:00.0", "82:00.0");
        assertThat(nvmeGpu.mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        // socket 1's root bus has no 00.0 device: the newest kernel checks its first Root Port instead
        assertThat(nvmeGpu.hostBridgeCheck().bridges()).singleElement().satisfies(e -> {
            assertThat(e.device()).startsWith("0000:80:01.0 [8086:6f02]");
            assertThat(e.why()).isEqualTo("Host bridge not in P2PDMA whitelist: 8086:6f02");
        });
        P2pVerdict acrossSockets = calc("04:00.0", "82:00.0");
        assertThat(acrossSockets.mapType()).isEqualTo(MapType.NOT_SUPPORTED);
        assertThat(acrossSockets.hostBridgeCheck().bridges().get(0).why())
                .isEqualTo("Host bridge not in P2PDMA whitelist: 8086:6f00");
        // v5.x looks only at devfn 00.0, which socket 1 does not have
        assertThat(Calc.calc(core.machine(), core.get(Bdf.parse("81:00.0")), core.get(Bdf.parse("82:00.0")),
                KernelVersion.V5_X).hostBridgeCheck().bridges().get(0).why()).contains("not 00.0");
    }

    @Test
    void haswellK80BoardsBehindTheirOwnSwitch() {
        real("hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt");
        P2pVerdict onCard = calc("06:00.0", "07:00.0");
        assertThat(onCard.mapType()).isEqualTo(MapType.BUS_ADDR);
        assertThat(onCard.distance()).isEqualTo(4);
        assertThat(onCard.assumptions()).anyMatch(a -> a.contains("ACS state not in the dump"));
        assertThat(PathClass.of(onCard)).isEqualTo("PIX");
        assertThat(calc("06:00.0", "84:00.0").mapType()).isEqualTo(MapType.NOT_SUPPORTED);
    }
}
