package org.peerdma.pci.dto;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.dto.DTO;

/**
 * The NVIDIA driver's own view of the machine, as {@code nvidia-smi topo -m} printed it: its path class (or
 * NVLink count) between every pair of GPUs and NICs. It is the driver's answer, not the kernel's: the
 * driver does not use p2pdma.
 */
public class DriverTopologyDTO extends DTO {
    /** The command it came from, "nvidia-smi topo -m". */
    public String tool;
    /** The rows and columns in order: GPU0, GPU1, NIC0, ... */
    public List<String> names = new ArrayList<>();
    /** One row per name, one cell per name: "X", "PIX", "PXB", "PHB", "NODE", "SYS", "NV12". */
    public List<List<String>> cells = new ArrayList<>();
    /** The devices the names stand for, as far as the document tells (GPU0 to "0000:01:00.0"). */
    public Map<String, String> devices = new LinkedHashMap<>();
    /**
     * The GPUs of {@code nvidia-smi topo -p2p r} and {@code -p2p w} (the same numbering as {@link #names}), and
     * the driver's peer-access status between them for reads and for writes: "X", "OK", "CNS" (chipset not
     * supported), "GNS" (GPU not supported), "TNS" (topology not supported), "NS", "U" (unknown); null when the
     * document did not have that section.
     */
    public List<String> p2pNames;
    public List<List<String>> p2pRead;
    public List<List<String>> p2pWrite;
    /**
     * The "CPU Affinity" and "NUMA Affinity" columns of nvidia-smi topo -m per GPU name ("0-31", "0"; "N/A" as
     * printed); empty when the document had none.
     */
    public Map<String, String> cpuAffinity = new LinkedHashMap<>();
    public Map<String, String> numaAffinity = new LinkedHashMap<>();
    /** How the names were matched to devices, and what could not be. */
    public List<String> notes = new ArrayList<>();
}
