package org.peerdma.pci.shell;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.peerdma.pci.Acs;
import org.peerdma.pci.Bar;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.Capability;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.WindowDTO;

/**
 * Formats a {@link PciMachine} the way pciutils' lspci prints a real one: the one-line listing,
 * -v/-vv/-vvv detail as far as the model knows it, -n/-nn, -t/-tv trees, -D, -k, -b, and the -s/-d
 * filters. Lines the model adds that lspci would not print (notes, unknown ACS state) start
 * with "#" ("\t# " inside a device block) so they cannot be mistaken for lspci's.
 */
public final class LspciFormatter {
    private final PciMachine machine;
    private final Map<Bdf, DeviceDTO> details;

    /** A formatter for {@code machine}, with only what the live model exposes. */
    public LspciFormatter(PciMachine machine) {
        this(machine, Map.of());
    }

    /**
     * A formatter that also uses the machine description's extra fields (class names, bridge
     * windows), e.g. {@code PciCore.snapshot()} keyed by address.
     */
    public LspciFormatter(PciMachine machine, Map<Bdf, DeviceDTO> details) {
        this.machine = machine;
        this.details = details == null ? Map.of() : details;
    }

    /**
     * format - lspci's output for these switches, e.g. {@code format("-tv")},
     * {@code format("-vv", "-s", "02:08.0")}.
     * Return: the text, every line ending in '\n' (empty when nothing matched).
     * Errors: EINVAL for unknown switches or malformed -s/-d values.
     */
    public String format(String... args) {
        return format(new LspciOptions().parse(Arrays.asList(args)));
    }

    String format(LspciOptions o) {
        PciNames.Mode mode = o.numeric == 0 ? PciNames.Mode.NAMES
                : o.numeric == 1 ? PciNames.Mode.NUMERIC : PciNames.Mode.MIXED;
        PciNames names = new PciNames(machine, details, mode);
        if (o.tree) {
            return new LspciTree(machine, names, o).render();
        }
        boolean domains = o.domains || machine.devices().stream().anyMatch(d -> d.bdf().domain() != 0);
        StringBuilder sb = new StringBuilder();
        for (PciDevice d : machine.devices()) {
            if (!o.filter.matches(d)) {
                continue;
            }
            terse(sb, d, names, o, domains);
            if (o.verbose > 0) {
                verbose(sb, d, o);
            }
            if ((o.kernel || o.verbose > 0) && !d.driver().isEmpty()) {
                sb.append("\tKernel driver in use: ").append(d.driver()).append('\n');
            }
            if (o.verbose > 0) {
                annotations(sb, d, o.verbose);
                sb.append('\n');
            }
        }
        if (o.verbose > 0 && !o.filter.isSet()) {
            for (String n : machine.notes()) {
                sb.append("# ").append(n).append('\n');
            }
        }
        return sb.toString();
    }

    /** show_terse: the device line and, with -v or -k, the Subsystem line. */
    private static void terse(StringBuilder sb, PciDevice d, PciNames names, LspciOptions o, boolean domains) {
        Bdf a = d.bdf();
        if (domains) {
            sb.append(String.format(Locale.ROOT, "%04x:", a.domain()));
        }
        sb.append(a.shortName()).append(' ').append(names.className(d)).append(": ")
                .append(names.vendorDevice(d));
        if (d.revision() != 0) {
            sb.append(String.format(Locale.ROOT, " (rev %02x)", d.revision()));
        }
        if (o.verbose > 0) {
            int pif = d.classCode() & 0xff;
            String x = PciNames.progIf((d.classCode() >> 8) & 0xffff, pif);
            if (pif != 0 || x != null) {
                sb.append(String.format(Locale.ROOT, " (prog-if %02x", pif));
                if (x != null) {
                    sb.append(" [").append(x).append(']');
                }
                sb.append(')');
            }
        }
        sb.append('\n');
        int sv = d.subsystemVendor();
        if ((o.verbose > 0 || o.kernel) && sv != 0 && sv != 0xffff) {
            sb.append("\tSubsystem: ").append(names.subsystem(d)).append('\n');
        }
    }

