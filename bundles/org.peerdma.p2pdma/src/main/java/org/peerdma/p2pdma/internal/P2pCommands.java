package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/** The P2P doctor: check, matrix, whatif. */
@Component(service = P2pCommands.class, property = {"osgi.command.scope=p2p", "osgi.command.function=check",
    "osgi.command.function=matrix", "osgi.command.function=whatif", "osgi.command.function=providers",
    "osgi.command.function=addres", "osgi.command.function=publish", "osgi.command.function=alloc",
    "osgi.command.function=free", "osgi.command.function=p2pmem", "osgi.command.function=find",
    "osgi.command.function=release"})
public class P2pCommands {
    @Reference
    PciCore core;

    @Reference
    P2pdma p2pdma;

    @Reference
    org.peerdma.p2pdma.P2pMem mem;

    @Descriptor("list P2P memory providers with their p2pmem attributes")
    public String providers() {
        StringBuilder sb = new StringBuilder();
        for (PciDevice d : mem.providers()) {
            var i = mem.info(d);
            sb.append(String.format(Locale.ROOT, "%s size %d available %d published %d%n", d.name(), i.size(),
                    i.available(), i.published() ? 1 : 0));
        }
        return sb.length() == 0 ? "no P2P memory providers (add one: addres BDF BAR)" : chomp(sb);
    }

    @Descriptor("pci_p2pdma_add_resource: make (part of) a memory BAR P2P memory")
    public String addres(@Descriptor("device") String bdf, @Descriptor("BAR index") int bar,
            @Descriptor("size in bytes (0 or absent: the rest of the BAR; K/M/G suffixes)") String... sizeOffset) {
        PciDevice d = Doctor.dev(core.machine(), bdf);
        long size = sizeOffset.length > 0 ? size(sizeOffset[0]) : 0;
        long offset = sizeOffset.length > 1 ? size(sizeOffset[1]) : 0;
        mem.addResource(d, bar, size, offset);
        var i = mem.info(d);
        return String.format(Locale.ROOT, "%s: p2pmem size %d available %d", d.name(), i.size(), i.available());
    }

    @Descriptor("pci_p2pmem_publish: let clients find the provider (1) or not (0)")
    public String publish(@Descriptor("device") String bdf, @Descriptor("1 or 0 (default 1)") String... on) {
        PciDevice d = Doctor.dev(core.machine(), bdf);
        boolean p = on.length == 0 || !on[0].equals("0");
        mem.publish(d, p);
        return d.name() + " published " + (mem.hasP2pmem(d) ? 1 : 0);
    }

    @Descriptor("pci_alloc_p2pmem: allocate from a provider's pool; returns the address for free (the bus address "
            + "and what is left go to stderr)")
    public String alloc(@Descriptor("device") String bdf, @Descriptor("bytes (K/M/G suffixes)") String bytes) {
        PciDevice d = Doctor.dev(core.machine(), bdf);
        long n = size(bytes);
        long virt = mem.alloc(d, n);
        if (virt == 0) {
            throw new KernelException(org.peerdma.errno.Errno.ENOMEM, "pci_alloc_p2pmem(" + d.name() + ", " + n
                    + ") returned NULL" + (mem.providers().contains(d) ? " (pool exhausted or being torn down)"
                            : " (not a P2P memory provider)"));
        }
        System.err.println(String.format(Locale.ROOT, "virt %#x bus %#x (%d bytes, available now %d)", virt,
                mem.virtToBus(d, virt), n, mem.info(d).available()));
        return String.format(Locale.ROOT, "%#x", virt);
    }

