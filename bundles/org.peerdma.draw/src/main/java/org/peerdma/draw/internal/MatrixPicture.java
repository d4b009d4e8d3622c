package org.peerdma.draw.internal;

import java.awt.Color;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.peerdma.p2pdma.doctor.MatrixReport;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/**
 * The verdict matrix as a heatmap: rows are providers, columns clients, as {@code matrix} prints them; a
 * cell's colour is the kernel's map type (green BUS_ADDR, amber THRU_HOST_BRIDGE, red NOT_SUPPORTED), its
 * text nvidia-smi's path class. A grid is a table, so it is placed by rows and columns, not by a layout
 * algorithm.
 */
final class MatrixPicture {
    private static final double MARGIN = 16;
    private static final double ROW = 24;

    String caption;

    Scene build(PciMachine m, P2pDoctor doctor, List<PciDevice> devices, RuleSet rules) {
        MatrixReport r = doctor.matrix(m, devices, rules, Set.of());
        Map<String, MatrixReport.Pair> byPair = new HashMap<>();
        for (MatrixReport.Pair p : r.pairs()) {
            byPair.put(p.provider() + " " + p.client(), p);
        }
        Scene s = new Scene();
        caption = m.name() + ": P2P DMA between " + devices.size() + " devices   [" + r.ruleSet().label() + "]";
        s.texts.add(new Scene.Text("title", MARGIN, MARGIN + 14, caption, Palette.INK, Scene.TITLE));
        s.texts.add(new Scene.Text(null, MARGIN, MARGIN + 34, "rows: provider, columns: client; colour: the kernel's "
                + "map type; text: nvidia-smi's path class", Palette.MUTED, Scene.SMALL));
        double label = 0;
        double cell = 52;
        for (PciDevice d : devices) {
            label = Math.max(label, Scene.textWidth(rowLabel(doctor, d), Scene.FONT));
            cell = Math.max(cell, Scene.textWidth(TreePicture.shortName(d), Scene.SMALL) + 10);
        }
        double x0 = MARGIN + label + 12;
        double y0 = MARGIN + 52;
        for (int j = 0; j < devices.size(); j++) {
            PciDevice c = devices.get(j);
            s.texts.add(new Scene.Text(null, x0 + j * cell + 5, y0 + 14, TreePicture.shortName(c), Palette.INK,
                    Scene.SMALL));
        }
        double top = y0 + ROW;
        for (int i = 0; i < devices.size(); i++) {
            PciDevice p = devices.get(i);
            double y = top + i * ROW;
            s.texts.add(new Scene.Text(null, MARGIN, y + 16, rowLabel(doctor, p), Palette.INK, Scene.FONT));
            for (int j = 0; j < devices.size(); j++) {
                PciDevice c = devices.get(j);
                String id = "cell-" + p.name().replace(':', '-') + "--" + c.name().replace(':', '-');
                if (i == j) {
                    s.boxes.add(new Scene.Box(id, "self", x0 + j * cell, y, cell - 2, ROW - 2, Palette.SELF,
                            Palette.SELF, 0.5f, false, List.of("X"), Palette.MUTED));
                    continue;
                }
                MatrixReport.Pair pair = byPair.get(p.name() + " " + c.name());
                String css = pair.mapType().toLowerCase(Locale.ROOT).replace('_', '-');
                Color fill = Palette.mapType(pair.mapType());
                s.boxes.add(new Scene.Box(id, "cell " + css, x0 + j * cell, y, cell - 2, ROW - 2, fill, fill.darker(),
                        0.5f, false, List.of(pair.nvidiaSmiClass()), Palette.INK));
            }
        }
        double y = top + devices.size() * ROW + 26;
        double x = MARGIN;
        x = swatch(s, x, y, Palette.BUS_ADDR, "BUS_ADDR (through a switch)");
        x = swatch(s, x, y, Palette.THRU_HOST_BRIDGE, "THRU_HOST_BRIDGE");
        swatch(s, x, y, Palette.NOT_SUPPORTED, "NOT_SUPPORTED");
        s.texts.add(new Scene.Text(null, MARGIN, y + 22, "PIX: one switch; PXB: several switches; PHB: a host bridge; "
                + "NODE: host bridges of one NUMA node; SYS: across the CPU interconnect; ? when NUMA is unknown",
                Palette.MUTED, Scene.SMALL));
        double width = x0 + devices.size() * cell + MARGIN;
        for (Scene.Text t : s.texts) {
            width = Math.max(width, t.x() + Scene.textWidth(t.text(), t.font()) + MARGIN);
        }
        s.width = Math.ceil(width);
        s.height = Math.ceil(y + 22 + MARGIN);
        return s;
    }

    private static String rowLabel(P2pDoctor doctor, PciDevice d) {
        return TreePicture.shortName(d) + " " + doctor.kindOf(d).toUpperCase(Locale.ROOT);
    }

    private static double swatch(Scene s, double x, double y, Color fill, String label) {
        s.boxes.add(new Scene.Box("legend-" + label.replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(Locale.ROOT), "legend",
                x, y - 11, 14, 14, fill, fill.darker(), 0.5f, false, List.of(), Palette.INK));
        s.texts.add(new Scene.Text(null, x + 19, y, label, Palette.INK, Scene.SMALL));
        return x + 19 + Scene.textWidth(label, Scene.SMALL) + 16;
    }
}
