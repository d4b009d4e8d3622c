package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;

import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/** What the doctor's reports are about: the endpoints of a machine, devices named by the user. */
final class Doctor {
    private Doctor() {
    }

    /**
     * The endpoints the matrix covers: functions that are not bridges (class 06xx) and not system
     * peripherals (08xx); a function of unknown class (a tree-only dump) in a host bridge's 00.0 slot is
     * taken for the host bridge's device, not an endpoint.
     */
    static List<PciDevice> endpoints(PciMachine m) {
        List<PciDevice> out = new ArrayList<>();
        for (PciDevice d : m.devices()) {
            boolean hostSlot = !d.classKnown() && d.bdf().devfn() == 0 && d.bus() != null && d.bus().isRoot();
            if (!d.isBridge() && (d.classCode() >> 16) != 0x06 && (d.classCode() >> 16) != 0x08 && !hostSlot) {
                out.add(d);
            }
        }
        return out;
    }

    /** dev - the device a user named. Errors: EINVAL for a malformed address, ENODEV for an absent device. */
    static PciDevice dev(PciMachine m, String bdf) {
        Bdf b = Bdf.parse(bdf);
        return m.device(b).orElseThrow(() -> KernelException.enodev("no PCI device %s in machine '%s'", b, m.name()));
    }

    static String shortType(org.peerdma.p2pdma.MapType t) {
        return switch (t) {
            case BUS_ADDR -> "BUS";
            case THRU_HOST_BRIDGE -> "HB";
            case NOT_SUPPORTED -> "NO";
            default -> t.name();
        };
    }
}