    @Descriptor("pci_free_p2pmem: give memory back")
    public String free(@Descriptor("device") String bdf, @Descriptor("virt address as alloc printed it") String virt,
            @Descriptor("bytes") String bytes) {
        long v;
        try {
            v = Long.parseUnsignedLong(virt.replaceFirst("^0x", ""), 16);
        } catch (NumberFormatException ex) {
            throw KernelException.einval("'%s' is not a hex address", virt);
        }
        // a provider removed while this allocation was held: the shell, as the client, still holds its pci_dev
        PciDevice gone = mem instanceof P2pdmaImpl impl ? impl.dyingProvider(org.peerdma.pci.Bdf.parse(bdf)) : null;
        PciDevice now = gone == null ? Doctor.dev(core.machine(), bdf) : null;
        if (gone != null && core.machine().devices().stream().anyMatch(x -> x.bdf().equals(gone.bdf())
                && mem.providers().contains(x))) {
            now = Doctor.dev(core.machine(), bdf); // the same address is a provider again: that one is meant
        }
        PciDevice d = now != null ? now : gone;
        mem.free(d, v, size(bytes));
        if (d == gone) {
            long left = ((P2pdmaImpl) mem).dyingAllocated(d);
            return d.name() + " (removed) " + (left == 0 ? "teardown complete: every allocation returned"
                    : left + " bytes still allocated");
        }
        return d.name() + " available " + mem.info(d).available();
    }

    @Descriptor("show /sys/bus/pci/devices/BDF/p2pmem/{size,available,published}")
    public String p2pmem(@Descriptor("device") String bdf) {
        return chomp(new StringBuilder(mem.info(Doctor.dev(core.machine(), bdf)).sysfs()));
    }

    @Descriptor("pci_p2pmem_find_many: the closest published provider for these clients (random among equals)")
    public String find(@Descriptor("client devices") String... clients) {
        if (clients.length == 0) {
            throw KernelException.einval("find needs at least one client");
        }
        List<org.peerdma.p2pdma.DeviceNode> nodes = new ArrayList<>();
        for (String c : clients) {
            nodes.add(org.peerdma.p2pdma.DeviceNode.of(Doctor.dev(core.machine(), c)));
        }
        var found = mem.findMany(nodes, "p2p:find");
        if (found.isEmpty()) {
            return "no published provider reaches every client";
        }
        try (var ref = found.get()) {
            return ref.device().name() + " (distance " + p2pdma.distanceMany(ref.device(), nodes, false,
                    new ArrayList<>()) + ")";
        }
    }

    @Descriptor("pci_p2pdma_release: tear a provider down (as on driver unbind)")
    public String release(@Descriptor("device") String bdf) {
        PciDevice d = Doctor.dev(core.machine(), bdf);
        mem.release(d);
        return d.name() + " released";
    }

    private static long size(String s) {
        return org.peerdma.util.Sizes.parse(s);
    }

    private static String chomp(StringBuilder sb) {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\n' ? sb.substring(0, n - 1) : sb.toString();
    }

    @Reference
    P2pDoctor doctor;

