package org.peerdma.pci.dto;

import java.util.ArrayList;
import java.util.List;

import org.osgi.dto.DTO;

/** A machine: CPU, host bridges and PCI functions. */
public class MachineDTO extends DTO {
    /** Human name, e.g. the CASE line of a dump or the host name. */
    public String name;
    /** Where it was read from. */
    public String source;
    /** Importer format that produced it ("lspci-vvv", "sysfs", "peerdma", ...). */
    public String format;
    /** "x86_64" unless stated. */
    public String arch;
    public CpuDTO cpu;
    /** The kernel release the machine ran when it was captured (uname -r), or null. */
    public String kernelRelease;
    /** The kernel command line it booted with (/proc/cmdline), or null. */
    public String cmdline;
    public List<HostBridgeDTO> hostBridges = new ArrayList<>();
    public List<DeviceDTO> devices = new ArrayList<>();
    /** The NVIDIA driver's view (nvidia-smi topo -m) when the document had it, else null. */
    public DriverTopologyDTO driverTopology;
    /** What the importer could not recover, or inferred. */
    public List<String> notes = new ArrayList<>();
}
