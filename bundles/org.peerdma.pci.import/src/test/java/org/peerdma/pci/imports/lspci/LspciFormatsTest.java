package org.peerdma.pci.imports.lspci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.peerdma.pci.Acs;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.peerdma.pci.spi.TopologySource;

/**
 * Forms no shared real dump has: -vvv -nn with -D, plain -v as root and as a user, and unusual
 * capability lines. The listings are written in lspci's exact layout (tabs, field order) for
 * these tests; they do not come from one machine.
 */
class LspciFormatsTest {
    private static final long M = 1024L * 1024;

    private static MachineDTO parse(String name, String text) {
        return LspciVerboseParser.parse(new TopologySource(name, text.lines().toList(), 1, Optional.empty()));
    }

    private static final String VVV_NN = """
            0000:02:08.0 PCI bridge [0604]: PLX Technology, Inc. PEX 8747 48-Lane, 5-Port PCI Express Gen 3 (8.0 GT/s) Switch [10b5:8747] (rev ca) (prog-if 00 [Normal decode])
            \tControl: I/O+ Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr- Stepping- SERR- FastB2B- DisINTx+
            \tStatus: Cap+ 66MHz- UDF- FastB2B- ParErr- DEVSEL=fast >TAbort- <TAbort- <MAbort- >SERR- <PERR- INTx-
            \tLatency: 0, Cache Line Size: 64 bytes
            \tInterrupt: pin A routed to IRQ 28
            \tNUMA node: 0
            \tBus: primary=02, secondary=03, subordinate=03, sec-latency=0
            \tI/O behind bridge: [disabled] [16-bit]
            \tMemory behind bridge: f9000000-fa0fffff [size=17M] [32-bit]
            \tPrefetchable memory behind bridge: 38000000000-38401ffffff [size=16416M] [64-bit]
            \tSecondary status: 66MHz- FastB2B- ParErr- DEVSEL=fast >TAbort- <TAbort- <MAbort- <SERR- <PERR-
            \tBridgeCtl: Parity- SERR+ NoISA- VGA- VGA16- MAbort- >Reset- FastB2B-
            \tCapabilities: [40] Power Management version 3
            \t\tFlags: PMEClk- DSI- D1- D2- AuxCurrent=0mA PME(D0+,D1-,D2-,D3hot+,D3cold+)
            \t\tStatus: D0 NoSoftRst+ PME-Enable- DSel=0 DScale=0 PME-
            \tCapabilities: [48] MSI: Enable+ Count=1/8 Maskable+ 64bit+
            \tCapabilities: [68] Express (v2) Downstream Port (Slot+), MSI 00
            \t\tLnkCap:\tPort #8, Speed 8GT/s, Width x16, ASPM L1, Exit Latency L1 <4us
            \t\tLnkSta:\tSpeed 8GT/s, Width x16
            \t\t\tTrErr- Train- SlotClk+ DLActive+ BWMgmt+ ABWMgmt-
            \t\tLnkSta2: Current De-emphasis Level: -6dB, EqualizationComplete+ EqualizationPhase1+
            \tCapabilities: [a4] Subsystem: PLX Technology, Inc. Device [10b5:8747]
            \tCapabilities: [100 v1] Device Serial Number ca-87-00-10-b5-df-0e-00
            \tCapabilities: [fb4 v1] Advanced Error Reporting
            \tCapabilities: [138 v1] Power Budgeting <?>
            \tCapabilities: [10c v1] Secondary PCI Express
            \tCapabilities: [148 v1] Virtual Channel
            \tCapabilities: [e00 v1] Multicast
            \tCapabilities: [b00 v1] Latency Tolerance Reporting
            \tCapabilities: [f24 v1] Access Control Services
            \t\tACSCap:\tSrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl+ DirectTrans+
            \t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-
            \tKernel driver in use: pcieport

            0000:03:00.0 3D controller [0302]: NVIDIA Corporation GK210GL [Tesla K80] [10de:102d] (rev a1)
            \tSubsystem: NVIDIA Corporation Device [10de:106c]
            \tControl: I/O- Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr- Stepping- SERR- FastB2B- DisINTx+
            \tStatus: Cap+ 66MHz- UDF- FastB2B- ParErr- DEVSEL=fast >TAbort- <TAbort- <MAbort- >SERR- <PERR- INTx-
            \tNUMA node: 0
            \tRegion 0: Memory at f9000000 (32-bit, non-prefetchable) [size=16M]
            \tRegion 1: Memory at 38000000000 (64-bit, prefetchable) [size=16G]
            \tRegion 3: Memory at 38400000000 (64-bit, prefetchable) [size=32M]
            \tCapabilities: [60] Power Management version 3
            \tCapabilities: [68] MSI: Enable- Count=1/1 Maskable- 64bit+
            \tCapabilities: [78] Express (v2) Endpoint, MSI 00
            \t\tLnkSta:\tSpeed 8GT/s (ok), Width x16 (ok)
            \tCapabilities: [100 v1] Virtual Channel
            \tCapabilities: [128 v1] Power Budgeting <?>
            \tCapabilities: [420 v2] Advanced Error Reporting
            \tCapabilities: [600 v1] Vendor Specific Information: ID=0001 Rev=1 Len=024 <?>
            \tCapabilities: [900 v1] Secondary PCI Express
            \tKernel driver in use: nvidia
            """;

