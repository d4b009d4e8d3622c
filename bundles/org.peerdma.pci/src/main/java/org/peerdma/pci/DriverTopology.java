package org.peerdma.pci;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The NVIDIA driver's view of the machine ({@code nvidia-smi topo -m}): its class between every pair of
 * GPUs and NICs, and which device each of its names (GPU0, NIC1) stands for.
 *
 * @param tool the command it came from
 * @param names the rows and columns, in order
 * @param cells the matrix, row by row
 * @param devices each name's device address, where the document tells
 * @param notes how the names were matched to devices
 * @param p2pNames the GPUs of nvidia-smi topo -p2p (empty without that section)
 * @param p2pRead the driver's peer-access status for reads between them, row by row, or null
 * @param p2pWrite the same for writes, or null
 * @param cpuAffinity the "CPU Affinity" column per name ("0-31"), empty when the document had none
 * @param numaAffinity the "NUMA Affinity" column per name ("0", "N/A")
 */
public record DriverTopology(String tool, List<String> names, List<List<String>> cells, Map<String, String> devices,
        List<String> notes, List<String> p2pNames, List<List<String>> p2pRead, List<List<String>> p2pWrite,
        Map<String, String> cpuAffinity, Map<String, String> numaAffinity) {
    /** The form without the affinity columns. */
    public DriverTopology(String tool, List<String> names, List<List<String>> cells, Map<String, String> devices,
            List<String> notes, List<String> p2pNames, List<List<String>> p2pRead, List<List<String>> p2pWrite) {
        this(tool, names, cells, devices, notes, p2pNames, p2pRead, p2pWrite, Map.of(), Map.of());
    }

    /** The driver's CPU affinity of a device ("0-31"), when the document gave it for that device's name. */
    public Optional<String> cpuAffinityOf(PciDevice d) {
        return nameOf(d).map(cpuAffinity::get);
    }

    /**
     * p2p - the driver's peer-access status from {@code a} to {@code b} for reads ({@code write} false) or writes,
     * when the description had that nvidia-smi topo -p2p section and both are GPUs in it.
     */
    public Optional<String> p2p(PciDevice a, PciDevice b, boolean write) {
        List<List<String>> m = write ? p2pWrite : p2pRead;
        Optional<String> x = nameOf(a);
        Optional<String> y = nameOf(b);
        if (m == null || x.isEmpty() || y.isEmpty()) {
            return Optional.empty();
        }
        int i = p2pNames.indexOf(x.get());
        int j = p2pNames.indexOf(y.get());
        return i < 0 || j < 0 || i >= m.size() || j >= m.get(i).size() ? Optional.empty() : Optional.of(m.get(i).get(j));
    }

    /** The name a device goes by in the matrix, if it is one of them. */
    public Optional<String> nameOf(PciDevice d) {
        for (Map.Entry<String, String> e : devices.entrySet()) {
            if (e.getValue().equals(d.name())) {
                return Optional.of(e.getKey());
            }
        }
        return Optional.empty();
    }

    /** The driver's class between two devices ("NODE", "NV12"), when both are in the matrix. */
    public Optional<String> between(PciDevice a, PciDevice b) {
        Optional<String> x = nameOf(a);
        Optional<String> y = nameOf(b);
        if (x.isEmpty() || y.isEmpty()) {
            return Optional.empty();
        }
        int i = names.indexOf(x.get());
        int j = names.indexOf(y.get());
        return i < 0 || j < 0 || i >= cells.size() || j >= cells.get(i).size() ? Optional.empty()
                : Optional.of(cells.get(i).get(j));
    }
}
