package org.peerdma.pci.imports.document;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.DriverTopologyDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.util.Texts;

/**
 * The NVIDIA driver's sections of a pasted report: {@code nvidia-smi topo -m} (its class between GPUs and
 * NICs), the plain {@code nvidia-smi} table (each GPU's Bus-Id) and the NIC legend, matched to the machine's
 * devices afterwards ({@link #attach}).
 */
public final class NvidiaSmiParser {
    /** A matrix name: GPU0, NIC1, or an older nvidia-smi's mlx5_0. */
    private static final Pattern NAME = Pattern.compile("(?:GPU|NIC)\\d{1,3}|mlx\\d_\\d{1,3}");
    /** A cell: self, a PCIe path class (SOC is older nvidia-smi's SYS), or an NVLink count. */
    private static final Pattern CELL = Pattern.compile("X|SYS|SOC|NODE|PHB|PXB|PIX|NV\\d{1,3}");
    private static final Pattern LEGEND = Pattern.compile("^\\s*(NIC\\d{1,3}):\\s*(\\S{1,64})\\s*$");
    /** A row of the plain nvidia-smi table: "|   0  NVIDIA RTX 6000 ...  Off |   00000000:01:00.0 Off |". */
    private static final Pattern BUS_ID = Pattern.compile(
            "^\\|\\s+(\\d{1,3})\\s+.*?\\|\\s+([0-9A-Fa-f]{4,8}):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})\\.([0-7])\\s");
    private static final int MAX_NAMES = 256;

    private NvidiaSmiParser() {
    }

    /**
     * topo - the matrix of {@code nvidia-smi topo -m}: the header's names, a row per name, and the NIC legend.
     * Return: null when the lines hold no such matrix.
     */
    public static DriverTopologyDTO topo(List<String> lines) {
        DriverTopologyDTO t = new DriverTopologyDTO();
        t.tool = "nvidia-smi topo -m";
        int header = -1;
        boolean affinity = false;
        for (int i = 0; i < lines.size() && header < 0; i++) {
            List<String> names = names(lines.get(i));
            if (!names.isEmpty()) {
                t.names.addAll(names);
                header = i;
                affinity = lines.get(i).contains("CPU Affinity") && lines.get(i).contains("NUMA Affinity");
            }
        }
        if (header < 0) {
            return null;
        }
        Map<String, List<String>> rows = new LinkedHashMap<>();
        Map<String, String> legend = new LinkedHashMap<>();
        for (int i = header + 1; i < lines.size(); i++) {
            String l = lines.get(i);
            Matcher lm = LEGEND.matcher(l);
            if (lm.matches()) {
                legend.put(lm.group(1), lm.group(2));
                continue;
            }
            String[] tok = l.strip().split("\\s+");
            if (tok.length < t.names.size() + 1 || !t.names.contains(tok[0]) || rows.containsKey(tok[0])) {
                continue;
            }
            List<String> cells = new ArrayList<>();
            for (int j = 1; j <= t.names.size(); j++) {
                if (!CELL.matcher(tok[j]).matches()) {
                    cells = null;
                    break;
                }
                cells.add(tok[j].equals("SOC") ? "SYS" : tok[j]);
            }
            if (cells != null) {
                rows.put(tok[0], cells);
                // the GPU rows go on with "CPU Affinity" (a CPU list) and "NUMA Affinity" (a node), or N/A
                int n = t.names.size();
                if (affinity && tok.length >= n + 3 && AFFINITY.matcher(tok[n + 1]).matches()
                        && AFFINITY.matcher(tok[n + 2]).matches()) {
                    t.cpuAffinity.put(tok[0], tok[n + 1]);
                    t.numaAffinity.put(tok[0], tok[n + 2]);
                }
            }
        }
        List<String> missing = new ArrayList<>();
        for (String n : t.names) {
            List<String> r = rows.get(n);
            if (r == null) {
                missing.add(n);
                r = new ArrayList<>();
                for (int j = 0; j < t.names.size(); j++) {
                    r.add(j == t.names.indexOf(n) ? "X" : "?");
                }
            }
            t.cells.add(r);
        }
        if (!missing.isEmpty()) {
            t.notes.add("nvidia-smi topo -m: no row for " + String.join(", ", missing) + " (cut short?): '?' there");
        }
        legend.forEach((nic, dev) -> t.notes.add("legend " + nic + ": " + Texts.clip(dev)));
        return t;
    }