    @Test
    void vvvNnSwitchPortAndGpu() {
        MachineDTO m = parse("vvvnn.txt", VVV_NN);
        assertThat(m.format).isEqualTo(LspciVerboseParser.FORMAT_VVV);
        DeviceDTO dsp = LspciDumps.device(m, "0000:02:08.0");
        assertThat(dsp.vendor).isEqualTo(0x10b5);
        assertThat(dsp.device).isEqualTo(0x8747);
        assertThat(dsp.classCode).isEqualTo(0x060400);
        assertThat(dsp.vendorName).isEqualTo("PLX Technology, Inc.");
        assertThat(dsp.deviceName).isEqualTo("PEX 8747 48-Lane, 5-Port PCI Express Gen 3 (8.0 GT/s) Switch");
        assertThat(dsp.subsystemVendor).as("from the SSVID capability").isEqualTo(0x10b5);
        assertThat(dsp.subsystemDevice).isEqualTo(0x8747);
        assertThat(dsp.portType).isEqualTo("DOWNSTREAM_PORT");
        assertThat(dsp.headerType).isEqualTo(1);
        assertThat(dsp.secondaryBus).isEqualTo(3);
        assertThat(dsp.subordinateBus).isEqualTo(3);
        assertThat(dsp.linkSpeed).isEqualTo("8GT/s");
        assertThat(dsp.linkWidth).isEqualTo(16);
        assertThat(dsp.bridgeWindows).hasSize(2);
        WindowDTO pref = dsp.bridgeWindows.get(1);
        assertThat(pref.cpuStart).isEqualTo(0x38000000000L);
        assertThat(pref.size).isEqualTo(16416 * M);
        assertThat(pref.prefetchable).isTrue();
        assertThat(pref.io).isFalse();
        assertThat(dsp.acs.offset).isEqualTo(0xf24);
        assertThat(dsp.acs.cap).isEqualTo(Acs.ALL);
        assertThat(dsp.acs.ctrl).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        assertThat(dsp.acs.ctrl & Acs.REDIRECT_BITS).isEqualTo(Acs.RR | Acs.CR);
        assertThat(dsp.capabilities).anyMatch(c -> c.offset == 0xe00 && c.id == 0x12)
                .anyMatch(c -> c.offset == 0xb00 && c.id == 0x18).anyMatch(c -> c.offset == 0x100 && c.id == 0x03);
        assertThat(dsp.extendedCapsKnown).isTrue();
        DeviceDTO gpu = LspciDumps.device(m, "0000:03:00.0");
        assertThat(gpu.vendor).isEqualTo(0x10de);
        assertThat(gpu.device).isEqualTo(0x102d);
        assertThat(gpu.subsystemVendor).isEqualTo(0x10de);
        assertThat(gpu.subsystemDevice).isEqualTo(0x106c);
        assertThat(gpu.deviceName).isEqualTo("GK210GL [Tesla K80]");
        assertThat(gpu.classCode).as("-v prints no prog-if when it is 0").isEqualTo(0x030200);
        assertThat(m.notes).noneMatch(n -> n.contains("without -nn"));
    }

    private static final String V_USER = """
            01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090] (rev a1) (prog-if 00 [VGA controller])
            \tSubsystem: NVIDIA Corporation Device 1454
            \tFlags: bus master, fast devsel, latency 0, IRQ 130, NUMA node 0, IOMMU group 16
            \tMemory at fb000000 (32-bit, non-prefetchable) [size=16M]
            \tMemory at d0000000 (64-bit, prefetchable) [size=256M]
            \tMemory at e0000000 (64-bit, prefetchable) [size=32M]
            \tI/O ports at e000 [size=128]
            \tExpansion ROM at <unassigned> [disabled]
            \tCapabilities: <access denied>
            \tKernel driver in use: nvidia
            \tKernel modules: nvidiafb, nouveau, nvidia_drm, nvidia
            """;

    @Test
    void minusVWithoutRoot() {
        MachineDTO m = parse("v-user.txt", V_USER);
        assertThat(m.format).isEqualTo(LspciVerboseParser.FORMAT_V);
        DeviceDTO gpu = m.devices.get(0);
        assertThat(gpu.numaNode).as("from the Flags line").isZero();
        assertThat(gpu.headerType).isZero();
        assertThat(gpu.bars).extracting(b -> b.index).as("indices counted, 64-bit BARs take two")
                .containsExactly(0, 1, 3, 5, 6);
        BarDTO rom = gpu.bars.get(4);
        assertThat(rom.start).isNull();
        assertThat(rom.disabled).isTrue();
        assertThat(rom.size).isZero();
        assertThat(gpu.bars.get(1).size).isEqualTo(256 * M);
        assertThat(gpu.portType).isNull();
        assertThat(gpu.extendedCapsKnown).isFalse();
        assertThat(gpu.capabilities).isEmpty();
        assertThat(gpu.notes).anyMatch(n -> n.contains("without root"))
                .anyMatch(n -> n.contains("'Region N:'"))
                .anyMatch(n -> n.contains("expansion ROM: lspci printed no size"));
        assertThat(m.notes).anyMatch(n -> n.startsWith("1 device(s) show 'Capabilities: <access denied>'"));
    }

