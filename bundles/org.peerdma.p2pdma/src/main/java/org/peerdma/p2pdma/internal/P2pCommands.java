package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;

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
        PciDevice d = dev(core.machine(), bdf);
        long size = sizeOffset.length > 0 ? size(sizeOffset[0]) : 0;
        long offset = sizeOffset.length > 1 ? size(sizeOffset[1]) : 0;
        mem.addResource(d, bar, size, offset);
        var i = mem.info(d);
        return String.format(Locale.ROOT, "%s: p2pmem size %d available %d", d.name(), i.size(), i.available());
    }

    @Descriptor("pci_p2pmem_publish: let clients find the provider (1) or not (0)")
    public String publish(@Descriptor("device") String bdf, @Descriptor("1 or 0 (default 1)") String... on) {
        PciDevice d = dev(core.machine(), bdf);
        boolean p = on.length == 0 || !on[0].equals("0");
        mem.publish(d, p);
        return d.name() + " published " + (mem.hasP2pmem(d) ? 1 : 0);
    }

    @Descriptor("pci_alloc_p2pmem: allocate from a provider's pool (prints virt and PCI bus address)")
    public String alloc(@Descriptor("device") String bdf, @Descriptor("bytes (K/M/G suffixes)") String bytes) {
        PciDevice d = dev(core.machine(), bdf);
        long n = size(bytes);
        long virt = mem.alloc(d, n);
        if (virt == 0) {
            throw new KernelException(org.peerdma.errno.Errno.ENOMEM, "pci_alloc_p2pmem(" + d.name() + ", " + n
                    + ") returned NULL" + (mem.providers().contains(d) ? " (pool exhausted or being torn down)"
                            : " (not a P2P memory provider)"));
        }
        return String.format(Locale.ROOT, "virt %#x bus %#x (%d bytes, available now %d)", virt, mem.virtToBus(d, virt),
                n, mem.info(d).available());
    }

    @Descriptor("pci_free_p2pmem: give memory back")
    public String free(@Descriptor("device") String bdf, @Descriptor("virt address as alloc printed it") String virt,
            @Descriptor("bytes") String bytes) {
        PciDevice d = dev(core.machine(), bdf);
        long v;
        try {
            v = Long.parseUnsignedLong(virt.replaceFirst("^0x", ""), 16);
        } catch (NumberFormatException ex) {
            throw KernelException.einval("'%s' is not a hex address", virt);
        }
        mem.free(d, v, size(bytes));
        return d.name() + " available " + mem.info(d).available();
    }

    @Descriptor("show /sys/bus/pci/devices/BDF/p2pmem/{size,available,published}")
    public String p2pmem(@Descriptor("device") String bdf) {
        return chomp(new StringBuilder(mem.info(dev(core.machine(), bdf)).sysfs()));
    }

    @Descriptor("pci_p2pmem_find_many: the closest published provider for these clients (random among equals)")
    public String find(@Descriptor("client devices") String... clients) {
        if (clients.length == 0) {
            throw KernelException.einval("find needs at least one client");
        }
        List<org.peerdma.p2pdma.DeviceNode> nodes = new ArrayList<>();
        for (String c : clients) {
            nodes.add(org.peerdma.p2pdma.DeviceNode.of(dev(core.machine(), c)));
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
        PciDevice d = dev(core.machine(), bdf);
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

    @Descriptor("will P2P DMA work from PROVIDER's memory to CLIENT, and which rule decides")
    public String check(@Descriptor("kernel rules: newest, v5.x, v5.2, v4.20 (default: module parameter)")
            @Parameter(names = {"-k", "--kernel"}, absentValue = "") String kernel,
            @Descriptor("provider [domain:]bus:dev.fn") String provider,
            @Descriptor("client [domain:]bus:dev.fn") String client) {
        PciMachine m = core.machine();
        return Doctor.explain(m, dev(m, provider), dev(m, client), version(kernel), arch());
    }

    @Descriptor("verdicts for all endpoint pairs of the loaded machine, with nvidia-smi's path class")
    public String matrix(@Descriptor("kernel rules") @Parameter(names = {"-k", "--kernel"}, absentValue = "")
            String kernel, @Descriptor("only these devices (default: every endpoint)") String... bdfs) {
        PciMachine m = core.machine();
        List<PciDevice> devs = new ArrayList<>();
        if (bdfs == null || bdfs.length == 0) {
            devs.addAll(Doctor.endpoints(m));
        } else {
            for (String b : bdfs) {
                devs.add(dev(m, b));
            }
        }
        if (devs.size() < 2) {
            throw bdfs == null || bdfs.length == 0
                    ? KernelException.einval("the matrix needs at least two endpoints; machine '%s' has %d", m.name(),
                            devs.size())
                    : KernelException.einval("the matrix needs at least two devices; %d given", devs.size());
        }
        return Doctor.matrix(m, version(kernel), devs, arch());
    }

    @Descriptor("ask check on a changed copy of the machine (the loaded machine is not touched). Changes: "
            + "acs:BDF=HEX|+BIT|-BIT[,...]  redirect=off  cpu=VENDOR[/FAMILY]  arch=ARCH  kernel=VERSION")
    public String whatif(@Descriptor("provider") String provider, @Descriptor("client") String client,
            @Descriptor("changes") String... changes) {
        MachineDTO dto = core.snapshot();
        KernelVersion v = p2pdma.version();
        Calc.Arch archAfter = arch();
        List<String> done = new ArrayList<>();
        for (String c : changes == null ? new String[0] : changes) {
            done.add(apply(dto, c));
            if (c.startsWith("kernel=")) {
                v = KernelVersion.parse(c.substring(7));
            }
            if (c.startsWith("arch=")) {
                archAfter = Calc.MACHINE; // the description's arch, not the loaded arch module
            }
        }
        PciMachine before = core.machine();
        PciMachine after = core.detached(dto);
        StringBuilder sb = new StringBuilder();
        sb.append("what if: ").append(done.isEmpty() ? "nothing changed" : String.join("; ", done)).append('\n');
        sb.append("before: ").append(oneLine(before, provider, client, p2pdma.version(), arch())).append('\n');
        sb.append("after:  ").append(oneLine(after, provider, client, v, archAfter)).append('\n');
        sb.append('\n').append(Doctor.explain(after, dev(after, provider), dev(after, client), v, archAfter));
        return sb.toString();
    }

    private Calc.Arch arch() {
        return p2pdma instanceof P2pdmaImpl impl ? impl.archRules() : Calc.MACHINE;
    }

    private static String oneLine(PciMachine m, String provider, String client, KernelVersion v, Calc.Arch arch) {
        var r = Calc.calc(m, dev(m, provider), dev(m, client), v, arch);
        return String.format(Locale.ROOT, "%s distance %d (%s)", r.mapType().kernelName(), r.distance(), v.label());
    }

    private static String apply(MachineDTO dto, String change) {
        int eq = change.indexOf('=');
        if (eq <= 0) {
            throw KernelException.einval("what-if change '%s' is not key=value", change);
        }
        String key = change.substring(0, eq);
        String val = change.substring(eq + 1);
        if (key.startsWith("acs:")) {
            Bdf bdf = Bdf.parse(key.substring(4));
            DeviceDTO d = dto.devices.stream().filter(x -> Bdf.parse(x.bdf).equals(bdf)).findFirst()
                    .orElseThrow(() -> KernelException.enodev("no PCI device %s", bdf));
            if (d.acs == null) {
                throw KernelException.einval("%s has no ACS capability", bdf);
            }
            int ctrl = d.acs.ctrl == null ? 0 : d.acs.ctrl;
            for (String t : val.split(",")) {
                if (t.startsWith("+") || t.startsWith("-")) {
                    int bit = Acs.parseBit(t.substring(1));
                    if (bit == 0) {
                        throw KernelException.einval("unknown ACS bit '%s'", t.substring(1));
                    }
                    ctrl = t.startsWith("+") ? ctrl | bit : ctrl & ~bit;
                } else {
                    try {
                        ctrl = Integer.decode(t.startsWith("0x") ? t : "0x" + t);
                    } catch (NumberFormatException ex) {
                        throw KernelException.einval("'%s' is not a hex ACS control value", t);
                    }
                }
            }
            int cap = d.acs.cap == null ? Acs.ALL : d.acs.cap;
            d.acs.ctrl = ctrl & cap & Acs.ALL;
            return bdf + " ACSCtl " + String.join(" ", Acs.names(d.acs.ctrl));
        }
        switch (key) {
            case "redirect" -> {
                if (!val.equals("off")) {
                    throw KernelException.einval("redirect= takes 'off'");
                }
                int n = 0;
                for (DeviceDTO d : dto.devices) {
                    if (d.acs != null && d.acs.ctrl != null && (d.acs.ctrl & Acs.REDIRECT_BITS) != 0) {
                        d.acs.ctrl &= ~Acs.REDIRECT_BITS;
                        n++;
                    }
                }
                return "ACS redirect cleared on " + n + " port(s)";
            }
            case "cpu" -> {
                String[] p = val.split("/");
                dto.cpu = dto.cpu == null ? new CpuDTO() : dto.cpu;
                dto.cpu.vendor = p[0];
                if (p.length > 1) {
                    try {
                        dto.cpu.family = Integer.decode(p[1]);
                    } catch (NumberFormatException ex) {
                        throw KernelException.einval("CPU family '%s' is not a number", p[1]);
                    }
                }
                return "CPU " + val;
            }
            case "arch" -> {
                dto.arch = val;
                return "arch " + val;
            }
            case "kernel" -> {
                return "kernel rules " + KernelVersion.parse(val).label();
            }
            default -> throw KernelException.einval("unknown what-if change '%s' (acs:BDF=, redirect=off, cpu=, "
                    + "arch=, kernel=)", key);
        }
    }

    private KernelVersion version(String k) {
        return k == null || k.isBlank() ? p2pdma.version() : KernelVersion.parse(k);
    }

    private static PciDevice dev(PciMachine m, String bdf) {
        Bdf b = Bdf.parse(bdf);
        return m.device(b).orElseThrow(() -> KernelException.enodev("no PCI device %s in machine '%s'", b, m.name()));
    }
}
