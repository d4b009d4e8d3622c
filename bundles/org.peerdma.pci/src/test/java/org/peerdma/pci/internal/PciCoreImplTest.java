package org.peerdma.pci.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.pci.internal.Fixtures.bridge;
import static org.peerdma.pci.internal.Fixtures.dev;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciBusNotifier;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;

class PciCoreImplTest {
    private static Bdf b(String s) {
        return Bdf.parse(s);
    }

    @Test
    void placesDevicesBelowTheirBridges() {
        PciCoreImpl core = Fixtures.core("");
        PciMachine m = core.load(Fixtures.small());
        assertThat(m.devices()).hasSize(10);
        assertThat(m.hostBridges()).hasSize(2);
        PciDevice gpu = core.get(b("03:00.0"));
        assertThat(gpu.upstreamBridge().bdf()).isEqualTo(b("02:08.0"));
        assertThat(gpu.upstreamBridge().upstreamBridge().bdf()).isEqualTo(b("01:00.0"));
        assertThat(gpu.upstreamBridge().upstreamBridge().upstreamBridge().bdf()).isEqualTo(b("00:01.0"));
        assertThat(gpu.upstreamBridge().upstreamBridge().upstreamBridge().upstreamBridge()).isNull();
        assertThat(gpu.hostBridge().name()).isEqualTo("pci0000:00");
        assertThat(core.get(b("81:00.0")).hostBridge().name()).isEqualTo("pci0000:80");
        assertThat(gpu.hostBridge().firstDevice()).map(PciDevice::bdf).contains(b("00:00.0"));
        assertThat(gpu.bar(1)).hasValueSatisfying(bar -> {
            assertThat(bar.size()).isEqualTo(64L << 30);
            assertThat(bar.prefetchable()).isTrue();
            assertThat(bar.busStart()).isEqualTo(bar.start());
        });
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        assertThat(core.get(b("02:08.0")).portType()).isEqualTo(PciePortType.DOWNSTREAM_PORT);
        assertThat(core.get(b("01:00.0")).subordinate()).hasValueSatisfying(bus -> assertThat(bus.number()).isEqualTo(2));
    }

    @Test
    void busAddressUsesHostBridgeWindowOffset() {
        MachineDTO m = Fixtures.small();
        var w = new org.peerdma.pci.dto.WindowDTO();
        w.cpuStart = 0x380_0000_0000L;
        w.size = 0x10_0000_0000L;
        w.offset = 0x300_0000_0000L;
        w.prefetchable = true;
        m.hostBridges.get(0).windows.add(w);
        PciCoreImpl core = Fixtures.core("");
        core.load(m);
        var bar = core.get(b("03:00.0")).bar(1).orElseThrow();
        assertThat(bar.busStart()).isEqualTo(0x80_0000_0000L);
        assertThat(bar.busOffset()).isEqualTo(-0x300_0000_0000L);
        assertThat(core.get(b("03:00.0")).bar(0).orElseThrow().busOffset()).isZero();
    }

    @Test
    void infersRootBusesAndElidedBuses() {
        MachineDTO m = new MachineDTO();
        m.devices.add(bridge("0000:00:01.0", 1, 0x18, "ROOT_PORT", null));
        m.devices.add(bridge("0000:01:00.0", 2, 0x18, "UPSTREAM_PORT", null));
        m.devices.add(dev("0000:0e:00.0", 0x8086, 0xe223, 0x030000, null));
        PciCoreImpl core = Fixtures.core("");
        core.load(m);
        PciDevice gpu = core.get(b("0e:00.0"));
        assertThat(gpu.bus().isElided()).isTrue();
        assertThat(gpu.bus().parent().self().bdf()).isEqualTo(b("01:00.0"));
        assertThat(gpu.upstreamBridge()).isNull();
        assertThat(gpu.portType()).isEqualTo(PciePortType.UNKNOWN);
        assertThat(gpu.acsUnknown()).isFalse(); // extendedCapsKnown=true in the fixture
        assertThat(core.machine().hostBridges()).singleElement()
                .satisfies(h -> assertThat(h.isInferred()).isTrue());
        assertThat(core.machine().notes()).anyMatch(n -> n.contains("bus 0000:0e") && n.contains("0000:01:00.0"));
    }

