package org.peerdma.pci.shell;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;

/**
 * Gogo commands (scope "pci") over the PCI core: lspci, load/save of machine descriptions,
 * remove/rescan/reboot, ACS control, the pci= log and the held device references. Every command
 * returns its text; failures are {@link KernelException}s whose message ("EINVAL: ...") the shell
 * prints.
 */
@Component(service = PciCommands.class, property = {
    "osgi.command.scope=pci",
    "osgi.command.function=lspci",
    "osgi.command.function=load",
    "osgi.command.function=save",
    "osgi.command.function=remove",
    "osgi.command.function=rescan",
    "osgi.command.function=acs",
    "osgi.command.function=reboot",
    "osgi.command.function=cmdline",
    "osgi.command.function=refs",
    "osgi.command.function=hotplug",
    "osgi.command.function=unplug"})
public class PciCommands {
    @Reference
    PciCore core;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile TopologyIO io;

    /** lspci - list the loaded machine's devices in pciutils' formats. */
    @Descriptor("list PCI devices as lspci does (switches combine getopt-style too: -tvnn, -vvs 02:08.0)")
    public String lspci(
            @Descriptor("verbose") @Parameter(names = "-v", absentValue = "false", presentValue = "true") boolean v,
            @Descriptor("very verbose (Region lines, ACSCap/ACSCtl)")
            @Parameter(names = "-vv", absentValue = "false", presentValue = "true") boolean vv,
            @Descriptor("even more verbose")
            @Parameter(names = "-vvv", absentValue = "false", presentValue = "true") boolean vvv,
            @Descriptor("numeric IDs") @Parameter(names = "-n", absentValue = "false", presentValue = "true") boolean n,
            @Descriptor("names and numeric IDs")
            @Parameter(names = "-nn", absentValue = "false", presentValue = "true") boolean nn,
            @Descriptor("bus tree") @Parameter(names = "-t", absentValue = "false", presentValue = "true") boolean t,
            @Descriptor("always show the domain")
            @Parameter(names = "-D", absentValue = "false", presentValue = "true") boolean domains,
            @Descriptor("show kernel drivers")
            @Parameter(names = "-k", absentValue = "false", presentValue = "true") boolean kernel,
            @Descriptor("only devices in slots [[[[domain]:]bus]:][slot][.[func]]")
            @Parameter(names = "-s", absentValue = "") String slot,
            @Descriptor("only devices with IDs [vendor]:[device][:class]")
            @Parameter(names = "-d", absentValue = "") String id,
            @Descriptor("further switches") String... more) {
        List<String> args = new ArrayList<>();
        flag(args, v, "-v");
        flag(args, vv, "-vv");
        flag(args, vvv, "-vvv");
        flag(args, n, "-n");
        flag(args, nn, "-nn");
        flag(args, t, "-t");
        flag(args, domains, "-D");
        flag(args, kernel, "-k");
        if (slot != null && !slot.isEmpty()) {
            args.add("-s");
            args.add(slot);
        }
        if (id != null && !id.isEmpty()) {
            args.add("-d");
            args.add(id);
        }
        if (more != null) {
            args.addAll(Arrays.asList(more));
        }
        return lspci(args);
    }

    private static void flag(List<String> args, boolean on, String name) {
        if (on) {
            args.add(name);
        }
    }

    /** lspci with getopt-style arguments, as typed after "lspci". */
    String lspci(List<String> args) {
        LspciOptions o = new LspciOptions().parse(args);
        PciMachine m = core.machine();
        Map<Bdf, DeviceDTO> details = new HashMap<>();
        if (o.verbose > 0) {
            for (DeviceDTO d : core.snapshot().devices) {
                details.put(Bdf.parse(d.bdf), d);
            }
        } else if (!o.tree) {
            for (DeviceDTO d : core.snapshot().devices) {
                if (d.className != null) {
                    details.put(Bdf.parse(d.bdf), d);
                }
            }
        }
        return chomp(new LspciFormatter(m, details).format(o));
    }

