package org.peerdma.pci.internal;

import java.util.List;
import java.util.Optional;

import org.peerdma.pci.Acs;
import org.peerdma.pci.Bar;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.Capability;
import org.peerdma.pci.PciBus;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.dto.DeviceDTO;

/** struct pci_dev of the model. Topology fields are fixed at enumeration. */
final class DevImpl implements PciDevice {
    final Bdf bdf;
    final DeviceDTO dto; // private deep copy; acs.ctrl kept in step with acsCtrl
    final int vendor;
    final int device;
    final int subVendor;
    final int subDevice;
    final int classCode;
    final int revision;
    final int headerType;
    final boolean multifunction;
    final PciePortType portType;
    final int secondary;
    final int subordinateNr;
    final List<Capability> caps;
    final boolean extKnown;
    final int acsOffset;
    final int acsCap;
    final boolean acsUnknown;
    final boolean acsPresent;
    BusImpl bus;
    BusImpl subordinate;
    DevImpl physfn;
    List<Bar> bars = List.of();
    volatile int acsCtrl;
    volatile boolean removed;

    DevImpl(Bdf bdf, DeviceDTO dto, boolean acsPresent, int acsOffset, int acsCap, int acsCtrl,
            boolean acsUnknown, List<Capability> caps, PciePortType portType, int headerType) {
        this.acsPresent = acsPresent;
        this.bdf = bdf;
        this.dto = dto;
        this.vendor = nz(dto.vendor, 0xffff);
        this.device = nz(dto.device, 0xffff);
        this.subVendor = nz(dto.subsystemVendor, 0);
        this.subDevice = nz(dto.subsystemDevice, 0);
        this.classCode = nz(dto.classCode, 0);
        this.revision = nz(dto.revision, 0);
        this.headerType = headerType;
        this.multifunction = Boolean.TRUE.equals(dto.multifunction);
        this.portType = portType;
        this.secondary = dto.secondaryBus == null ? -1 : dto.secondaryBus;
        this.subordinateNr = dto.subordinateBus == null ? secondary : dto.subordinateBus;
        this.caps = List.copyOf(caps);
        this.extKnown = Boolean.TRUE.equals(dto.extendedCapsKnown);
        this.acsOffset = acsOffset;
        this.acsCap = acsCap;
        this.acsCtrl = acsCtrl;
        this.acsUnknown = acsUnknown;
    }

    private static int nz(Integer v, int dflt) {
        return v == null ? dflt : v;
    }

    @Override
    public Bdf bdf() {
        return bdf;
    }

    @Override
    public int vendor() {
        return vendor;
    }

    @Override
    public int device() {
        return device;
    }

    @Override
    public int subsystemVendor() {
        return subVendor;
    }

    @Override
    public int subsystemDevice() {
        return subDevice;
    }

    @Override
    public int classCode() {
        return classCode;
    }

    @Override
    public int revision() {
        return revision;
    }

    @Override
    public int headerType() {
        return headerType;
    }

    @Override
    public boolean isMultifunction() {
        return multifunction;
    }

    @Override
    public String linkSpeed() {
        return dto.linkSpeed == null ? "" : dto.linkSpeed;
    }

    @Override
    public int linkWidth() {
        return dto.linkWidth == null ? 0 : dto.linkWidth;
    }

    @Override
    public String linkCapSpeed() {
        return dto.linkCapSpeed == null ? "" : dto.linkCapSpeed;
    }

    @Override
    public int linkCapWidth() {
        return dto.linkCapWidth == null ? 0 : dto.linkCapWidth;
    }

    @Override
    public long register(String which) {
        Integer v = switch (which) {
            case "command" -> dto.command;
            case "status" -> dto.status;
            case "devcap" -> dto.devCap;
            case "devctl" -> dto.devCtl;
            case "devsta" -> dto.devSta;
            case "lnkcap" -> dto.lnkCap;
            case "lnksta" -> dto.lnkSta;
            default -> null;
        };
        return v == null ? -1 : which.equals("devcap") || which.equals("lnkcap") ? v & 0xffffffffL : v & 0xffff;
    }

    @Override
    public PciePortType portType() {
        return portType;
    }

    @Override
    public boolean isBridge() {
        return headerType == 1;
    }

    @Override
    public int secondaryBus() {
        return secondary;
    }

    @Override
    public int subordinateBus() {
        return isBridge() ? subordinateNr : -1;
    }

    @Override
    public PciBus bus() {
        return bus;
    }

    @Override
    public Optional<PciBus> subordinate() {
        return Optional.ofNullable(subordinate);
    }

    @Override
    public PciDevice upstreamBridge() {
        DevImpl d = physfn != null ? physfn : this;
        return d.bus.self;
    }

    @Override
    public PciHostBridge hostBridge() {
        return bus.host;
    }

    @Override
    public List<Bar> bars() {
        return bars;
    }

    @Override
    public Optional<Bar> bar(int index) {
        for (Bar b : bars) {
            if (b.index() == index) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    @Override
    public List<Capability> capabilities() {
        return caps;
    }

    @Override
    public Optional<Capability> capability(boolean extended, int id) {
        for (Capability c : caps) {
            if (c.extended() == extended && c.id() == id) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean extendedCapsKnown() {
        return extKnown;
    }

    @Override
    public int acsCapOffset() {
        return acsOffset;
    }

    @Override
    public int acsCap() {
        return acsCap;
    }

    @Override
    public int acsCtrl() {
        return acsCtrl;
    }

    @Override
    public boolean acsUnknown() {
        return acsUnknown;
    }

    @Override
    public int numaNode() {
        return dto.numaNode == null ? -1 : dto.numaNode;
    }

    @Override
    public Optional<PciDevice> physfn() {
        return Optional.ofNullable(physfn);
    }

    @Override
    public boolean vendorKnown() {
        return dto.vendor != null;
    }

    @Override
    public boolean deviceKnown() {
        return dto.device != null;
    }

    @Override
    public boolean classKnown() {
        return dto.classCode != null;
    }

    @Override
    public String vendorName() {
        return dto.vendorName == null ? "" : dto.vendorName;
    }

    @Override
    public String deviceName() {
        return dto.deviceName == null ? "" : dto.deviceName;
    }

    @Override
    public String driver() {
        return dto.driver == null ? "" : dto.driver;
    }

    @Override
    public List<String> notes() {
        return List.copyOf(dto.notes);
    }

    @Override
    public boolean isRemoved() {
        return removed;
    }

    @Override
    public boolean hasAcs() {
        return acsPresent;
    }

    @Override
    public String toString() {
        return bdf + " [" + String.format("%04x:%04x", vendor, device) + "]"
                + (hasAcs() ? " ACSCtl " + Acs.lspci(acsCtrl) : "");
    }
}
