package org.peerdma.pci.imports.hwloc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologySource;
import org.peerdma.util.Texts;

/**
 * What the hwloc, lstopo and NCCL readers share: value parsers that fail with the file line,
 * and the step from an {@link HwNode} tree to a {@link MachineDTO} (NUMA locality, CPU,
 * duplicate and placement checks).
 */
final class HwlocModel {
    private static final Pattern BUS_RANGE =
            Pattern.compile("([0-9a-fA-F]{4}):\\[([0-9a-fA-F]{2})-([0-9a-fA-F]{2})\\]");

    /** A bus range "dddd:[bb-bb]" as hwloc prints it. */
    record BusRange(int domain, int first, int last) {
    }

    private HwlocModel() {
    }

    /**
     * isDecoration - lines that surround a dump in a document and are not part of it: blank
     * lines, '#' comments, markdown fences and "$ command" lines.
     */
    static boolean isDecoration(String line) {
        String t = line.strip();
        return t.isEmpty() || t.startsWith("#") || t.startsWith("```") || t.startsWith("$ ");
    }

    /**
     * bridgeBuses - set a bridge's secondary/subordinate bus from an hwloc bus range
     * ("0000:[04-07]"), or note that the tool gave none. Errors: a range in another domain.
     */
    static void bridgeBuses(org.peerdma.pci.dto.DeviceDTO d, org.peerdma.pci.Bdf bdf, String buses,
            org.peerdma.pci.spi.TopologySource src, int line, String attr, String tool) {
        if (buses == null) {
            d.notes.add(tool + " gives no secondary/subordinate bus for this bridge.");
            return;
        }
        BusRange r = busRange(buses, src, line, attr);
        if (r.domain() != bdf.domain()) {
            throw new org.peerdma.pci.TopologyFormatException(src.name(), line,
                    "bridge " + d.bdf + " forwards to another PCI domain (" + Texts.clip(buses) + ")");
        }
        d.secondaryBus = r.first();
        d.subordinateBus = r.last();
    }

    /** busRange - parse "dddd:[bb-bb]"; errors name the file line. */
    static BusRange busRange(String text, TopologySource src, int line, String what) {
        Matcher m = BUS_RANGE.matcher(text.strip());
        if (!m.matches()) {
            throw new TopologyFormatException(src.name(), line,
                    what + " '" + Texts.clip(text) + "' is not a bus range (dddd:[bb-bb])");
        }
        BusRange r = new BusRange(Integer.parseInt(m.group(1), 16), Integer.parseInt(m.group(2), 16),
                Integer.parseInt(m.group(3), 16));
        if (r.first() > r.last()) {
            throw new TopologyFormatException(src.name(), line,
                    what + " '" + Texts.clip(text) + "' ends before it starts");
        }
        return r;
    }

    /** bdf - parse a PCI address; errors name the file line. */
    static Bdf bdf(String text, TopologySource src, int line) {
        try {
            return Bdf.parse(text);
        } catch (KernelException e) {
            throw new TopologyFormatException(src.name(), line, e.detail());
        }
    }

    /** hex - parse hex digits (an optional "0x" prefix allowed); errors name the file line. */
    static int hex(String text, TopologySource src, int line, String what) {
        String t = text.strip();
        if (t.startsWith("0x") || t.startsWith("0X")) {
            t = t.substring(2);
        }
        if (t.isEmpty() || t.length() > 8 || !t.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new TopologyFormatException(src.name(), line, what + " '" + Texts.clip(text) + "' is not a hex number");
        }
        return (int) Long.parseLong(t, 16);
    }