    /** The names of a header line, or none when it is not one (every token up to "CPU Affinity" is a name). */
    private static List<String> names(String line) {
        String head = line.strip();
        int cpu = head.indexOf("CPU Affinity");
        if (cpu >= 0) {
            head = head.substring(0, cpu).strip();
        }
        if (head.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String tok : head.split("\\s+")) {
            if (!NAME.matcher(tok).matches() || out.contains(tok) || out.size() >= MAX_NAMES) {
                return List.of();
            }
            out.add(tok);
        }
        return out.size() >= 2 ? out : List.of();
    }

    /** A CPU list ("0-31", "0-31,64-95"), a node number, or N/A, of at most 64 characters. */
    private static final Pattern AFFINITY = Pattern.compile("N/A|[0-9]{1,4}(?:-[0-9]{1,4})?(?:,[0-9]{1,4}(?:-[0-9]{1,4})?){0,15}");

    /** A cell of nvidia-smi topo -p2p: self, OK, chipset/GPU/topology not supported, not supported, unknown. */
    private static final Pattern P2P_CELL = Pattern.compile("X|OK|CNS|GNS|TNS|NS|U");

    /**
     * p2p - the matrix of {@code nvidia-smi topo -p2p r} (or {@code w}): a header of GPU names, a row per GPU.
     * Return: the names and the rows (a missing row all "U"), or null when the lines hold no such matrix (no row).
     */
    public static Map.Entry<List<String>, List<List<String>>> p2p(List<String> lines) {
        List<String> names = List.of();
        int header = -1;
        for (int i = 0; i < lines.size() && header < 0; i++) {
            List<String> n = names(lines.get(i));
            if (!n.isEmpty() && n.stream().allMatch(x -> x.startsWith("GPU"))) {
                names = n;
                header = i;
            }
        }
        if (header < 0) {
            return null;
        }
        Map<String, List<String>> rows = new LinkedHashMap<>();
        for (int i = header + 1; i < lines.size(); i++) {
            String[] tok = lines.get(i).strip().split("\\s+");
            if (tok.length < names.size() + 1 || !names.contains(tok[0]) || rows.containsKey(tok[0])) {
                continue;
            }
            List<String> cells = new ArrayList<>();
            for (int j = 1; j <= names.size() && cells != null; j++) {
                if (P2P_CELL.matcher(tok[j]).matches()) {
                    cells.add(tok[j]);
                } else {
                    cells = null;
                }
            }
            if (cells != null) {
                rows.put(tok[0], cells);
            }
        }
        if (rows.isEmpty()) {
            return null; // a header and nothing under it
        }
        List<List<String>> out = new ArrayList<>();
        for (String n : names) {
            List<String> r = rows.get(n);
            if (r == null) {
                r = new ArrayList<>();
                for (String m : names) {
                    r.add(m.equals(n) ? "X" : "U");
                }
            }
            out.add(r);
        }
        return Map.entry(names, out);
    }

    /**
     * addP2p - the reads ({@code write} false) or writes matrix of nvidia-smi topo -p2p into the driver's view,
     * whose GPUs it must name alike. Return: false (and a note) when it does not fit.
     */
    public static boolean addP2p(DriverTopologyDTO t, Map.Entry<List<String>, List<List<String>>> p2p, boolean write) {
        if (t.p2pNames != null && !t.p2pNames.equals(p2p.getKey())) {
            t.notes.add("nvidia-smi topo -p2p " + (write ? "w" : "r") + " names other GPUs than -p2p "
                    + (write ? "r" : "w") + ": not read");
            return false;
        }
        t.p2pNames = new ArrayList<>(p2p.getKey());
        if (write) {
            t.p2pWrite = p2p.getValue();
        } else {
            t.p2pRead = p2p.getValue();
        }
        return true;
    }

    /** A driver's view of GPUs only, from a -p2p section when the report has no topo -m matrix. */
    public static DriverTopologyDTO fromP2p(List<String> names) {
        DriverTopologyDTO t = new DriverTopologyDTO();
        t.tool = "nvidia-smi topo -p2p";
        t.names.addAll(names);
        for (String n : names) {
            List<String> r = new ArrayList<>();
            for (String m : names) {
                r.add(m.equals(n) ? "X" : "?");
            }
            t.cells.add(r);
        }
        t.notes.add("no nvidia-smi topo -m in the report: the path classes are unknown ('?')");
        return t;
    }

