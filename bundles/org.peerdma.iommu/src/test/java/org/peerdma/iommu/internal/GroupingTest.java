package org.peerdma.iommu.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.iommu.internal.Machines.ISOLATED;
import static org.peerdma.iommu.internal.Machines.acs;
import static org.peerdma.iommu.internal.Machines.bridge;
import static org.peerdma.iommu.internal.Machines.dev;
import static org.peerdma.iommu.internal.Machines.get;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.iommu.Iommu;
import org.peerdma.iommu.IommuGroup;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** IOMMU groups of real machines built by the PCI core, against pci_device_group / pci_acs_enabled. */
class GroupingTest {

    private static List<String> names(IommuGroup g) {
        return g.members().stream().map(PciDevice::name).toList();
    }

    @Test
    void downstreamPortsWithFullAcsGiveEachEndpointItsOwnGroup() {
        PciCoreImpl core = Machines.load(Machines.switchBox(ISOLATED, ISOLATED, ISOLATED));
        IommuImpl iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        IommuGroup gpu = iommu.group(get(core, "03:00.0"));
        IommuGroup nvme = iommu.group(get(core, "04:00.0"));
        assertThat(names(gpu)).containsExactly("0000:03:00.0");
        assertThat(names(nvme)).containsExactly("0000:04:00.0");
        assertThat(gpu.id()).isNotEqualTo(nvme.id());
        assertThat(gpu.reason()).isEqualTo("ACS SV RR CR UF isolation from 0000:02:00.0 up to the root");
        // every device is alone; ids follow probe order
        assertThat(iommu.groups()).hasSize(7).allSatisfy(g -> assertThat(g.members()).hasSize(1));
        assertThat(iommu.groups()).extracting(IommuGroup::id).containsExactly(0, 1, 2, 3, 4, 5, 6);
        assertThat(iommu.group(get(core, "00:00.0")).reason()).isEqualTo("on root bus 0000:00");
    }

    @Test
    void downstreamPortWithoutRequestRedirectSharesItsGroupWithWhatIsBelowIt() {
        int noRr = Acs.SV | Acs.CR | Acs.UF;
        PciCoreImpl core = Machines.load(Machines.switchBox(ISOLATED, ISOLATED, noRr));
        IommuImpl iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        IommuGroup nvme = iommu.group(get(core, "04:00.0"));
        // the walk up from bus 04 stops at the port's group: the port and the NVMe share it;
        // the sibling port and its GPU stay apart (the pre-6.x grouping does not spoil the bus)
        assertThat(names(nvme)).containsExactly("0000:02:01.0", "0000:04:00.0");
        assertThat(nvme.reason()).isEqualTo("no ACS isolation on 0000:02:01.0 (ACSCtl lacks RR)");
        assertThat(names(iommu.group(get(core, "03:00.0")))).containsExactly("0000:03:00.0");
        assertThat(names(iommu.group(get(core, "02:00.0")))).containsExactly("0000:02:00.0");
    }

    @Test
    void rootPortWithoutAcsPutsEverythingBelowItInOneGroup() {
        PciCoreImpl core = Machines.load(Machines.switchBox(0, ISOLATED, ISOLATED));
        IommuImpl iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        IommuGroup g = iommu.group(get(core, "04:00.0"));
        assertThat(names(g)).containsExactly("0000:00:01.0", "0000:01:00.0", "0000:02:00.0", "0000:02:01.0",
                "0000:03:00.0", "0000:04:00.0");
        assertThat(g.reason()).isEqualTo("no ACS isolation on 0000:00:01.0 (ACSCtl lacks SV RR CR UF)");
        assertThat(iommu.group(get(core, "03:00.0"))).isSameAs(g);

        PciCoreImpl noCap = Machines.load(Machines.switchBox(null, ISOLATED, ISOLATED));
        IommuGroup g2 = Machines.iommu(noCap, Iommu.MODE_TRANSLATED, 48).group(get(noCap, "03:00.0"));
        assertThat(g2.members()).hasSize(6);
        assertThat(g2.reason()).isEqualTo("no ACS isolation on 0000:00:01.0 (no ACS capability)");
    }