    /** show_verbose without the config-space registers the model does not have. */
    private void verbose(StringBuilder sb, PciDevice d, LspciOptions o) {
        if (o.verbose > 1) {
            controlStatus(sb, d);
        }
        if (d.numaNode() >= 0) {
            sb.append("\tNUMA node: ").append(d.numaNode()).append('\n');
        }
        boolean bridge = d.isBridge();
        for (Bar b : d.bars()) {
            if (b.index() < (bridge ? 2 : 6)) {
                sb.append(o.verbose > 1 ? "\tRegion " + b.index() + ": " : "\t").append(barText(b, o.busCentric))
                        .append('\n');
            }
        }
        if (bridge) {
            if (d.secondaryBus() >= 0) {
                sb.append(String.format(Locale.ROOT, "\tBus: primary=%02x, secondary=%02x, subordinate=%02x",
                        d.bdf().bus(), d.secondaryBus(), d.subordinateBus()));
                // PCIe bridges hardwire the secondary latency timer to 0; for others it is unknown
                sb.append(d.isPcie() ? ", sec-latency=0\n" : "\n");
            }
            windows(sb, details.get(d.bdf()));
        }
        d.bar(6).ifPresent(rom -> sb.append("\tExpansion ROM at ")
                .append(rom.unassigned() && rom.start() == 0 ? "<unassigned>" : hex(addr(rom, o.busCentric), 8))
                .append(rom.unassigned() ? " [disabled]" : "").append(size(rom.size())).append('\n'));
        capabilities(sb, d, o.verbose);
    }

    private static void windows(StringBuilder sb, DeviceDTO dto) {
        if (dto == null || dto.bridgeWindows == null) {
            return;
        }
        List<WindowDTO> ws = dto.bridgeWindows;
        for (int kind = 0; kind < 3; kind++) {
            for (WindowDTO w : ws) {
                int k = w.io ? 0 : w.prefetchable ? 2 : 1;
                if (k != kind || w.size <= 0) {
                    continue;
                }
                long limit = w.cpuStart + w.size - 1;
                int bits = k == 0 ? (limit > 0xffffL ? 32 : 16) : k == 1 ? 32 : (limit > 0xffffffffL ? 64 : 32);
                String prefix = k == 0 ? "I/O behind bridge" : k == 1 ? "Memory behind bridge"
                        : "Prefetchable memory behind bridge";
                int digits = (bits + 3) / 4;
                sb.append('\t').append(prefix).append(": ").append(hex(w.cpuStart, digits)).append('-')
                        .append(hex(limit, digits)).append(size(w.size)).append(" [").append(bits).append("-bit]\n");
            }
        }
    }

    private static void capabilities(StringBuilder sb, PciDevice d, int verbose) {
        boolean acsListed = false;
        for (Capability c : d.capabilities()) {
            if (!c.extended()) {
                sb.append(String.format(Locale.ROOT, "\tCapabilities: [%02x] ", c.offset()));
                if (c.id() == Capability.CAP_EXP) {
                    sb.append("Express");
                    if (verbose > 1 && c.version() > 0) {
                        sb.append(" (v").append(c.version()).append(')');
                    }
                    sb.append(d.isPcie() ? " " + d.portType().lspciName() : "").append('\n');
                    if (verbose > 1) {
                        deviceLines(sb, d);
                        linkLines(sb, d);
                    }
                } else {
                    sb.append(c.name()).append('\n');
                }
                continue;
            }
            sb.append(String.format(Locale.ROOT, "\tCapabilities: [%03x", c.offset()));
            if (verbose > 1 && c.version() > 0) {
                sb.append(" v").append(c.version());
            }
            sb.append("] ").append(c.name()).append('\n');
            if (c.id() == Capability.EXT_ACS) {
                acsListed = true;
                acsLines(sb, d, verbose);
            }
        }
        if (d.hasAcs() && !acsListed) {
            if (d.acsCapOffset() > 0) {
                sb.append(String.format(Locale.ROOT, "\tCapabilities: [%03x] Access Control Services\n",
                        d.acsCapOffset()));
            } else {
                sb.append("\t# Access Control Services (capability offset not in the dump)\n");
            }
            acsLines(sb, d, verbose);
        }
    }

