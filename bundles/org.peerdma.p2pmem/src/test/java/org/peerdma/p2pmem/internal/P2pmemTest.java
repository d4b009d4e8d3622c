package org.peerdma.p2pmem.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pmem.P2pmemDevice;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** The RFC's rules next to p2pdma's, on the same machine. */
class P2pmemTest {
    private PciCoreImpl core;
    private ZoneDevice zone;
    private P2pmemClassImpl cls;

    private static DeviceDTO dev(String bdf, String type, Integer sec, Integer sub) {
        DeviceDTO d = new DeviceDTO();
        d.bdf = bdf;
        d.vendor = 0x10b5;
        d.device = 0x8747;
        d.portType = type;
        d.extendedCapsKnown = true;
        d.secondaryBus = sec;
        d.subordinateBus = sub;
        d.classCode = sec == null ? 0x010802 : 0x060400;
        return d;
    }

    /** Root port 00:01.0 -> switch 01:00.0 -> DSPs 02:00.0 (NVMe 03:00.0), 02:01.0 (NIC 04:00.0); NIC 05:00.0 on root port 00:02.0. */
    @BeforeEach
    void setUp() {
        MachineDTO m = new MachineDTO();
        m.devices.add(dev("0000:00:00.0", "ROOT_PORT", null, null));
        m.devices.add(dev("0000:00:01.0", "ROOT_PORT", 1, 4));
        m.devices.add(dev("0000:00:02.0", "ROOT_PORT", 5, 5));
        m.devices.add(dev("0000:01:00.0", "UPSTREAM_PORT", 2, 4));
        m.devices.add(dev("0000:02:00.0", "DOWNSTREAM_PORT", 3, 3));
        m.devices.add(dev("0000:02:01.0", "DOWNSTREAM_PORT", 4, 4));
        DeviceDTO nvme = dev("0000:03:00.0", "ENDPOINT", null, null);
        BarDTO b = new BarDTO();
        b.index = 4;
        b.start = 0x3a100000000L;
        b.size = 1 << 20;
        b.prefetchable = true;
        nvme.bars.add(b);
        m.devices.add(nvme);
        m.devices.add(dev("0000:04:00.0", "ENDPOINT", null, null));
        m.devices.add(dev("0000:05:00.0", "ENDPOINT", null, null));
        core = new PciCoreImpl();
        core.load(m);
        zone = TestZone.zone();
        cls = new P2pmemClassImpl();
        cls.core = core;
        cls.zone = zone;
    }

    private PciDevice d(String b) {
        return core.get(Bdf.parse(b));
    }

    @Test
    void driversCreateClassDevicesAndClientsMustShareTheSwitch() {
        P2pmemDevice p = cls.create(d("03:00.0"));
        assertThat(p.name()).isEqualTo("p2pmem0");
        cls.addPciRegion(p, d("03:00.0"), 4);
        assertThat(cls.stats(p)).isEqualTo("total size: 1048576\navailable:  1048576\n");
        assertThatThrownBy(() -> cls.addPciRegion(p, d("03:00.0"), 4)).isInstanceOf(KernelException.class)
                .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EBUSY));
        List<String> log = new ArrayList<>();
        P2pmemDevice found = cls.findCompat(List.of(DeviceNode.of(d("04:00.0"))), log).orElseThrow();
        assertThat(found).isSameAs(p);
        assertThat(log).contains("p2pmem0: 0000:04:00.0 is compatible");
        cls.put(found);
        log.clear();
        // a device on a root port has no switch: rejected (p2pdma would go through the host bridge)
        assertThat(cls.findCompat(List.of(DeviceNode.of(d("05:00.0"))), log)).isEmpty();
        assertThat(log).contains("p2pmem0: 0000:05:00.0 is not a pci device behind a switch");
        assertThat(cls.findCompat(List.of(DeviceNode.platform("plat", null)), log)).isEmpty();
        assertThat(cls.devices()).extracting(P2pmemDevice::name).containsExactly("p2pmem0");
        assertThatThrownBy(() -> cls.findCompat(List.of(), log)).hasMessageContaining("at least one");
    }

    @Test
    void allocationsHoldNoReferenceSoUnregisterUnmapsUnderThem() {
        P2pmemDevice p = cls.create(d("03:00.0"));
        cls.addPciRegion(p, d("03:00.0"), 4);
        long v = cls.alloc(p, 5000);
        assertThat(v).isNotZero();
        assertThat(p.available()).isEqualTo((1 << 20) - 8192);
        assertThat(cls.alloc(p, 2 << 20)).isZero();
        P2pmemDevice ref = cls.findCompat(List.of(DeviceNode.of(d("04:00.0"))), new ArrayList<>()).orElseThrow();
        cls.unregister(p);
        assertThat(cls.devices()).isEmpty();
        assertThat(zone.pagemaps()).hasSize(1); // the find_compat reference keeps the device
        cls.put(ref);
        assertThat(zone.pagemaps()).isEmpty(); // gone, though 8 KiB were still allocated
        assertThat(core.references()).isEmpty();
        P2pmemDevice again = cls.create(d("03:00.0"));
        assertThat(again.name()).isEqualTo("p2pmem0"); // the id is reused
        cls.addPciRegion(again, d("03:00.0"), 4); // and the region was released
    }

    @Test
    void aFailedProbeDropsTheDeviceReferenceItTook() {
        P2pmemDevice p = cls.create(d("03:00.0"));
        assertThat(core.references()).anyMatch(r -> r.contains(p.name()));
        // what p2pmem:probe does when the region cannot be added: unregister the half-made device
        assertThatThrownBy(() -> cls.addPciRegion(p, d("04:00.0"), 0)).isInstanceOf(KernelException.class);
        cls.unregister(p);
        assertThat(core.references()).as("no reference left behind").noneMatch(r -> r.contains(p.name()));
    }

    @Test
    void badArguments() {
        P2pmemDevice p = cls.create(d("03:00.0"));
        assertThatThrownBy(() -> cls.addPciRegion(p, d("04:00.0"), 0)).hasMessageContaining("not an assigned memory BAR");
        cls.addPciRegion(p, d("03:00.0"), 4);
        assertThatThrownBy(() -> cls.free(p, 0x1234, 4096)).isInstanceOf(KernelException.class);
        long v = cls.alloc(p, 4096);
        cls.free(p, v, 4096);
        assertThatThrownBy(() -> cls.free(p, v, 4096)).hasMessageContaining("not allocated");
    }
}