    /** load - replace the machine with a dump, a topology file, the bundled sample or this host. */
    @Descriptor("load a machine: a dump or topology file (or sysfs directory), 'sample' or 'host'")
    public String load(CommandSession session,
            @Descriptor("importer format name, 'auto' probes the content")
            @Parameter(names = {"--format", "-f"}, absentValue = TopologyIO.AUTO) String format,
            @Descriptor("file, directory, 'sample' or 'host'") String source) {
        TopologyIO t = io();
        if (source == null || source.isBlank()) {
            throw KernelException.einval("load needs a file, 'sample' or 'host'");
        }
        MachineDTO dto = switch (source) {
            case "sample" -> t.sample();
            case "host" -> t.host();
            default -> t.read(existing(session, source),
                    format == null || format.isBlank() ? TopologyIO.AUTO : format);
        };
        if (dto == null) {
            throw new KernelException(Errno.EIO, "reading '" + source + "' gave no machine description");
        }
        return summary("loaded", core.load(dto));
    }

    /** save - write the current machine in the project's topology format. */
    @Descriptor("save the current machine (YAML, or JSON when the name ends in .json)")
    public String save(CommandSession session, @Descriptor("target file") String target) {
        TopologyIO t = io();
        Path p = path(session, target);
        Path parent = p.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new KernelException(Errno.ENOENT, "cannot save to " + p + ": directory " + parent
                    + " does not exist");
        }
        MachineDTO snap = core.snapshot();
        t.write(snap, p);
        String syntax = p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json") ? "JSON" : "YAML";
        return String.format(Locale.ROOT, "saved '%s' (%d devices, %d host bridges) to %s as %s", snap.name,
                snap.devices.size(), snap.hostBridges.size(), p, syntax);
    }

    /** remove - echo 1 &gt; /sys/bus/pci/devices/BDF/remove. */
    @Descriptor("remove a device and everything below it (rescan finds them again)")
    public String remove(@Descriptor("[domain:]bus:dev.fn") String bdf) {
        List<Bdf> gone = core.remove(Bdf.parse(bdf));
        return "removed " + gone.size() + " device(s): " + join(gone);
    }

    /** rescan - echo 1 &gt; /sys/bus/pci/rescan. */
    @Descriptor("find removed devices that are still present")
    public String rescan() {
        List<Bdf> added = core.rescan().stream().sorted().toList();
        return added.isEmpty() ? "rescan: no new devices"
                : "rescan added " + added.size() + " device(s): " + join(added);
    }

    /** hotplug - new cards appear: the devices of a dump or topology file are hot-added. */
    @Descriptor("hot-add the devices described in a dump or topology file below bridges already present")
    public String hotplug(CommandSession session,
            @Descriptor("importer format name, 'auto' probes the content")
            @Parameter(names = {"--format", "-f"}, absentValue = TopologyIO.AUTO) String format,
            @Descriptor("file describing the new devices") String source) {
        MachineDTO dto = io().read(existing(session, source),
                format == null || format.isBlank() ? TopologyIO.AUTO : format);
        List<Bdf> added = core.hotAdd(dto.devices).stream().sorted().toList();
        return "hot-added " + added.size() + " device(s): " + join(added);
    }

    /** unplug - surprise removal: the hardware leaves, rescan does not find it again. */
    @Descriptor("surprise-remove a device and everything below it (the hardware is gone; rescan will not find it)")
    public String unplug(@Descriptor("[domain:]bus:dev.fn") String bdf) {
        List<Bdf> gone = core.hotUnplug(Bdf.parse(bdf));
        return "unplugged " + gone.size() + " device(s): " + join(gone);
    }

    /** reboot - enumerate the loaded machine again with the pci= options in force now. */
    @Descriptor("boot the loaded machine again (hardware state, current pci= options)")
    public String reboot() {
        return summary("rebooted", core.reboot());
    }

    /** acs - show or write a device's ACS control register. */
    @Descriptor("show ACSCap/ACSCtl, or write ACSCtl: a hex value (0x1d) and/or bit edits (+RR -CR)")
    public String acs(@Descriptor("[domain:]bus:dev.fn") String bdf,
            @Descriptor("hex value, then +BIT/-BIT with SV TB RR CR UF EC DT or lspci's names") String... edits) {
        Bdf a = Bdf.parse(bdf);
        PciDevice d = core.get(a);
        if (edits == null || edits.length == 0) {
            return show(d);
        }
        Integer value = null;
        int v = 0;
        boolean edited = false;
        for (String e : edits) {
            String tok = e == null ? "" : e.strip();
            if (tok.startsWith("+") || tok.startsWith("-")) {
                int bit = Acs.parseBit(tok.substring(1));
                if (bit == 0) {
                    throw KernelException.einval("unknown ACS bit '%s': use SV TB RR CR UF EC DT or SrcValid TransBlk "
                            + "ReqRedir CmpltRedir UpstreamFwd EgressCtrl DirectTrans", tok.substring(1));
                }
                if (!edited && value == null) {
                    v = d.acsCtrl();
                }
                v = tok.charAt(0) == '+' ? v | bit : v & ~bit;
                edited = true;
            } else {
                if (value != null || edited) {
                    throw KernelException.einval("'%s': give at most one value, before the bit edits", tok);
                }
                value = hex(tok);
                v = value;
            }
        }
        int now = core.setAcsCtrl(a, v);
        String line = a + " ACSCtl:\t" + Acs.lspci(now);
        if ((v & ~now) != 0) {
            line += "\n# not implemented by ACSCap, read back as 0: " + String.join(" ", Acs.names(v & ~now));
        }
        return line;
    }

    private static String show(PciDevice d) {
        if (!d.hasAcs()) {
            return d.bdf() + (d.acsUnknown()
                    ? ": ACS unknown: the dump did not show this device's extended capabilities"
                    : ": no ACS capability");
        }
        String head = d.acsCapOffset() > 0
                ? String.format(Locale.ROOT, "%s Capabilities: [%03x] Access Control Services", d.bdf(),
                        d.acsCapOffset())
                : d.bdf() + " Access Control Services (capability offset not in the dump)";
        String s = head + "\n\t\tACSCap:\t" + Acs.lspci(d.acsCap()) + "\n\t\tACSCtl:\t" + Acs.lspci(d.acsCtrl());
        return d.acsUnknown() ? s + "\n# ACSCtl not in the dump: shown as all clear" : s;
    }

    private static int hex(String tok) {
        String t = tok.startsWith("0x") || tok.startsWith("0X") ? tok.substring(2) : tok;
        if (t.isEmpty() || t.length() > 8 || !t.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw KernelException.einval("'%s' is neither an ACS control value (hex, e.g. 0x1d) nor a bit edit "
                    + "(+RR, -CR)", tok);
        }
        return (int) Long.parseLong(t, 16);
    }

    /** cmdline - the pci= options in force and what they did at the last enumeration. */
    @Descriptor("show the pci= options and what applying them did")
    public String cmdline() {
        return String.join("\n", core.cmdlineLog());
    }

    /** refs - who holds pci_dev references. */
    @Descriptor("list held device references (pci_dev_get)")
    public String refs() {
        List<String> r = core.references();
        return r.isEmpty() ? "no device references held" : String.join("\n", r);
    }

    private TopologyIO io() {
        TopologyIO t = io;
        if (t == null) {
            throw new KernelException(Errno.ENODEV, "no topology reader/writer (TopologyIO) is available: "
                    + "is bundle org.peerdma.pci.import active?");
        }
        return t;
    }

    /** A path as typed, relative ones resolved against the shell's current directory (Gogo "cd"). */
    private static Path path(CommandSession session, String text) {
        if (text == null || text.isBlank()) {
            throw KernelException.einval("no file name given");
        }
        Path p;
        try {
            p = Path.of(text);
        } catch (InvalidPathException ex) {
            throw KernelException.einval("'%s' is not a valid path: %s", text, ex.getReason());
        }
        Path cwd = session == null ? null : session.currentDir();
        return p.isAbsolute() || cwd == null ? p : cwd.resolve(p);
    }

    private static Path existing(CommandSession session, String text) {
        Path p = path(session, text);
        if (!Files.exists(p)) {
            throw new KernelException(Errno.ENOENT, "no such file or directory: " + p.toAbsolutePath());
        }
        return p;
    }

    private static String summary(String verb, PciMachine m) {
        long devNotes = m.devices().stream().mapToLong(d -> d.notes().size()).sum();
        return String.format(Locale.ROOT, "%s '%s' from %s: %d devices, %d host bridges, %d machine notes, "
                + "%d device notes", verb, m.name(), m.source(), m.devices().size(), m.hostBridges().size(),
                m.notes().size(), devNotes);
    }

    private static String join(List<Bdf> l) {
        return l.stream().map(Bdf::toString).collect(Collectors.joining(" "));
    }

    private static String chomp(String s) {
        int e = s.length();
        while (e > 0 && s.charAt(e - 1) == '\n') {
            e--;
        }
        return s.substring(0, e);
    }
}