    @Test
    void capabilityBitsNotImplementedCountAsHardWiredOn() {
        // pci_acs_flags_enabled: acs_flags &= (cap | EC); a port whose ACS cannot redirect has nothing to turn on
        MachineDTO m = Machines.switchBox(ISOLATED, ISOLATED, null);
        DeviceDTO dsp = m.devices.stream().filter(d -> d.bdf.equals("0000:02:01.0")).findFirst().orElseThrow();
        acs(dsp, Acs.SV | Acs.UF, Acs.SV | Acs.UF);
        PciCoreImpl core = Machines.load(m);
        assertThat(Machines.iommu(core, Iommu.MODE_TRANSLATED, 48).group(get(core, "04:00.0")).members()).hasSize(1);
    }

    @Test
    void multifunctionEndpointsWithoutAcsShareAGroupAndWithAcsDoNot() {
        MachineDTO m = Machines.switchBox(ISOLATED, ISOLATED, ISOLATED);
        DeviceDTO f0 = dev("0000:03:00.0", 0x020000, "ENDPOINT");
        DeviceDTO f1 = dev("0000:03:00.1", 0x020000, "ENDPOINT");
        f0.multifunction = true;
        f1.multifunction = true;
        m.devices.removeIf(d -> d.bdf.equals("0000:03:00.0"));
        m.devices.add(f0);
        m.devices.add(f1);
        PciCoreImpl core = Machines.load(m);
        IommuImpl iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        IommuGroup g = iommu.group(get(core, "03:00.1"));
        assertThat(names(g)).containsExactly("0000:03:00.0", "0000:03:00.1");
        assertThat(g.reason()).isEqualTo("multifunction 0000:03:00.1 and 0000:03:00.0 share a slot without ACS "
                + "isolation (no ACS isolation on 0000:03:00.1 (multifunction, no ACS capability))");

        acs(f0, ISOLATED, ISOLATED);
        acs(f1, ISOLATED, ISOLATED);
        PciCoreImpl core2 = Machines.load(m);
        IommuImpl iommu2 = Machines.iommu(core2, Iommu.MODE_TRANSLATED, 48);
        assertThat(names(iommu2.group(get(core2, "03:00.1")))).containsExactly("0000:03:00.1");
        assertThat(names(iommu2.group(get(core2, "03:00.0")))).containsExactly("0000:03:00.0");
    }

    @Test
    void multifunctionRootPortsWithoutAcsShareTheirGroupWithEverythingBelowBoth() {
        // the PCH pattern: 00:1c.0 and 00:1c.4 are functions of one slot with no ACS
        MachineDTO m = Machines.empty("pch");
        DeviceDTO rp0 = bridge("0000:00:1c.0", 1, 1, "ROOT_PORT", null);
        DeviceDTO rp4 = bridge("0000:00:1c.4", 2, 2, "ROOT_PORT", null);
        rp0.multifunction = true;
        rp4.multifunction = true;
        m.devices.add(rp0);
        m.devices.add(rp4);
        m.devices.add(dev("0000:01:00.0", 0x020000, "ENDPOINT"));
        m.devices.add(dev("0000:02:00.0", 0x010802, "ENDPOINT"));
        // a single-function RC integrated endpoint needs no ACS, a multifunction one does
        DeviceDTO rc = dev("0000:00:14.0", 0x0c0330, "RC_INTEGRATED_ENDPOINT");
        m.devices.add(rc);
        DeviceDTO mf0 = dev("0000:00:1f.0", 0x060100, "RC_INTEGRATED_ENDPOINT");
        DeviceDTO mf3 = dev("0000:00:1f.3", 0x040300, "RC_INTEGRATED_ENDPOINT");
        mf0.multifunction = true;
        mf3.multifunction = true;
        m.devices.add(mf0);
        m.devices.add(mf3);
        PciCoreImpl core = Machines.load(m);
        IommuImpl iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        assertThat(names(iommu.group(get(core, "02:00.0"))))
                .containsExactly("0000:00:1c.0", "0000:00:1c.4", "0000:01:00.0", "0000:02:00.0");
        assertThat(names(iommu.group(get(core, "00:14.0")))).containsExactly("0000:00:14.0");
        assertThat(names(iommu.group(get(core, "00:1f.3")))).containsExactly("0000:00:1f.0", "0000:00:1f.3");
    }

