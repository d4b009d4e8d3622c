package org.peerdma.cli.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** peerdma matrix [BDF...]. */
@Command(name = "matrix", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Every ordered pair of the endpoints (or of the devices given): the kernel's map type and "
            + "distance with nvidia-smi's path class. Rows are providers, columns clients.")
final class MatrixCommand implements Callable<Integer> {
    private static final List<String> KINDS = List.of("gpu", "nic", "nvme", "storage", "accelerator", "bridge",
            "other", "unknown");

    private final Ctx x;

    @Parameters(arity = "0..*", paramLabel = "BDF", description = "only these devices (default: every endpoint)")
    List<String> bdfs = new ArrayList<>();

    @Option(names = "--topology", paramLabel = "SRC", description = "the machine (default: this host, else the sample)")
    String topology;

    @Option(names = {"-k", "--kernel"}, paramLabel = "VERSION", description = "rule set or kernel release")
    String kernel;

    @Option(names = {"-c", "--class"}, paramLabel = "CLASS", split = ",",
            description = "only pairs of these nvidia-smi classes: PIX, PXB, PHB, NODE, SYS")
    List<String> classes = new ArrayList<>();

    @Option(names = "--kind", paramLabel = "KIND", split = ",",
            description = "only devices of these kinds: gpu, nic, nvme, storage, accelerator, other, unknown")
    List<String> kinds = new ArrayList<>();

    @Option(names = "--p2p", paramLabel = "r|w", description = "cells show whether the hardware forwards reads "
            + "(r) or writes (w), as nvidia-smi topo -p2p r|w: OK, CNS (the root complex does not) or U (unknown), "
            + "beside the kernel's verdict; JSON gives both directions")
    String p2p;

    @Option(names = "--affinity", description = "add each device's NUMA node and host bridge (nvidia-smi topo -m's "
            + "NUMA Affinity column)")
    boolean affinity;

    @Option(names = {"-j", "--json"}, description = "one JSON document (docs/json.md)")
    boolean json;

    MatrixCommand(Ctx x) {
        this.x = x;
    }

    @Override
    public Integer call() {
        PciMachine m = x.machine(topology);
        List<PciDevice> devs = new ArrayList<>();
        if (bdfs.isEmpty()) {
            devs.addAll(x.doctor().endpoints(m));
        } else {
            for (String b : bdfs) {
                devs.add(x.device(m, b));
            }
        }
        if (!kinds.isEmpty()) {
            Set<String> want = new LinkedHashSet<>();
            for (String k : kinds) {
                String t = k.strip().toLowerCase(java.util.Locale.ROOT);
                if (!KINDS.contains(t)) {
                    throw KernelException.einval("unknown device kind '%s' (%s)", org.peerdma.util.Texts.clip(k),
                            String.join(", ", KINDS));
                }
                want.add(t);
            }
            devs.removeIf(d -> !want.contains(x.doctor().kindOf(d)));
        }
        if (devs.size() < 2) {
            throw KernelException.einval("the matrix needs at least two devices; %s has %d", bdfs.isEmpty()
                    ? "machine '" + m.name() + "'" : "the list", devs.size());
        }
        Set<String> cls = new LinkedHashSet<>(classes);
        MatrixReport r = x.doctor().matrix(m, devs, x.rules(kernel), cls,
                new MatrixReport.Options(p2p != null, direction(p2p), affinity));
        x.print(json ? x.doctor().json(r) : x.doctor().text(r));
        return 0;
    }

    /** --p2p r|w (or read|write) as the doctor takes it. Errors: EINVAL otherwise. */
    static String direction(String p2p) {
        if (p2p == null) {
            return null;
        }
        return switch (p2p.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "r", "read" -> "read";
            case "w", "write" -> "write";
            default -> throw KernelException.einval("--p2p takes r (reads) or w (writes), not '%s'",
                    org.peerdma.util.Texts.clip(p2p));
        };
    }
}