    /** decimal - parse a decimal integer; errors name the file line. */
    static int decimal(String text, TopologySource src, int line, String what) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new TopologyFormatException(src.name(), line, what + " '" + Texts.clip(text) + "' is not a number");
        }
    }

    /** @return header type implied by a 24-bit class code: 1 for PCI/semi-transparent bridges, 2 CardBus, else 0. */
    static int headerTypeForClass(int classCode) {
        int baseSub = classCode >> 8;
        if (baseSub == 0x0604 || baseSub == 0x0609) {
            return 1;
        }
        return baseSub == 0x0607 ? 2 : 0;
    }

    /** @return hwloc's link bandwidth (GB/s) as text, null when hwloc reports 0 (unknown). */
    static String linkBandwidth(double gbPerSecond) {
        if (!(gbPerSecond > 0)) {
            return null;
        }
        return String.format(Locale.ROOT, "%.2fGB/s", gbPerSecond);
    }

    /** register - remember a device's address; a second device with the same BDF is an error. */
    static void register(Map<String, Integer> seen, DeviceDTO d, TopologySource src, int line) {
        Integer first = seen.putIfAbsent(d.bdf, line);
        if (first != null) {
            throw new TopologyFormatException(src.name(), line,
                    "duplicate PCI address " + d.bdf + " (first listed at line " + first + ")");
        }
    }

    /** markMultifunction - a slot whose function 1..7 is listed is multi-function (all its functions). */
    static void markMultifunction(List<DeviceDTO> devices) {
        Map<String, List<DeviceDTO>> slots = new LinkedHashMap<>();
        for (DeviceDTO d : devices) {
            slots.computeIfAbsent(d.bdf.substring(0, d.bdf.length() - 2), k -> new ArrayList<>()).add(d);
        }
        for (List<DeviceDTO> fns : slots.values()) {
            if (fns.stream().anyMatch(d -> !d.bdf.endsWith(".0"))) {
                fns.forEach(d -> d.multifunction = Boolean.TRUE);
            }
        }
    }

    /**
     * toMachine - turn a parsed hwloc tree into a machine: host bridges and PCI functions in
     * document order with their NUMA node, the CPU of the first package and the package count.
     */
    static MachineDTO toMachine(HwNode root, TopologySource src, String format) {
        MachineDTO m = new MachineDTO();
        m.source = src.name();
        m.format = format;
        Map<String, Integer> seen = new HashMap<>();
        List<HwNode> packages = new ArrayList<>();
        HwNode machine = null;
        HwNode cpuFallback = null;
        // Depth first in document order, without recursion (an XML nests as deep as it likes), each node
        // carrying down what its descendants inherit: the NUMA node and the nearest bridge above. One pass,
        // linear in the number of objects however deep they nest.
        Deque<Visit> todo = new ArrayDeque<>();
        todo.push(new Visit(root, Inherited.NONE));
        while (!todo.isEmpty()) {
            Visit v = todo.pop();
            HwNode n = v.node();
            Inherited up = v.inherited();
            Inherited down = up.below(n);
            for (int i = n.children.size() - 1; i >= 0; i--) {
                todo.push(new Visit(n.children.get(i), down));
            }
            if (cpuFallback == null && n.infos.containsKey("CPUVendor")) {
                cpuFallback = n;
            }
            switch (n.kind) {
                case MACHINE -> machine = machine == null ? n : machine;
                case PACKAGE -> packages.add(n);
                case HOST_BRIDGE -> {
                    n.hostBridge.numaNode = up.numa();
                    m.hostBridges.add(n.hostBridge);
                }
                case PCI_BRIDGE, PCI_DEV -> {
                    register(seen, n.device, src, n.line);
                    n.device.numaNode = up.numa();
                    checkPlacement(n, up.bridge(), m.notes);
                    m.devices.add(n.device);
                }
                default -> {
                }
            }
        }
        if (machine != null) {
            m.name = machine.infos.get("HostName");
            m.arch = machine.infos.get("Architecture");
            String version = machine.infos.get("hwlocVersion");
            if (version != null) {
                m.notes.add("Produced by hwloc " + version + ".");
            }
        }
        m.cpu = cpu(packages, cpuFallback, src, m.notes);
        markMultifunction(m.devices);
        if (m.hostBridges.isEmpty()) {
            m.notes.add("The dump lists no host bridge (no PCI objects).");
        }
        return m;
    }

    /** A node to visit and what it inherits from its ancestors. */
    private record Visit(HwNode node, Inherited inherited) {
    }

    /**
     * What an object inherits from its ancestors, as the nearest ancestor that decides it says.
     *
     * @param numa NUMA locality: the enclosing NUMANode (hwloc 1.x), else the single node of the nearest
     *        ancestor's nodeset (hwloc XML), else the only NUMANode child of the nearest ancestor that has one
     *        (hwloc 2.x memory children); null when ambiguous or absent
     * @param bridge the nearest PCI bridge or host bridge above, null when there is none
     */
    record Inherited(Integer numa, HwNode bridge) {
        static final Inherited NONE = new Inherited(null, null);

        /** What the children of {@code a} inherit, {@code this} being what {@code a} inherits. */
        Inherited below(HwNode a) {
            HwNode br = a.kind == HwNode.Kind.PCI_BRIDGE || a.kind == HwNode.Kind.HOST_BRIDGE ? a : bridge;
            if (a.kind == HwNode.Kind.NUMA) {
                return new Inherited(a.osIndex, br);
            }
            if (a.nodesetKnown) {
                return new Inherited(a.nodesetNode, br);
            }
            HwNode only = null;
            int count = 0;
            for (HwNode c : a.children) {
                if (c.kind == HwNode.Kind.NUMA && count++ == 0) {
                    only = c;
                }
            }
            if (count == 1) {
                return new Inherited(only.osIndex, br);
            }
            if (count > 1) {
                return new Inherited(null, br); // ambiguous: decided here, not looked for further up
            }
            if (br == bridge) {
                return this; // nothing decided here: the same as above, no new object per level
            }
            return new Inherited(numa, br); // nothing decided here: what the nearest deciding ancestor said
        }
    }

    /**
     * singleNode - the one NUMA node of an hwloc nodeset ("0x00000002", "0x00000000,0x00000001"),
     * null when it holds none, several, or is infinite ("0xf...f").
     */
    static Integer singleNode(String nodeset) {
        String[] words = nodeset.strip().split(",");
        Integer found = null;
        for (int w = 0; w < words.length; w++) {
            String word = words[w].strip();
            if (word.startsWith("0x") || word.startsWith("0X")) {
                word = word.substring(2);
            }
            if (word.contains("...") || word.isEmpty() || word.length() > 8) {
                return null;
            }
            long bits;
            try {
                bits = Long.parseLong(word, 16);
            } catch (NumberFormatException e) {
                return null;
            }
            int base = (words.length - 1 - w) * 32;
            for (int b = 0; b < 32; b++) {
                if ((bits & (1L << b)) != 0) {
                    if (found != null) {
                        return null;
                    }
                    found = base + b;
                }
            }
        }
        return found;
    }

    /** Notes a device listed below a bridge whose buses do not hold it; {@code a} is the nearest bridge above. */
    private static void checkPlacement(HwNode n, HwNode a, List<String> notes) {
        Bdf bdf = Bdf.parse(n.device.bdf);
        if (a == null) {
            notes.add(n.device.bdf + " is not below any host bridge in the dump.");
        } else if (a.kind == HwNode.Kind.PCI_BRIDGE) {
            DeviceDTO up = a.device;
            Bdf upBdf = Bdf.parse(up.bdf);
            if (up.secondaryBus != null && (upBdf.domain() != bdf.domain() || up.secondaryBus != bdf.bus())) {
                notes.add(String.format(Locale.ROOT,
                        "%s is listed below bridge %s whose secondary bus is %02x.", n.device.bdf, up.bdf,
                        up.secondaryBus));
            }
        } else {
            HostBridgeDTO hb = a.hostBridge;
            int end = hb.busEnd == null ? 0xff : hb.busEnd;
            if (hb.domain != bdf.domain() || bdf.bus() < hb.bus || bdf.bus() > end) {
                notes.add(String.format(Locale.ROOT, "%s is listed below host bridge %s outside its buses %02x-%02x.",
                        n.device.bdf, hb.name, hb.bus, end));
            }
        }
    }

    private static CpuDTO cpu(List<HwNode> packages, HwNode fallback, TopologySource src, List<String> notes) {
        HwNode from = packages.stream()
                .filter(p -> p.infos.containsKey("CPUVendor") || p.infos.containsKey("CPUModel"))
                .findFirst().orElse(fallback);
        if (from == null) {
            notes.add("The dump gives no CPU vendor/family/model.");
            if (packages.isEmpty()) {
                return null;
            }
            CpuDTO c = new CpuDTO();
            c.sockets = packages.size();
            return c;
        }
        CpuDTO c = new CpuDTO();
        c.vendor = from.infos.get("CPUVendor");
        String family = from.infos.get("CPUFamilyNumber");
        String model = from.infos.get("CPUModelNumber");
        c.family = family == null ? null : decimal(family, src, from.line, "CPUFamilyNumber");
        c.model = model == null ? null : decimal(model, src, from.line, "CPUModelNumber");
        c.modelName = from.infos.get("CPUModel");
        c.sockets = packages.isEmpty() ? null : packages.size();
        for (HwNode p : packages) {
            String v = p.infos.get("CPUVendor");
            if (v != null && !Objects.equals(v, c.vendor)) {
                notes.add("Packages report different CPU vendors (" + c.vendor + ", " + v + ").");
                break;
            }
        }
        return c;
    }
}
