package org.peerdma.pci.imports.document;

import java.util.List;

import org.peerdma.pci.dto.CpuDTO;

/** The CPU facts p2pdma needs from `lscpu` or /proc/cpuinfo text. */
public final class LscpuParser {
    private LscpuParser() {
    }

    /** parse - vendor, family, model, model name and sockets; null when none of them is there. */
    public static CpuDTO parse(List<String> lines) {
        CpuDTO cpu = new CpuDTO();
        java.util.Set<String> physIds = new java.util.HashSet<>();
        for (String l : lines) {
            int colon = l.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = l.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT);
            String val = l.substring(colon + 1).strip();
            switch (key) {
                case "vendor id", "vendor_id" -> cpu.vendor = cpu.vendor == null ? val : cpu.vendor;
                case "cpu family" -> cpu.family = cpu.family == null ? intOrNull(val) : cpu.family;
                case "model" -> cpu.model = cpu.model == null ? intOrNull(val) : cpu.model;
                case "model name" -> cpu.modelName = cpu.modelName == null ? val : cpu.modelName;
                case "socket(s)" -> cpu.sockets = intOrNull(val);
                case "physical id" -> physIds.add(val);
                default -> {
                }
            }
        }
        if (cpu.sockets == null && !physIds.isEmpty()) {
            cpu.sockets = physIds.size();
        }
        if (cpu.vendor == null && cpu.family == null && cpu.model == null) {
            return null;
        }
        return cpu;
    }

    private static Integer intOrNull(String s) {
        try {
            return Integer.decode(s.strip());
        } catch (NumberFormatException ex) {
            return null;
        }
    }
}
