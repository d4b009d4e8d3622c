package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * The machine a report is about.
 *
 * @param name the machine's name (a dump's CASE line, the file name, the host)
 * @param source where it was read from (a path, "sample", "sysfs:/sys")
 * @param arch the architecture whose rules apply (the loaded arch module's, else the description's)
 * @param cpu what p2pdma's CPU rule sees ("AuthenticAMD family 0x19 (x86_64)", or "CPU unknown (x86_64)")
 * @param devices number of PCI functions
 * @param hostBridges number of host bridges
 * @param notes the importer's and core's notes on what the description lacked or inferred
 */
public record MachineInfo(String name, String source, String arch, String cpu, int devices,
        int hostBridges, List<String> notes) {
}
