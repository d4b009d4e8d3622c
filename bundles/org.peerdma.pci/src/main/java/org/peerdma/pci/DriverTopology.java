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
 */
public record DriverTopology(String tool, List<String> names, List<List<String>> cells, Map<String, String> devices,
        List<String> notes) {
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
