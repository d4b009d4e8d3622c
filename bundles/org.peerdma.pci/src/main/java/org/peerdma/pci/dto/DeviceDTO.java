package org.peerdma.pci.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/** A PCI function as a dump describes it. Null fields are unknown. */
public class DeviceDTO extends DTO {
    /** "dddd:bb:dd.f" or "bb:dd.f". */
    public String bdf;
    public Integer vendor;
    public Integer device;
    public Integer subsystemVendor;
    public Integer subsystemDevice;
    /** 24-bit class code, or 16-bit class (base, sub) shifted left by 8 when prog-if is unknown. */
    public Integer classCode;
    public Integer revision;
    /** 0 normal, 1 PCI-PCI bridge, 2 CardBus. */
    public Integer headerType;
    public Boolean multifunction;
    /** A {@link org.peerdma.pci.PciePortType} name; null = not known, CONVENTIONAL = no Express capability. */
    public String portType;
    public Integer secondaryBus;
    public Integer subordinateBus;
    public String vendorName;
    public String deviceName;
    public String className;
    public Integer numaNode;
    /** For a VF: its PF's address. */
    public String physfn;
    public String driver;
    public List<BarDTO> bars = new ArrayList<>();
    /** A bridge's forwarding windows ("Memory behind bridge", "Prefetchable memory behind bridge",
     *  "I/O behind bridge"); offset is always 0 here. */
    public List<WindowDTO> bridgeWindows = new ArrayList<>();
    /** Current link speed and width as the dump prints them, e.g. "16GT/s", 16. */
    public String linkSpeed;
    public Integer linkWidth;
    /** The link's capability (LnkCap) as the dump prints it, e.g. "32GT/s", 16; null when not in the dump. */
    public String linkCapSpeed;
    public Integer linkCapWidth;
    /** The Command and Status registers (config 0x04, 0x06; lspci -vv "Control:" and "Status:"), null when not in the dump. */
    public Integer command;
    public Integer status;
    /** The Express capability's Device Capabilities, Control and Status (DevCap, DevCtl, DevSta), null when not in the dump. */
    public Integer devCap;
    public Integer devCtl;
    public Integer devSta;
    /** The Express capability's Link Capabilities (32-bit) and Link Status registers, null when not in the dump. */
    public Integer lnkCap;
    public Integer lnkSta;
    public List<CapabilityDTO> capabilities = new ArrayList<>();
    /** True when the extended capability list was read (so a missing ACS means none). */
    public Boolean extendedCapsKnown;
    public AcsDTO acs;
    /** What the importer could not recover for this device. */
    public List<String> notes = new ArrayList<>();
}