    /**
     * linkLines - cap_express_link's LnkCap and LnkSta lines, with the fields the model keeps (speed and width; the
     * port number, ASPM and the status flags are not kept, so they are left out rather than made up). LnkSta says
     * "(downgraded)" or "(overdriven)" against LnkCap as link_compare does: not for root and downstream ports and
     * PCI/PCI-X-to-PCIe bridges, which may train below their capability.
     */
    private static void linkLines(StringBuilder sb, PciDevice d) {
        long t = d.register("lnkcap");
        long w = d.register("lnksta");
        if (t >= 0 && w >= 0) {
            linkRegisters(sb, d.portType(), t, w);
            return;
        }
        boolean cap = !d.linkCapSpeed().isEmpty() && d.linkCapWidth() > 0;
        if (cap) {
            sb.append("\t\tLnkCap:\tSpeed ").append(d.linkCapSpeed()).append(", Width x").append(d.linkCapWidth())
                    .append('\n');
        }
        if (!d.linkSpeed().isEmpty() && d.linkWidth() > 0) {
            sb.append("\t\tLnkSta:\tSpeed ").append(d.linkSpeed())
                    .append(cap ? linkCompare(d.portType(), gts(d.linkSpeed()), gts(d.linkCapSpeed())) : "")
                    .append(", Width x").append(d.linkWidth())
                    .append(cap ? linkCompare(d.portType(), d.linkWidth(), d.linkCapWidth()) : "").append('\n');
        }
    }

    private static char flag(long v, long bit) {
        return (v & bit) != 0 ? '+' : '-';
    }

    /**
     * controlStatus - lspci.c's Control and Status lines (-vv), from the Command and Status registers when the
     * description has them. The Latency line that follows for bus masters needs the latency timer and cache line
     * size, which the model does not keep: it is left out rather than made up.
     */
    static void controlStatus(StringBuilder sb, PciDevice d) {
        long cmd = d.register("command");
        long st = d.register("status");
        if (cmd < 0 || st < 0) {
            return;
        }
        sb.append(String.format(Locale.ROOT, "\tControl: I/O%c Mem%c BusMaster%c SpecCycle%c MemWINV%c VGASnoop%c "
                + "ParErr%c Stepping%c SERR%c FastB2B%c DisINTx%c\n", flag(cmd, 0x1), flag(cmd, 0x2), flag(cmd, 0x4),
                flag(cmd, 0x8), flag(cmd, 0x10), flag(cmd, 0x20), flag(cmd, 0x40), flag(cmd, 0x80), flag(cmd, 0x100),
                flag(cmd, 0x200), flag(cmd, 0x400)));
        long devsel = st & 0x600;
        sb.append(String.format(Locale.ROOT, "\tStatus: Cap%c 66MHz%c UDF%c FastB2B%c ParErr%c DEVSEL=%s >TAbort%c "
                + "<TAbort%c <MAbort%c >SERR%c <PERR%c INTx%c\n", flag(st, 0x10), flag(st, 0x20), flag(st, 0x40),
                flag(st, 0x80), flag(st, 0x100), devsel == 0x400 ? "slow" : devsel == 0x200 ? "medium"
                        : devsel == 0 ? "fast" : "??", flag(st, 0x800), flag(st, 0x1000), flag(st, 0x2000),
                flag(st, 0x4000), flag(st, 0x8000), flag(st, 0x08)));
    }

    private static final String[] L0S = {"<64ns", "<128ns", "<256ns", "<512ns", "<1us", "<2us", "<4us", "unlimited"};
    private static final String[] L1 = {"<1us", "<2us", "<4us", "<8us", "<16us", "<32us", "<64us", "unlimited"};

    /** show_power_limit (ls-caps.c). */
    static String powerLimit(int value, int scale) {
        if (scale == 0 && value == 0xff) {
            return ">600W";
        }
        int v = scale == 0 && value >= 0xf0 && value <= 0xfe ? 250 + 25 * (value - 0xf0) : value;
        double w = v * new double[] {1.0, 0.1, 0.01, 0.001}[scale];
        // printf("%gW"): six significant digits, no trailing zeros
        String g = new java.math.BigDecimal(w).round(new java.math.MathContext(6)).stripTrailingZeros()
                .toPlainString();
        return g + "W";
    }

