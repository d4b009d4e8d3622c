package org.peerdma.pci.dto;

import org.osgi.dto.DTO;

/** The boot CPU (cpu_data(0)). */
public class CpuDTO extends DTO {
    /** /proc/cpuinfo vendor_id: "AuthenticAMD", "GenuineIntel", ... */
    public String vendor;
    public Integer family;
    public Integer model;
    public String modelName;
    public Integer sockets;
}
