package org.peerdma.draw.internal;

import java.awt.Color;
import java.util.List;
import java.util.Map;

/** The colours of the pictures, one meaning each, and the legend that explains them. */
final class Palette {
    static final Color INK = new Color(33, 33, 33);
    static final Color MUTED = new Color(97, 97, 97);
    static final Color EDGE = new Color(158, 158, 158);
    static final Color BORDER = new Color(117, 117, 117);
    /** A port whose ACS control redirects peer-to-peer requests (RR, CR or EC set). */
    static final Color REDIRECT = new Color(211, 47, 47);
    /** The pair's path. */
    static final Color PATH = new Color(21, 101, 192);
    static final Color HOST_BRIDGE = new Color(255, 249, 196);
    static final Color PORT = new Color(238, 238, 238);

    static final Map<String, Color> KIND = Map.of(
            "gpu", new Color(200, 230, 201),
            "nic", new Color(187, 222, 251),
            "nvme", new Color(255, 224, 178),
            "storage", new Color(255, 236, 179),
            "accelerator", new Color(225, 190, 231),
            "bridge", PORT,
            "other", new Color(250, 250, 250),
            "unknown", new Color(250, 250, 250));

    /** The kinds in the legend's order. */
    static final List<String> LEGEND_KINDS = List.of("gpu", "nic", "nvme", "storage", "accelerator", "other");

    /** Heatmap cells by the kernel's map type. */
    static final Color BUS_ADDR = new Color(102, 187, 106);
    static final Color THRU_HOST_BRIDGE = new Color(255, 202, 40);
    static final Color NOT_SUPPORTED = new Color(239, 83, 80);
    static final Color SELF = new Color(224, 224, 224);

    private Palette() {
    }

    static Color kind(String k) {
        return KIND.getOrDefault(k, KIND.get("unknown"));
    }

    static Color mapType(String mapType) {
        return switch (mapType) {
            case "BUS_ADDR" -> BUS_ADDR;
            case "THRU_HOST_BRIDGE" -> THRU_HOST_BRIDGE;
            default -> NOT_SUPPORTED;
        };
    }

    /** An SVG/CSS colour as JFreeSVG writes it: rgb(r,g,b). */
    static String css(Color c) {
        return "rgb(" + c.getRed() + "," + c.getGreen() + "," + c.getBlue() + ")";
    }
}