    private static final String V_ROOT = """
            00:01.1 PCI bridge: Advanced Micro Devices, Inc. [AMD] Starship/Matisse GPP Bridge (prog-if 00 [Normal decode])
            \tFlags: bus master, fast devsel, latency 0, IRQ 26, NUMA node 0
            \tBus: primary=00, secondary=01, subordinate=01, sec-latency=0
            \tI/O behind bridge: None
            \tMemory behind bridge: fb000000-fc0fffff
            \tPrefetchable memory behind bridge: 00000000d0000000-00000000e1ffffff
            \tCapabilities: [50] Power Management version 3
            \tCapabilities: [58] Express Root Port (Slot+), MSI 00
            \tCapabilities: [a0] MSI: Enable+ Count=1/1 Maskable- 64bit+
            \tCapabilities: [c0] Subsystem: Advanced Micro Devices, Inc. [AMD] Starship/Matisse GPP Bridge
            \tCapabilities: [c8] HyperTransport: MSI Mapping Enable+ Fixed+
            \tCapabilities: [100] Vendor Specific Information: ID=0001 Rev=1 Len=010 <?>
            \tCapabilities: [150] Advanced Error Reporting
            \tCapabilities: [2a0] Access Control Services
            \tCapabilities: [370] L1 PM Substates
            \tKernel driver in use: pcieport
            """;

    @Test
    void minusVAsRoot() {
        DeviceDTO rp = parse("v-root.txt", V_ROOT).devices.get(0);
        assertThat(rp.vendorName).isEqualTo("Advanced Micro Devices, Inc. [AMD]");
        assertThat(rp.deviceName).isEqualTo("Starship/Matisse GPP Bridge");
        assertThat(rp.portType).as("'Express Root Port' without (v2)").isEqualTo("ROOT_PORT");
        assertThat(rp.secondaryBus).isEqualTo(1);
        assertThat(rp.bridgeWindows).extracting(w -> Long.toHexString(w.cpuStart) + "+" + Long.toHexString(w.size))
                .containsExactly("fb000000+1100000", "d0000000+12000000");
        assertThat(rp.capabilities).filteredOn(c -> c.extended).extracting(c -> c.id + "/v" + c.version)
                .containsExactly(0x0b + "/v0", 0x01 + "/v0", 0x0d + "/v0", 0x1e + "/v0");
        assertThat(rp.capabilities).anyMatch(c -> c.offset == 0xc8 && c.id == 0x08);
        assertThat(rp.acs).isNotNull();
        assertThat(rp.acs.offset).isEqualTo(0x2a0);
        assertThat(rp.acs.cap).isNull();
        assertThat(rp.acs.ctrl).isNull();
        assertThat(rp.notes).anyMatch(n -> n.contains("ACS bits unknown"));
        assertThat(rp.extendedCapsKnown).isTrue();
    }

    @Test
    void unknownAndBrokenCapabilities() {
        MachineDTO m = parse("caps.txt", """
                05:00.0 Signal processing controller: Acme Widgets Frobnicator (rev 02)
                \tControl: I/O- Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr- Stepping- SERR- FastB2B- DisINTx-
                \tRegion 0: Memory at <ignored> (64-bit, non-prefetchable)
                \tCapabilities: [40] #15 [0000]
                \tCapabilities: [50] Express (v2) Unknown type 3
                \tCapabilities: [100 v1] Frobnication Control
                \tCapabilities: [140 v1] <chain looped>
                """);
        DeviceDTO d = m.devices.get(0);
        assertThat(d.vendorName).isNull();
        assertThat(d.deviceName).isEqualTo("Acme Widgets Frobnicator");
        assertThat(d.classCode).isEqualTo(0x118000);
        assertThat(d.capabilities).extracting(c -> c.offset + "=" + c.id)
                .containsExactly(0x40 + "=" + 0x15, 0x50 + "=" + 0x10, 0x100 + "=-1");
        assertThat(d.portType).as("Express with an unknown type").isNull();
        assertThat(d.bars).singleElement().satisfies(b -> {
            assertThat(b.start).isNull();
            assertThat(b.disabled).isTrue();
            assertThat(b.mem64).isTrue();
        });
        assertThat(d.notes).anyMatch(n -> n.contains("'Frobnication Control'"))
                .anyMatch(n -> n.contains("Unknown type 3")).anyMatch(n -> n.contains("<chain looped>"));
    }
}