    /** cap_express_dev (ls-caps.c): DevCap, DevCtl and DevSta, when the description has the registers. */
    static void deviceLines(StringBuilder sb, PciDevice d) {
        long t = d.register("devcap");
        long w = d.register("devctl");
        long ws = d.register("devsta");
        if (t < 0 || w < 0 || ws < 0) {
            return;
        }
        PciePortType type = d.portType();
        boolean ep = type == PciePortType.ENDPOINT || type == PciePortType.LEGACY_ENDPOINT;
        sb.append("\t\tDevCap:\tMaxPayload ").append(128 << (t & 0x7)).append(" bytes, PhantFunc ")
                .append((1 << ((t & 0x18) >> 3)) - 1);
        if (ep) {
            sb.append(", Latency L0s ").append(L0S[(int) ((t & 0x1c0) >> 6)]).append(", L1 ")
                    .append(L1[(int) ((t & 0xe00) >> 9)]);
        }
        sb.append("\n\t\t\tExtTag").append(flag(t, 0x20));
        if (ep || type == PciePortType.UPSTREAM_PORT || type == PciePortType.PCIE_TO_PCI_BRIDGE) {
            sb.append(" AttnBtn").append(flag(t, 0x1000)).append(" AttnInd").append(flag(t, 0x2000)).append(" PwrInd")
                    .append(flag(t, 0x4000));
        }
        sb.append(" RBE").append(flag(t, 0x8000));
        boolean flrType = ep || type == PciePortType.RC_INTEGRATED_ENDPOINT;
        if (flrType) {
            sb.append(" FLReset").append(flag(t, 0x10000000));
        }
        if (type == PciePortType.ENDPOINT || type == PciePortType.UPSTREAM_PORT
                || type == PciePortType.PCIE_TO_PCI_BRIDGE) {
            sb.append(" SlotPowerLimit ").append(powerLimit((int) ((t & 0x3fc0000) >> 18), (int) ((t & 0xc000000) >> 26)));
        }
        sb.append(" TEE-IO").append(flag(t, 0x40000000)).append('\n');
        sb.append(String.format(Locale.ROOT, "\t\tDevCtl:\tCorrErr%c NonFatalErr%c FatalErr%c UnsupReq%c\n",
                flag(w, 0x1), flag(w, 0x2), flag(w, 0x4), flag(w, 0x8)));
        sb.append(String.format(Locale.ROOT, "\t\t\tRlxdOrd%c ExtTag%c PhantFunc%c AuxPwr%c NoSnoop%c", flag(w, 0x10),
                flag(w, 0x100), flag(w, 0x200), flag(w, 0x400), flag(w, 0x800)));
        if (type == PciePortType.PCIE_TO_PCI_BRIDGE) {
            sb.append(" BrConfRtry").append(flag(w, 0x8000));
        }
        if (flrType && (t & 0x10000000) != 0) {
            sb.append(" FLReset").append(flag(w, 0x8000));
        }
        sb.append("\n\t\t\tMaxPayload ").append(128 << ((w & 0xe0) >> 5)).append(" bytes, MaxReadReq ")
                .append(128 << ((w & 0x7000) >> 12)).append(" bytes\n");
        sb.append(String.format(Locale.ROOT, "\t\tDevSta:\tCorrErr%c NonFatalErr%c FatalErr%c UnsupReq%c AuxPwr%c "
                + "TransPend%c\n", flag(ws, 0x1), flag(ws, 0x2), flag(ws, 0x4), flag(ws, 0x8), flag(ws, 0x10),
                flag(ws, 0x20)));
    }

    private static final String[] SPEEDS = {"unknown", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s",
        "unknown", "128GT/s"};

    private static String speed(long code) {
        return code < SPEEDS.length ? SPEEDS[(int) code] : "unknown";
    }

    /**
     * linkRegisters - cap_express_link's LnkCap and LnkSta lines and their flags, from the registers (LnkCtl,
     * which lspci prints between them, is not kept).
     */
    static void linkRegisters(StringBuilder sb, PciePortType type, long t, long w) {
        long aspm = (t & 0xc00) >> 10;
        long capSpeed = t & 0xf;
        long capWidth = (t & 0x3f0) >> 4;
        sb.append("\t\tLnkCap:\tPort #").append(t >> 24).append(", Speed ").append(speed(capSpeed)).append(", Width x")
                .append(capWidth).append(", ASPM ")
                .append(new String[] {"not supported", "L0s", "L1", "L0s L1"}[(int) aspm]);
        if (aspm != 0) {
            sb.append(", Exit Latency ");
            if ((aspm & 1) != 0) {
                sb.append("L0s ").append(L0S[(int) ((t & 0x7000) >> 12)]);
            }
            if ((aspm & 2) != 0) {
                sb.append((aspm & 1) != 0 ? ", " : "").append("L1 ").append(L1[(int) ((t & 0x38000) >> 15)]);
            }
        }
        sb.append('\n').append(String.format(Locale.ROOT, "\t\t\tClockPM%c Surprise%c LLActRep%c BwNot%c "
                + "ASPMOptComp%c\n", flag(t, 0x40000), flag(t, 0x80000), flag(t, 0x100000), flag(t, 0x200000),
                flag(t, 0x400000)));
        long staSpeed = w & 0xf;
        long staWidth = (w & 0x3f0) >> 4;
        sb.append("\t\tLnkSta:\tSpeed ").append(speed(staSpeed)).append(linkCompare(type, staSpeed, capSpeed))
                .append(", Width x").append(staWidth).append(linkCompare(type, staWidth, capWidth)).append('\n');
        sb.append(String.format(Locale.ROOT, "\t\t\tTrErr%c Train%c SlotClk%c DLActive%c BWMgmt%c ABWMgmt%c\n",
                flag(w, 0x400), flag(w, 0x800), flag(w, 0x1000), flag(w, 0x2000), flag(w, 0x4000), flag(w, 0x8000)));
    }