    @Test
    void badDescriptionsAreRefusedAndTheOldMachineStays() {
        PciCoreImpl core = Fixtures.core("");
        core.load(Fixtures.small());
        long gen = core.machine().generation();

        MachineDTO dup = Fixtures.small();
        dup.devices.add(dev("0000:03:00.0", 1, 2, 0x030000, "ENDPOINT"));
        assertThatThrownBy(() -> core.load(dup)).isInstanceOf(KernelException.class)
                .hasMessageContaining("EINVAL").hasMessageContaining("duplicate device 0000:03:00.0");

        MachineDTO overlap = Fixtures.small();
        overlap.devices.add(bridge("0000:00:03.0", 3, 5, "ROOT_PORT", null));
        assertThatThrownBy(() -> core.load(overlap)).hasMessageContaining("overlapping bus ranges");

        MachineDTO badBdf = Fixtures.small();
        badBdf.devices.get(4).bdf = "00:1g.0";
        assertThatThrownBy(() -> core.load(badBdf)).hasMessageContaining("device #5")
                .hasMessageContaining("'00:1g.0' is not a PCI address");

        MachineDTO selfLoop = Fixtures.small();
        selfLoop.devices.add(bridge("0000:05:00.0", 5, 5, "ROOT_PORT", null));
        assertThatThrownBy(() -> core.load(selfLoop)).hasMessageContaining("secondary bus 05 is not above");

        assertThat(core.machine().name()).isEqualTo("small");
        assertThat(core.machine().devices()).hasSize(10);
        assertThat(core.machine().generation()).isEqualTo(gen);
    }