    /** busIds - GPU index to device address from the plain nvidia-smi table ("00000000:01:00.0" is 0000:01:00.0). */
    public static Map<Integer, String> busIds(List<String> lines) {
        Map<Integer, String> out = new LinkedHashMap<>();
        for (String l : lines) {
            Matcher m = BUS_ID.matcher(l);
            if (m.find()) {
                String dom = m.group(2);
                out.putIfAbsent(Integer.parseInt(m.group(1)), (dom.substring(dom.length() - 4) + ":" + m.group(3) + ":"
                        + m.group(4) + "." + m.group(5)).toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    /**
     * attach - match the matrix's names to the machine's devices and keep it on the machine: a GPU by its
     * Bus-Id when the report has nvidia-smi's table, else the n-th NVIDIA display or 3D controller in bus order
     * (nvidia-smi's default order); a NIC by its legend entry (mlx5_k is the k-th Mellanox function in bus
     * order, the order mlx5_core probes them in), else the n-th NIC in bus order. Each guess is noted.
     */
    public static void attach(MachineDTO m, DriverTopologyDTO t, Map<Integer, String> busIds) {
        List<DeviceDTO> byBus = new ArrayList<>(m.devices);
        byBus.sort((a, b) -> norm(a.bdf).compareTo(norm(b.bdf)));
        List<DeviceDTO> gpus = byBus.stream().filter(NvidiaSmiParser::nvidiaGpu).toList();
        List<DeviceDTO> mlx = byBus.stream().filter(NvidiaSmiParser::mellanox).toList();
        List<DeviceDTO> nics = byBus.stream().filter(d -> d.classCode != null && (d.classCode >> 16) == 0x02
                || mellanox(d)).toList();
        Map<String, String> legend = new LinkedHashMap<>();
        for (String n : t.notes) {
            if (n.startsWith("legend ")) {
                String[] kv = n.substring(7).split(": ", 2);
                legend.put(kv[0], kv[1]);
            }
        }
        List<String> guessed = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();
        for (String name : t.names) {
            String bdf = null;
            if (name.startsWith("GPU")) {
                int i = Integer.parseInt(name.substring(3));
                if (busIds.containsKey(i)) {
                    bdf = busIds.get(i);
                } else if (i < gpus.size()) {
                    bdf = norm(gpus.get(i).bdf);
                    guessed.add(name + " = " + bdf);
                }
            } else {
                String dev = name.startsWith("mlx") ? name : legend.get(name);
                Matcher k = dev == null ? null : Pattern.compile("mlx\\d_(\\d+)").matcher(dev);
                if (k != null && k.matches() && Integer.parseInt(k.group(1)) < mlx.size()) {
                    bdf = norm(mlx.get(Integer.parseInt(k.group(1))).bdf);
                } else {
                    int i = Integer.parseInt(name.replaceAll("\\D", ""));
                    if (dev == null && i < nics.size()) {
                        bdf = norm(nics.get(i).bdf);
                    }
                }
                if (bdf != null) {
                    guessed.add(name + (dev == null ? "" : " (" + dev + ")") + " = " + bdf);
                }
            }
            String b = bdf;
            if (b != null && m.devices.stream().anyMatch(d -> norm(d.bdf).equals(norm(b)))) {
                t.devices.put(name, norm(b));
            } else {
                unmatched.add(name);
            }
        }
        if (!unmatched.isEmpty()) {
            t.notes.add(String.join(", ", unmatched) + ": no device of the machine matched (not in the dump)");
        }
        if (!busIds.isEmpty()) {
            t.notes.add("GPUs matched by nvidia-smi's Bus-Id column");
        }
        if (!guessed.isEmpty()) {
            t.notes.add("matched by bus order (nvidia-smi numbers GPUs, mlx5_core its ports, in PCI bus order): "
                    + String.join(", ", guessed));
        }
        m.driverTopology = t;
    }

    private static boolean nvidiaGpu(DeviceDTO d) {
        boolean nvidia = Integer.valueOf(0x10de).equals(d.vendor)
                || d.vendorName != null && d.vendorName.toUpperCase(Locale.ROOT).contains("NVIDIA");
        boolean gpu = d.classCode != null ? (d.classCode >> 16) == 0x03
                : d.deviceName != null && !d.deviceName.contains("Audio") && !d.deviceName.contains("USB");
        return nvidia && gpu;
    }

    /** A Mellanox (NVIDIA networking) function that is not a bridge: what mlx5_core binds. */
    private static boolean mellanox(DeviceDTO d) {
        boolean vendor = Integer.valueOf(0x15b3).equals(d.vendor)
                || d.vendorName != null && d.vendorName.contains("Mellanox");
        boolean bridge = d.headerType != null && d.headerType != 0 || d.classCode != null && (d.classCode >> 16) == 0x06;
        return vendor && !bridge;
    }

    /** "01:00.0" and "0000:01:00.0" alike, lower case. */
    static String norm(String bdf) {
        String b = bdf.toLowerCase(Locale.ROOT);
        return b.length() == 7 ? "0000:" + b : b;
    }
}
