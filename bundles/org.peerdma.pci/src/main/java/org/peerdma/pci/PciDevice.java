package org.peerdma.pci;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A PCI function in the live model (struct pci_dev). Identity and topology never change while
 * the device is present; ACS control bits change through {@link PciCore#setAcsCtrl}. After
 * hot-removal {@link #isRemoved()} turns true and the object must no longer be used for DMA.
 */
@ProviderType
public interface PciDevice {
    Bdf bdf();

    /** @return pci_name(): "dddd:bb:dd.f". */
    default String name() {
        return bdf().toString();
    }

    int vendor();

    int device();

    int subsystemVendor();

    int subsystemDevice();

    /** @return 24-bit class code: base class, sub-class, programming interface (0 when {@link #classKnown()} is false). */
    int classCode();

    /** @return whether the description gave the vendor ID (else {@link #vendor()} reads 0xffff). */
    default boolean vendorKnown() {
        return true;
    }

    /** @return whether the description gave the device ID (else {@link #device()} reads 0xffff). */
    default boolean deviceKnown() {
        return true;
    }

    /** @return whether the description gave the class code. */
    default boolean classKnown() {
        return true;
    }

    int revision();

    /** @return header type without the multi-function bit: 0 normal, 1 PCI-PCI bridge, 2 CardBus. */
    int headerType();

    boolean isMultifunction();

    PciePortType portType();

    /** @return true if the device has an Express capability. */
    /**
     * @return the link's current speed as the dump printed it (LnkSta, "16GT/s"), or "" when the dump has no
     *         link status; for an endpoint or upstream port the link to the port above, for a downstream or root
     *         port the link below it
     */
    default String linkSpeed() {
        return "";
    }

    /** @return the current link width (LnkSta x8 is 8), 0 when not known. */
    default int linkWidth() {
        return 0;
    }

    /** @return the link's capability (LnkCap "32GT/s"), or "" when not in the dump. */
    default String linkCapSpeed() {
        return "";
    }

    /** @return the link's capable width (LnkCap x16 is 16), 0 when not known. */
    default int linkCapWidth() {
        return 0;
    }

    /**
     * @param which "command", "status" (16-bit, config 0x04/0x06), "devcap" (32-bit), "devctl" or "devsta" (16-bit,
     *        in the Express capability), "lnkcap" (32-bit) or "lnksta" (16-bit)
     * @return that register as the dump gave it, or -1 when the dump does not say
     */
    default long register(String which) {
        return -1;
    }

    default boolean isPcie() {
        PciePortType t = portType();
        return t != PciePortType.CONVENTIONAL && t != PciePortType.UNKNOWN;
    }

    /** @return true for PCI-PCI bridges (header type 1), including root and switch ports. */
    boolean isBridge();

    /** @return secondary bus number of a bridge, -1 otherwise. */
    int secondaryBus();

    /** @return subordinate bus number of a bridge, -1 otherwise. */
    int subordinateBus();

    /** @return the bus this device sits on (dev->bus). */
    PciBus bus();

    /** @return the bus below this bridge (dev->subordinate), if any. */
    Optional<PciBus> subordinate();

    /**
     * upstreamBridge - pci_upstream_bridge(): the bridge whose secondary bus this device is on,
     * for a VF the bridge above its PF. Null for devices on a root bus and for devices on a bus
     * whose bridge is not in the dump (see {@link PciBus#isElided()}).
     */
    PciDevice upstreamBridge();

    /** @return the host bridge this device is below (pci_find_host_bridge). */
    PciHostBridge hostBridge();

    /** @return implemented BARs (size &gt; 0), in index order. */
    List<Bar> bars();

    /** @return BAR {@code index}, if implemented. */
    Optional<Bar> bar(int index);

    /** @return standard then extended capabilities, in list order. */
    List<Capability> capabilities();

    /** @return the capability with {@code id} in the standard ({@code extended=false}) or extended list. */
    Optional<Capability> capability(boolean extended, int id);

    /** @return true when the extended capabilities are known (config space past 0x100 was read). */
    boolean extendedCapsKnown();

    /** @return true if the device has an ACS capability (dev->acs_cap != 0). */
    boolean hasAcs();

    /** @return offset of the ACS extended capability (dev->acs_cap), 0 if none or not shown. */
    int acsCapOffset();

    /** @return ACS capability bits (PCI_ACS_CAP), 0 if no ACS. */
    int acsCap();

    /** @return current ACS control bits (PCI_ACS_CTRL), 0 if no ACS. */
    int acsCtrl();

    /** @return true when the dump did not say whether this device has ACS or what its control is. */
    boolean acsUnknown();

    /** @return NUMA node, -1 when unknown. */
    int numaNode();

    /** @return for an SR-IOV virtual function, its physical function. */
    Optional<PciDevice> physfn();

    /** @return vendor name from the dump or pci.ids; empty when unknown. */
    String vendorName();

    /** @return device name from the dump or pci.ids; empty when unknown. */
    String deviceName();

    /** @return the bound driver name, empty if none is known. */
    String driver();

    /** @return what the importer could not recover for this device. */
    List<String> notes();

    /** @return true once the device was hot-removed (pci_stop_and_remove_bus_device). */
    boolean isRemoved();
}