    @Test
    void devicesBehindAPcieToPciBridgeUseTheBridgesRequesterIdAndGroup() {
        MachineDTO m = Machines.switchBox(ISOLATED, ISOLATED, ISOLATED);
        m.devices.removeIf(d -> d.bdf.equals("0000:04:00.0"));
        m.devices.stream().filter(d -> d.bdf.equals("0000:02:01.0")).findFirst().orElseThrow().subordinateBus = 5;
        m.devices.stream().filter(d -> d.bdf.equals("0000:01:00.0")).findFirst().orElseThrow().subordinateBus = 5;
        m.devices.stream().filter(d -> d.bdf.equals("0000:00:01.0")).findFirst().orElseThrow().subordinateBus = 5;
        m.devices.add(bridge("0000:04:00.0", 5, 5, "PCIE_TO_PCI_BRIDGE", null));
        m.devices.add(dev("0000:05:01.0", 0x070000, "CONVENTIONAL"));
        m.devices.add(dev("0000:05:02.0", 0x070000, "CONVENTIONAL"));
        PciCoreImpl core = Machines.load(m);
        IommuImpl iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        IommuGroup g = iommu.group(get(core, "05:02.0"));
        assertThat(names(g)).containsExactly("0000:04:00.0", "0000:05:01.0", "0000:05:02.0");
        assertThat(g.reason()).isEqualTo("requester ID of devices below 0000:04:00.0 is the bridge's (PCIe-to-PCI bridge)");
    }

    @Test
    void groupsFollowSetpciOnAcsControlAndHotplug() {
        PciCoreImpl core = Machines.load(Machines.switchBox(ISOLATED, ISOLATED, Acs.SV | Acs.CR | Acs.UF));
        IommuImpl iommu = Machines.iommu(core, Iommu.MODE_TRANSLATED, 48);
        PciDevice nvme = get(core, "04:00.0");
        assertThat(iommu.group(nvme).members()).hasSize(2);

        core.setAcsCtrl(Bdf.parse("02:01.0"), ISOLATED);
        assertThat(names(iommu.group(nvme))).containsExactly("0000:04:00.0");
        assertThat(iommu.groups()).hasSize(7);

        core.setAcsCtrl(Bdf.parse("00:01.0"), Acs.SV);
        assertThat(iommu.group(nvme).members()).hasSize(6);
        assertThat(iommu.group(nvme).reason()).isEqualTo("no ACS isolation on 0000:00:01.0 (ACSCtl lacks RR CR UF)");

        core.setAcsCtrl(Bdf.parse("00:01.0"), ISOLATED);
        core.hotUnplug(Bdf.parse("04:00.0"));
        assertThatThrownBy(() -> iommu.group(nvme)).isInstanceOfSatisfying(KernelException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.ENODEV));
        assertThat(iommu.groups()).hasSize(6);
        DeviceDTO added = dev("0000:04:00.0", 0x010802, "ENDPOINT");
        core.hotAdd(List.of(added));
        assertThat(names(iommu.group(get(core, "04:00.0")))).containsExactly("0000:04:00.0");
    }

    @Test
    void offModeHasNoGroupsAndIdentityModeHasIdentityDomains() {
        PciCoreImpl core = Machines.load(Machines.switchBox(ISOLATED, ISOLATED, ISOLATED));
        IommuImpl off = Machines.iommu(core, Iommu.MODE_OFF, 48);
        assertThat(off.groups()).isEmpty();
        assertThatThrownBy(() -> off.group(get(core, "03:00.0"))).isInstanceOfSatisfying(KernelException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.ENODEV));
        IommuImpl pt = Machines.iommu(core, Iommu.MODE_IDENTITY, 48);
        assertThat(pt.groups()).hasSize(7);
        assertThat(pt.domainType(get(core, "03:00.0"))).isEqualTo(Iommu.DOMAIN_IDENTITY);
        assertThat(Machines.iommu(core, Iommu.MODE_TRANSLATED, 48).domainType(get(core, "03:00.0")))
                .isEqualTo(Iommu.DOMAIN_DMA);
    }

    @Test
    void badConfigurationIsRefusedWithEinval() {
        PciCoreImpl core = Machines.load(Machines.switchBox(ISOLATED, ISOLATED, ISOLATED));
        assertThatThrownBy(() -> Machines.iommu(core, "pt", 48)).isInstanceOfSatisfying(KernelException.class,
                e -> assertThat(e.getMessage()).isEqualTo("EINVAL: iommu mode 'pt' is not translated, identity or off"));
        assertThatThrownBy(() -> Machines.iommu(core, Iommu.MODE_TRANSLATED, 12))
                .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
    }
}
