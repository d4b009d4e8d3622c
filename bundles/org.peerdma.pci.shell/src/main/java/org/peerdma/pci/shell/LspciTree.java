package org.peerdma.pci.shell;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.peerdma.pci.Bar;
import org.peerdma.pci.PciBus;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciMachine;

/**
 * lspci -t, laid out as pciutils' ls-tree.c does: one line buffer that is printed and then
 * turned into the continuation prefix ('+' and '|' become '|', everything else a blank).
 * A bus whose bridge is not in the dump ({@link PciBus#isElided()}) is shown where the model
 * placed it, as an entry " … -[bb]-" of the bus above it, the way elided lspci -tv excerpts
 * write it; the model does not invent the missing bridge.
 */
final class LspciTree {
    private final PciMachine machine;
    private final PciNames names;
    private final LspciOptions opts;
    private final StringBuilder out = new StringBuilder();
    private final Map<PciBus, List<PciBus>> elidedBelow = new IdentityHashMap<>();
    private char[] line = new char[256];

    LspciTree(PciMachine machine, PciNames names, LspciOptions opts) {
        this.machine = machine;
        this.names = names;
        this.opts = opts;
        for (PciDevice d : machine.devices()) {
            for (PciBus b = d.bus(); b != null && b.parent() != null; b = b.parent()) {
                if (b.isElided()) {
                    List<PciBus> l = elidedBelow.computeIfAbsent(b.parent(), k -> new ArrayList<>());
                    if (!containsSame(l, b)) {
                        l.add(b);
                    }
                }
            }
        }
        for (List<PciBus> l : elidedBelow.values()) {
            l.sort(Comparator.comparingInt(PciBus::number));
        }
    }

    private static boolean containsSame(List<PciBus> l, PciBus b) {
        for (PciBus x : l) {
            if (x == b) {
                return true;
            }
        }
        return false;
    }

    /** render - the whole forest, or with -s/-d the subtrees of the matching bridges (show_forest). */
    String render() {
        if (!opts.filter.isSet()) {
            showRoots();
        } else {
            for (PciDevice d : machine.devices()) {
                if (isTreeBridge(d) && opts.filter.matches(d)) {
                    int p = put(0, String.format(Locale.ROOT, "%04x:%02x:", d.bdf().domain(), d.bdf().bus()));
                    showDev(d, p);
                }
            }
        }
        return out.toString();
    }

    private static boolean isTreeBridge(PciDevice d) {
        return d.isBridge() && d.secondaryBus() >= 0;
    }

    /** show_tree_bridge(&host_bridge): the root buses, plus 0000:00 which lspci always has. */
    private void showRoots() {
        List<PciBus> roots = new ArrayList<>();
        boolean haveZero = false;
        for (PciHostBridge h : machine.hostBridges()) {
            PciBus r = h.rootBus();
            if (r == null) {
                continue;
            }
            boolean zero = r.domain() == 0 && r.number() == 0;
            if (zero || !entries(r).isEmpty()) {
                roots.add(r);
                haveZero |= zero;
            }
        }
        roots.sort(Comparator.comparingInt(PciBus::domain).thenComparingInt(PciBus::number));
        int p = put(0, "-");
        if (!haveZero) {
            roots.add(0, null); // lspci's pseudo host bridge always owns bus 0000:00
        }
        if (roots.size() == 1) {
            p = put(p, busLabel(roots.get(0)) + "-");
            showBus(roots.get(0), p);
            return;
        }
        for (int i = 0; i < roots.size(); i++) {
            String lead = i < roots.size() - 1 ? "+-" : "\\-";
            int k = put(p, lead + busLabel(roots.get(i)) + "-");
            showBus(roots.get(i), k);
        }
    }

    private static String busLabel(PciBus b) {
        return b == null ? "[0000:00]" : String.format(Locale.ROOT, "[%04x:%02x]", b.domain(), b.number());
    }

    /** The things hanging off a bus: buses whose bridge is not in the dump, then devices by devfn. */
    private List<Object> entries(PciBus b) {
        List<Object> l = new ArrayList<>();
        if (b == null) {
            return l;
        }
        l.addAll(elidedBelow.getOrDefault(b, List.of()));
        l.addAll(b.devices());
        return l;
    }

    /** show_tree_bus. */
    private void showBus(PciBus b, int p) {
        List<Object> l = entries(b);
        if (l.isEmpty()) {
            printIt(p);
        } else if (l.size() == 1) {
            showEntry(l.get(0), put(p, "--"));
        } else {
            for (int i = 0; i < l.size() - 1; i++) {
                showEntry(l.get(i), put(p, "+-"));
            }
            showEntry(l.get(l.size() - 1), put(p, "\\-"));
        }
    }

    private void showEntry(Object e, int p) {
        if (e instanceof PciDevice d) {
            showDev(d, p);
        } else {
            PciBus b = (PciBus) e;
            int q = put(p, String.format(Locale.ROOT, " \u2026 -[%02x]-", b.number()));
            showBus(b, put(q, "-"));
        }
    }

    /** show_tree_dev. */
    private void showDev(PciDevice d, int p) {
        p = put(p, String.format(Locale.ROOT, "%02x.%x", d.bdf().device(), d.bdf().function()));
        if (isTreeBridge(d)) {
            int sec = d.secondaryBus();
            int sub = d.subordinateBus();
            p = put(p, sec == sub ? String.format(Locale.ROOT, "-[%02x]-", sec)
                    : String.format(Locale.ROOT, "-[%02x-%02x]-", sec, sub));
            showBus(d.subordinate().orElse(null), put(p, "-"));
            return;
        }
        int basesAt = p + 2;
        if (opts.verbose > 0) {
            p = put(p, "  " + names.vendorDevice(d));
        }
        printIt(p);
        if (opts.verbose > 1) {
            showBases(d, basesAt);
        }
    }

    /** show_bases of ls-tree.c: the BARs below a device line at -tvv. */
    private void showBases(PciDevice d, int at) {
        for (Bar b : d.bars()) {
            if (b.index() > 5) {
                continue;
            }
            StringBuilder s = new StringBuilder(opts.verbose > 2 ? "  Region " + b.index() + ": " : "  ");
            s.append(LspciFormatter.barText(b, opts.busCentric));
            printIt(put(at, s.toString()));
        }
    }

    private int put(int p, String s) {
        if (p + s.length() + 1 > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, p + s.length() + 1));
        }
        s.getChars(0, s.length(), line, p);
        return p + s.length();
    }

    /** print_it. */
    private void printIt(int p) {
        out.append(line, 0, p).append('\n');
        for (int i = 0; i < p; i++) {
            line[i] = line[i] == '+' || line[i] == '|' ? '|' : ' ';
        }
    }
}
