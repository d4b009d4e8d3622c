package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.doctor.DriverView;
import org.peerdma.pci.DriverTopology;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/**
 * The NVIDIA driver's class for a pair beside the model's: what {@code nvidia-smi topo -m} printed on the
 * machine, read from its description, and what it means next to the kernel's verdict. The NVIDIA driver does
 * not use p2pdma; it decides peer access with its own tables (nvidia-smi topo -p2p shows them), so the two can
 * disagree without either being wrong.
 */
final class DriverClass {
    private DriverClass() {
    }

    static DriverView of(PciMachine m, PciDevice provider, PciDevice client, P2pVerdict r, String modelClass) {
        Optional<DriverTopology> t = m.driverTopology();
        if (t.isEmpty()) {
            return null;
        }
        Optional<String> cls = t.get().between(provider, client);
        if (cls.isEmpty()) {
            return null;
        }
        String a = t.get().nameOf(provider).orElseThrow();
        String b = t.get().nameOf(client).orElseThrow();
        String driver = cls.get();
        String model = modelClass.replace("?", "");
        boolean nvlink = driver.startsWith("NV");
        boolean agrees = nvlink ? false : modelClass.endsWith("?") ? List.of("NODE", "SYS").contains(driver)
                : driver.equals(modelClass);
        List<String> notes = new ArrayList<>();
        if (nvlink) {
            notes.add("NVLink (" + driver + "): the driver's peer traffic between them goes over NVLink, which "
                    + "p2pdma and the PCIe classes do not see; the kernel's verdict is about PCIe only");
        } else if (driver.equals("?")) {
            notes.add("the nvidia-smi matrix in the description has no cell for them");
        } else if (agrees && modelClass.endsWith("?")) {
            notes.add("the driver's " + driver + " settles the model's " + modelClass + ": the dump does not say which "
                    + "NUMA node each host bridge is on, nvidia-smi " + (driver.equals("NODE") ? "puts both on one"
                            : "puts them on different ones"));
        } else if (!agrees) {
            notes.add("nvidia-smi says " + driver + " where the model, from the PCI tree, says " + modelClass + ": "
                    + (rank(driver) < rank(model) ? "the driver sees a shorter path than the dump shows (a bridge "
                            + "the dump left out, or functions of one device)"
                            : "the driver sees a longer path (host bridges or NUMA nodes the dump does not tell)"));
        }
        String read = t.get().p2p(provider, client, false).orElse(null);
        String write = t.get().p2p(provider, client, true).orElse(null);
        boolean kernelYes = r.mapType() != MapType.NOT_SUPPORTED;
        if (read == null && write == null) {
            if (!nvlink && !kernelYes && List.of("PHB", "NODE", "SYS").contains(driver)) {
                notes.add("the kernel's p2pdma refuses the pair, but the NVIDIA driver does not use p2pdma: it may "
                        + "still enable peer access through the host bridge by its own chipset table (nvidia-smi topo "
                        + "-p2p r/w would tell)");
            }
        } else {
            boolean driverYes = "OK".equals(read) || "OK".equals(write);
            if (driverYes && !kernelYes) {
                notes.add("the driver allows peer access (reads " + read + ", writes " + write + ") where the kernel's "
                        + "p2pdma refuses: the NVIDIA driver does not use p2pdma, it decides by its own tables");
            }
            for (String st : new String[] {read, write}) {
                String why = why(st);
                if (why != null && !notes.contains(why)) {
                    notes.add(why + (kernelYes ? " (p2pdma would allow it: " + r.mapType().name() + ")" : ""));
                }
            }
            if (read != null && write != null && !read.equals(write)) {
                notes.add("the driver treats the directions apart: writes " + write + ", reads " + read);
            }
        }
        for (String name : List.of(a, b)) {
            notes.add(howMatched(t.get(), name));
        }
        return new DriverView(t.get().tool(), a, b, driver, modelClass, agrees, read, write, List.copyOf(notes));
    }

    /** What a status of nvidia-smi topo -p2p other than OK says, or null for OK, self and unknown. */
    static String why(String status) {
        if (status == null) {
            return null;
        }
        return switch (status) {
            case "CNS" -> "CNS: the NVIDIA driver's chipset table refuses peer access here, not the kernel";
            case "GNS" -> "GNS: the GPU does not support peer access (the driver refuses it for this GPU model)";
            case "TNS" -> "TNS: the driver refuses peer access across this topology";
            case "NS" -> "NS: the driver does not support peer access between them";
            default -> null;
        };
    }

    /** How a name of the matrix was matched to its device, from the importer's notes. */
    static String howMatched(DriverTopology t, String name) {
        String dev = t.devices().get(name);
        boolean byBusId = t.notes().contains("GPUs matched by nvidia-smi's Bus-Id column");
        if (name.startsWith("GPU") && byBusId) {
            return name + " is " + dev + " by nvidia-smi's Bus-Id column";
        }
        for (String n : t.notes()) {
            int at = n.indexOf(": ");
            if (n.startsWith("matched by bus order") && at > 0) {
                for (String part : n.substring(at + 2).split(", ")) {
                    if (part.startsWith(name + " ")) {
                        return part.replace(" = ", " is ") + " by bus order (nvidia-smi numbers GPUs, mlx5_core its "
                                + "ports, in PCI bus order): a guess";
                    }
                }
            }
        }
        return name + " is " + dev;
    }

    /** Path classes from the shortest: PIX < PXB < PHB < NODE < SYS. */
    private static int rank(String c) {
        return List.of("PIX", "PXB", "PHB", "NODE", "SYS").indexOf(c);
    }
}