    @Test
    void removeTakesTheSubtreeChildrenFirstAndRescanBringsItBack() {
        PciCoreImpl core = Fixtures.core("");
        List<String> seen = new ArrayList<>();
        core.addNotifier(new PciBusNotifier() {
            @Override
            public void deviceRemoving(PciDevice dev) {
                seen.add("-" + dev.bdf().shortName());
            }

            @Override
            public void deviceAdded(PciDevice dev) {
                seen.add("+" + dev.bdf().shortName());
            }
        }, java.util.Map.of());
        core.load(Fixtures.small());
        seen.clear();
        PciDevice oldGpu = core.get(b("03:00.0"));
        List<Bdf> gone = core.remove(b("01:00.0"));
        assertThat(gone).containsExactly(b("03:00.0"), b("04:00.0"), b("02:08.0"), b("02:10.0"), b("01:00.0"));
        assertThat(seen).containsExactly("-03:00.0", "-04:00.0", "-02:08.0", "-02:10.0", "-01:00.0");
        assertThat(oldGpu.isRemoved()).isTrue();
        assertThat(core.find(b("03:00.0"))).isEmpty();
        assertThat(core.machine().devices()).hasSize(5);
        assertThat(core.get(b("00:01.0")).subordinate().orElseThrow().devices()).isEmpty();
        assertThatThrownBy(() -> core.remove(b("03:00.0"))).isInstanceOf(KernelException.class)
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENODEV));

        seen.clear();
        assertThat(core.rescan()).hasSize(5);
        assertThat(seen).hasSize(5).allMatch(s -> s.startsWith("+"));
        PciDevice gpu = core.get(b("03:00.0"));
        assertThat(gpu).isNotSameAs(oldGpu);
        assertThat(gpu.upstreamBridge().bdf()).isEqualTo(b("02:08.0"));
        assertThat(core.machine().devices()).hasSize(10);
        assertThat(core.rescan()).isEmpty();
    }

    @Test
    void hotUnplugIsNotFoundByRescanAndHotAddPlacesNewCards() {
        PciCoreImpl core = Fixtures.core("");
        core.load(Fixtures.small());
        core.hotUnplug(b("04:00.0"));
        assertThat(core.rescan()).isEmpty();
        DeviceDTO card = dev("0000:04:00.0", 0x144d, 0xa80a, 0x010802, "ENDPOINT");
        assertThat(core.hotAdd(List.of(card))).containsExactly(b("04:00.0"));
        assertThat(core.get(b("04:00.0")).upstreamBridge().bdf()).isEqualTo(b("02:10.0"));
        assertThatThrownBy(() -> core.hotAdd(List.of(dev("0000:04:00.0", 1, 2, 0, "ENDPOINT"))))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EEXIST));
        assertThatThrownBy(() -> core.hotAdd(List.of(dev("0000:42:00.0", 1, 2, 0, "ENDPOINT"))))
                .hasMessageContaining("no bridge or host bridge leads to bus 0000:42");
        assertThat(core.machine().devices()).hasSize(10);
    }

    @Test
    void setAcsCtrlKeepsOnlyImplementedBits() {
        PciCoreImpl core = Fixtures.core("");
        MachineDTO m = Fixtures.small();
        m.devices.get(3).acs.cap = Acs.SV | Acs.RR | Acs.CR | Acs.UF;
        core.load(m);
        long gen = core.machine().generation();
        assertThat(core.setAcsCtrl(b("02:08.0"), 0x7f)).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        assertThat(core.setAcsCtrl(b("02:08.0"), 0)).isZero();
        assertThat(core.get(b("02:08.0")).acsCtrl()).isZero();
        assertThat(core.machine().generation()).isGreaterThan(gen);
        assertThatThrownBy(() -> core.setAcsCtrl(b("03:00.0"), 4)).hasMessageContaining("no ACS capability");
        assertThatThrownBy(() -> core.setAcsCtrl(b("09:00.0"), 4))
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.ENODEV));
        assertThat(core.snapshot().devices.get(3).acs.ctrl).isZero();
    }

    /** pci=config_acs= as 6.11+ parses and applies it (with the v6.15 fix, in 6.12.y too). */
    @Test
    void configAcsSetsForcedBitsAndTakesTheRestFromFirmware() {
        // root port 00:01.0 at ACSCtl 0: "11xx" forces CR and RR on (the case: 6.12 sets 0x000c)
        PciCoreImpl core = Fixtures.core("config_acs=11xx@0000:00:01.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("00:01.0")).acsCtrl()).isEqualTo(Acs.RR | Acs.CR);
        assertThat(core.cmdlineLog()).contains("0000:00:01.0: Configured ACS to 0x000c");
        assertThat(core.get(b("02:08.0")).acsCtrl()).as("not listed: untouched").isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);

        // several entries, the first that names the device wins; rightmost character is SV
        core = Fixtures.core("config_acs=0000000@0000:02:10.0;x0x00xx@0000:02:08.0;1111111@0000:02:08.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:10.0")).acsCtrl()).isZero();
        assertThat(core.get(b("02:08.0")).acsCtrl()).as("RR CR EC cleared, SV UF kept").isEqualTo(Acs.SV | Acs.UF);

        // both options on one device: config_acs runs second and starts from the firmware value too
        core = Fixtures.core("disable_acs_redir=0000:02:08.0,config_acs=1xxxx@0000:02:08.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);

        // malformed: no '@', a bad character, a bit beyond DT: the device keeps its value, the log says why
        for (String bad : new String[] {"config_acs=0000:02:08.0", "config_acs=1z@0000:02:08.0",
                "config_acs=10000000@0000:02:08.0"}) {
            core = Fixtures.core(bad);
            core.load(Fixtures.small());
            assertThat(core.get(b("02:08.0")).acsCtrl()).as(bad).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
            assertThat(core.cmdlineLog()).as(bad).anyMatch(l -> l.contains("ACS Flags missing")
                    || l.contains("Invalid ACS flags specified") || l.contains("Invalid ACS flags... Ignoring"));
            assertThat(core.cmdlineLog()).noneMatch(l -> l.contains("Unknown option"));
        }
    }

    @Test
    void disableAcsRedirByAddressPathAndIds() {
        // before 6.11 pci_disable_acs_redir() logs its own line; 6.11 and later __pci_config_acs() logs the value
        PciCoreImpl core = Fixtures.core("disable_acs_redir=0000:02:08.0", "off", "5.15");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.UF);
        assertThat(core.cmdlineLog()).contains("0000:02:08.0: disabled ACS redirect");
        core = Fixtures.core("disable_acs_redir=0000:02:08.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.UF);
        assertThat(core.cmdlineLog()).contains("0000:02:08.0: Configured ACS to 0x0011");

        // path form: 00:01.0/00.0/08.0 walks root port -> switch upstream -> downstream port
        core = Fixtures.core("disable_acs_redir=00:01.0/00.0/08.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.UF);
        // a wrong intermediate devfn does not match
        core = Fixtures.core("disable_acs_redir=00:01.0/01.0/08.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);

        // vendor:device form matches every PEX 8747 port; ports without ACS get the kernel's warning
        core = Fixtures.core("disable_acs_redir=pci:10b5:8747", "off", "v5.10");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.UF);
        assertThat(core.cmdlineLog()).contains(
                "0000:01:00.0: cannot disable ACS redirect for this hardware as it does not have ACS capabilities");

        // ';' separates devices
        core = Fixtures.core("disable_acs_redir=pci:1234:5678;02:08.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.UF);
    }

    /**
     * pci_enable_acs() with an IOMMU driver (pci_request_acs): the kernel's default ACS first, then the options,
     * as each release computes them. The root port 00:01.0 of the fixture advertises SV RR CR UF with firmware
     * ACSCtl 0, as on QEMU: a real 6.12 kernel with the IOMMU on and disable_acs_redir= naming it leaves 0x0000.
     */
    @Test
    void theIommusDefaultAcsThenTheOptionsAsEachReleaseDoesIt() {
        String redir = "disable_acs_redir=0000:00:01.0";
        PciCoreImpl on = Fixtures.core("", "on", "6.12.23");
        on.load(Fixtures.small());
        assertThat(on.get(b("00:01.0")).acsCtrl()).as("pci_std_enable_acs").isEqualTo(0x001d);
        assertThat(on.cmdlineLog()).anyMatch(l -> l.contains("IOMMU on: pci_request_acs()"));

        PciCoreImpl fixed = Fixtures.core(redir, "on", "6.12.23");
        fixed.load(Fixtures.small());
        assertThat(fixed.get(b("00:01.0")).acsCtrl()).as("6.15 rules: from fw_ctrl").isZero();
        assertThat(fixed.cmdlineLog()).contains("0000:00:01.0: Configured ACS to 0x0000");
        assertThat(fixed.get(b("80:02.0")).acsCtrl()).as("not named: the kernel's default").isEqualTo(0x001d);

        PciCoreImpl old = Fixtures.core(redir, "pt", "5.15.0-91-generic");
        old.load(Fixtures.small());
        assertThat(old.get(b("00:01.0")).acsCtrl()).as("v5: after the default").isEqualTo(Acs.SV | Acs.UF);
        assertThat(old.cmdlineLog()).contains("0000:00:01.0: disabled ACS redirect");

        // 6.12.0 before the fix: the mask bits come back from firmware and every flag bit is set; the register
        // keeps what the port implements (all seven bits here)
        PciCoreImpl unfixed = Fixtures.core(redir, "on", "6.12");
        unfixed.load(Fixtures.small());
        assertThat(unfixed.cmdlineLog()).contains("0000:00:01.0: Configured ACS to 0xffd3");
        assertThat(unfixed.get(b("00:01.0")).acsCtrl()).isEqualTo(0xffd3 & unfixed.get(b("00:01.0")).acsCap());
        // ... and a config_acs= list reads only its first entry
        unfixed = Fixtures.core("config_acs=0000000@0000:80:02.0;0000000@0000:00:01.0", "off", "6.12.22");
        unfixed.load(Fixtures.small());
        assertThat(unfixed.cmdlineLog()).contains("PCI: Can't parse ACS command line parameter");
        fixed = Fixtures.core("config_acs=0000000@0000:80:02.0;0000000@0000:00:01.0", "on", "6.15");
        fixed.load(Fixtures.small());
        assertThat(fixed.get(b("00:01.0")).acsCtrl()).isZero();
        assertThat(fixed.get(b("80:02.0")).acsCtrl()).isZero();
        assertThat(fixed.cmdlineLog()).noneMatch(l -> l.contains("Can't parse"));

        // before 6.11 config_acs= does not exist
        PciCoreImpl v5 = Fixtures.core("config_acs=0000000@0000:00:01.0", "on", "6.10");
        v5.load(Fixtures.small());
        assertThat(v5.cmdlineLog()).contains("PCI: Unknown option `config_acs=0000000@0000:00:01.0'");
        assertThat(v5.get(b("00:01.0")).acsCtrl()).isEqualTo(0x001d);

        // modprobe refuses an iommu outside on/pt/off (metatype options); a configuration that holds one anyway,
        // or a release that is none, is reported and read as the default: the core still comes up
        PciCoreImpl odd = Fixtures.core(redir, "maybe", "six");
        odd.load(Fixtures.small());
        assertThat(odd.cmdlineLog()).contains("pci: release=six is not a kernel release (6.12, 6.12.23, "
                + "5.15.0-91-generic): the machine's own release, else the newest, applies");
        assertThat(odd.get(b("00:01.0")).acsCtrl()).isZero();
        odd = Fixtures.core("", "maybe", "");
        assertThat(odd.cmdlineLog()).contains("pci: iommu=maybe is not on, pt or off: read as off");
    }

    /** detached(dto, Boot) is the what-if of a reboot: the loaded machine does not change; the log is in notes. */
    @Test
    void aDetachedBootAppliesItsOwnOptionsAndLeavesTheLoadedMachine() {
        PciCoreImpl core = new PciCoreImpl();
        core.load(Fixtures.small());
        var m = core.detached(core.snapshot(), new org.peerdma.pci.Boot("disable_acs_redir=0000:00:01.0", "on", "6.12.23"));
        assertThat(m.device(b("00:01.0")).orElseThrow().acsCtrl()).isZero();
        assertThat(m.device(b("80:02.0")).orElseThrow().acsCtrl()).isEqualTo(0x001d);
        assertThat(m.notes()).contains("booted: 0000:00:01.0: Configured ACS to 0x0000");
        assertThat(core.get(b("80:02.0")).acsCtrl()).as("loaded machine untouched").isZero();
        assertThatThrownBy(() -> core.detached(core.snapshot(), new org.peerdma.pci.Boot(null, null, "x.y")))
                .hasMessageContaining("not a kernel release");
    }

    @Test
    void pciSetupSplitsOnCommaFirst() {
        // pci_setup() splits pci= on ',' before disable_acs_redir sees it: the second device is an unknown option
        PciCoreImpl core = Fixtures.core("disable_acs_redir=00:01.0,02:08.0");
        core.load(Fixtures.small());
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        assertThat(core.cmdlineLog()).contains("PCI: Unknown option `02:08.0'");
        // a malformed device string is reported once and matches nothing
        core = Fixtures.core("disable_acs_redir=zz:00.0", "off", "5.15");
        core.load(Fixtures.small());
        assertThat(core.cmdlineLog()).anyMatch(l -> l.startsWith("PCI: Can't parse disable_acs_redir parameter"));
        core = Fixtures.core("disable_acs_redir=zz:00.0");
        core.load(Fixtures.small());
        assertThat(core.cmdlineLog()).contains("PCI: Can't parse ACS command line parameter");
        core = Fixtures.core("realloc=off,bogus");
        assertThat(core.cmdlineLog()).contains("pci=realloc=off: accepted by the kernel, not modelled by peerdma",
                "PCI: Unknown option `bogus'");
    }

    @Test
    void rebootRestoresHardwareStateWithNewOptions() {
        PciCoreImpl core = Fixtures.core("");
        core.load(Fixtures.small());
        core.setAcsCtrl(b("02:08.0"), 0);
        core.hotUnplug(b("81:00.0"));
        core.modified(Fixtures.cmdline("disable_acs_redir=02:08.0"));
        assertThat(core.get(b("02:08.0")).acsCtrl()).isZero();
        core.reboot();
        assertThat(core.find(b("81:00.0"))).isPresent();
        assertThat(core.get(b("02:08.0")).acsCtrl()).isEqualTo(Acs.SV | Acs.UF);
    }

    @Test
    void referencesAreCountedAndReleased() {
        PciCoreImpl core = Fixtures.core("");
        core.load(Fixtures.small());
        var r = core.acquire(b("03:00.0"), "p2pdma");
        assertThat(core.holders()).containsExactly("p2pdma -> 0000:03:00.0");
        r.close();
        r.close();
        assertThat(core.holders()).isEmpty();
        assertThatThrownBy(() -> core.acquire(b("03:00.0"), " ")).hasMessageContaining("holder");
    }

    @Test
    void snapshotRoundTripsThroughLoad() {
        PciCoreImpl core = Fixtures.core("");
        core.load(Fixtures.small());
        MachineDTO snap = core.snapshot();
        PciCoreImpl other = Fixtures.core("");
        other.load(snap);
        assertThat(other.snapshot().devices).hasSameSizeAs(snap.devices);
        for (int i = 0; i < snap.devices.size(); i++) {
            DeviceDTO a = snap.devices.get(i);
            DeviceDTO c = other.snapshot().devices.get(i);
            assertThat(c.bdf).isEqualTo(a.bdf);
            assertThat(c.secondaryBus).isEqualTo(a.secondaryBus);
            assertThat(c.bars).hasSameSizeAs(a.bars);
        }
        assertThat(other.get(b("03:00.0")).upstreamBridge().bdf()).isEqualTo(b("02:08.0"));
    }

    @Test
    void bdfParsing() {
        assertThat(Bdf.parse("0000:c1:00.0")).isEqualTo(new Bdf(0, 0xc1, 0, 0));
        assertThat(Bdf.parse("c1:1f.7").toString()).isEqualTo("0000:c1:1f.7");
        assertThat(new Bdf(0, 2, 8, 0).devfn()).isEqualTo(0x40);
        assertThatThrownBy(() -> Bdf.parse("c1:20.0")).hasMessageContaining("EINVAL");
        assertThatThrownBy(() -> Bdf.parse("c1:00.8")).hasMessageContaining("not a PCI address");
    }
}