    @Descriptor("will P2P DMA work from PROVIDER's memory to CLIENT, and which rule decides")
    public String check(@Descriptor("kernel rules: newest, v5.x, v5.2, v4.20 or a release such as 6.8 "
            + "(default: the machine's own kernel release, else the module parameter)") @Parameter(names = {"-k", "--kernel"}, absentValue = "") String kernel,
            @Descriptor("print the report as JSON (docs/json.md)")
            @Parameter(names = {"-j", "--json"}, presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("provider [domain:]bus:dev.fn") String provider,
            @Descriptor("client [domain:]bus:dev.fn") String client) {
        PciMachine m = core.machine();
        var r = doctor.check(m, Doctor.dev(m, provider), Doctor.dev(m, client), named(kernel));
        return out(r, json);
    }

    @Descriptor("verdicts for all endpoint pairs of the loaded machine, with nvidia-smi's path class")
    public String matrix(@Descriptor("kernel rules") @Parameter(names = {"-k", "--kernel"}, absentValue = "")
            String kernel,
            @Descriptor("only pairs of these nvidia-smi classes, comma-separated (PIX,PXB,PHB,NODE,SYS)")
            @Parameter(names = {"-c", "--class"}, absentValue = "") String classes,
            @Descriptor("only devices of these kinds, comma-separated (gpu,nic,nvme,storage,accelerator,other,unknown)")
            @Parameter(names = {"-t", "--kind"}, absentValue = "") String kinds,
            @Descriptor("cells show whether the hardware forwards reads (r) or writes (w), as nvidia-smi topo -p2p")
            @Parameter(names = {"-p", "--p2p"}, absentValue = "") String p2p,
            @Descriptor("add each device's NUMA node and host bridge (nvidia-smi topo -m's NUMA Affinity)")
            @Parameter(names = {"-a", "--affinity"}, presentValue = "true", absentValue = "false") boolean affinity,
            @Descriptor("print the report as JSON (docs/json.md)")
            @Parameter(names = {"-j", "--json"}, presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("only these devices (default: every endpoint)") String... bdfs) {
        String direction = switch (p2p == null ? "" : p2p.strip().toLowerCase(Locale.ROOT)) {
            case "" -> null;
            case "r", "read" -> "read";
            case "w", "write" -> "write";
            default -> throw KernelException.einval("-p takes r (reads) or w (writes), not '%s'",
                    org.peerdma.util.Texts.clip(p2p));
        };
        PciMachine m = core.machine();
        List<PciDevice> devs = devices(m, bdfs == null ? List.of() : List.of(bdfs));
        if (kinds != null && !kinds.isBlank()) {
            java.util.Set<String> want = new java.util.LinkedHashSet<>();
            for (String k : kinds.split(",")) {
                String t = k.strip().toLowerCase(Locale.ROOT);
                if (!List.of("gpu", "nic", "nvme", "storage", "accelerator", "bridge", "other", "unknown").contains(t)) {
                    throw KernelException.einval("unknown device kind '%s' (gpu, nic, nvme, storage, accelerator, "
                            + "bridge, other, unknown)", org.peerdma.util.Texts.clip(k));
                }
                want.add(t);
            }
            devs.removeIf(d -> !want.contains(Kinds.of(d)));
            if (devs.size() < 2) {
                throw KernelException.einval("the matrix needs at least two devices; %d of kind %s", devs.size(),
                        kinds);
            }
        }
        return out(doctor.matrix(m, devs, named(kernel), classSet(classes),
                new org.peerdma.p2pdma.doctor.MatrixReport.Options(direction != null, direction, affinity)), json);
    }

    /** The rule set -k names, or null when none is named (the doctor then takes the machine's own). */
    private RuleSet named(String kernel) {
        return kernel == null || kernel.isBlank() ? null : doctor.rules(kernel, "-k");
    }

    /** The matrix's devices: the ones given, else every endpoint; EINVAL with fewer than two. */
    List<PciDevice> devices(PciMachine m, List<String> bdfs) {
        List<PciDevice> devs = new ArrayList<>();
        if (bdfs.isEmpty()) {
            devs.addAll(doctor.endpoints(m));
        } else {
            for (String b : bdfs) {
                devs.add(Doctor.dev(m, b));
            }
        }
        if (devs.size() < 2) {
            throw bdfs.isEmpty()
                    ? KernelException.einval("the matrix needs at least two endpoints; machine '%s' has %d", m.name(),
                            devs.size())
                    : KernelException.einval("the matrix needs at least two devices; %d given", devs.size());
        }
        return devs;
    }

    static java.util.Set<String> classSet(String classes) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        if (classes != null) {
            for (String c : classes.split(",")) {
                if (!c.isBlank()) {
                    out.add(c.strip());
                }
            }
        }
        return out;
    }

    @Descriptor("ask check on a changed copy of the machine (the loaded machine is not touched). Changes: "
            + "acs:BDF=HEX|+BIT|-BIT[,...]  redirect=off  cpu=VENDOR[/FAMILY]  arch=ARCH  kernel=VERSION  iommu=on|pt|off")
    public String whatif(@Descriptor("print the report as JSON (docs/json.md)")
            @Parameter(names = {"-j", "--json"}, presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("provider") String provider, @Descriptor("client") String client,
            @Descriptor("changes") String... changes) {
        return out(doctor.whatIf(provider, client, changes == null ? List.of() : List.of(changes), null), json);
    }

    private String out(Object report, boolean json) {
        String s = json ? doctor.json(report) : doctor.text(report);
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }


}