    /** link_compare (ls-caps.c). */
    static String linkCompare(PciePortType type, double sta, double cap) {
        if (sta > cap) {
            return " (overdriven)";
        }
        if (sta == cap || type == PciePortType.ROOT_PORT || type == PciePortType.DOWNSTREAM_PORT
                || type == PciePortType.PCI_TO_PCIE_BRIDGE) {
            return "";
        }
        return " (downgraded)";
    }

    /** The number of a speed as lspci prints it ("2.5GT/s" is 2.5), 0 when it is not one. */
    private static double gts(String speed) {
        int i = speed.indexOf("GT/s");
        try {
            return i > 0 ? Double.parseDouble(speed.substring(0, i)) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void acsLines(StringBuilder sb, PciDevice d, int verbose) {
        if (verbose > 1 && d.hasAcs()) {
            sb.append("\t\tACSCap:\t").append(Acs.lspci(d.acsCap())).append('\n');
            sb.append("\t\tACSCtl:\t").append(Acs.lspci(d.acsCtrl())).append('\n');
        }
    }

    /** The model's own remarks on a device: what the dump did not say. */
    private static void annotations(StringBuilder sb, PciDevice d, int verbose) {
        if (d.bus().isElided()) {
            sb.append(String.format(Locale.ROOT, "\t# bus %02x: the bridge leading to it is not in the dump\n",
                    d.bus().number()));
        }
        d.physfn().ifPresent(pf -> sb.append("\t# SR-IOV virtual function of ").append(pf.bdf()).append('\n'));
        if (d.capabilities().isEmpty() && d.portType() != PciePortType.UNKNOWN
                && d.portType() != PciePortType.CONVENTIONAL) {
            sb.append("\t# PCIe port type (from the dump; capability list not shown): ")
                    .append(d.portType().lspciName()).append('\n');
            if (verbose > 1) {
                StringBuilder link = new StringBuilder();
                linkLines(link, d);
                link.toString().lines().forEach(l -> sb.append("\t# ").append(l.strip()).append('\n'));
            }
        }
        if (d.acsUnknown()) {
            sb.append(d.hasAcs() ? "\t# ACS unknown: the dump shows the ACS capability but not its control bits\n"
                    : "\t# ACS unknown: the dump did not show this device's extended capabilities\n");
        }
        for (String n : d.notes()) {
            sb.append("\t# ").append(n).append('\n');
        }
    }

    private static long addr(Bar b, boolean bus) {
        return bus ? b.busStart() : b.start();
    }

    /** barText - one BAR as show_bases prints it after the tab / "Region N: ". */
    static String barText(Bar b, boolean bus) {
        boolean unset = b.unassigned() && b.start() == 0;
        StringBuilder s = new StringBuilder();
        if (b.io()) {
            s.append("I/O ports at ").append(unset ? "<unassigned>" : hex(addr(b, bus), 4));
        } else {
            s.append("Memory at ").append(unset ? "<unassigned>" : hex(addr(b, bus), 8))
                    .append(b.mem64() ? " (64-bit, " : " (32-bit, ").append(b.prefetchable() ? "" : "non-")
                    .append("prefetchable)");
        }
        if (b.unassigned() && !unset) {
            s.append(" [disabled]");
        }
        return s.append(size(b.size())).toString();
    }

    private static String hex(long v, int digits) {
        String h = Long.toHexString(v);
        return h.length() >= digits ? h : "0".repeat(digits - h.length()) + h;
    }

    /** show_size: " [size=64G]", exact multiples of 1024 only, up to T. */
    static String size(long x) {
        if (x == 0) {
            return "";
        }
        String[] suffix = {"", "K", "M", "G", "T"};
        int i = 0;
        for (; i < suffix.length - 1; i++) {
            if (x % 1024 != 0) {
                break;
            }
            x /= 1024;
        }
        return " [size=" + Long.toUnsignedString(x) + suffix[i] + "]";
    }
}
