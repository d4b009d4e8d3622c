package org.peerdma.draw.internal;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

import org.jfree.svg.SVGHints;

/**
 * What a picture holds, already placed: boxes with lines of text, polylines and free text, painted in that
 * order (lines first, so boxes sit on top of their edges) on any Graphics2D: JFreeSVG's for SVG, a
 * BufferedImage's for PNG. Each box is an SVG group with an id ({@code dev-0000-03-00.0}) and a class.
 */
final class Scene {
    static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font BOLD = FONT.deriveFont(Font.BOLD);
    static final Font SMALL = FONT.deriveFont(11f);
    static final Font TITLE = FONT.deriveFont(Font.BOLD, 15f);
    static final int PAD = 6;
    static final int LINE = 15;

    /** A box: the first line bold. */
    record Box(String id, String cssClass, double x, double y, double w, double h, Color fill, Color stroke,
            float strokeWidth, boolean dashed, List<String> lines, Color text) {
    }

    /** A polyline. */
    record Line(String id, List<double[]> points, Color color, float width, boolean dashed) {
    }

    /** Free text at a baseline. */
    record Text(String id, double x, double y, String text, Color color, Font font) {
    }

    final List<Box> boxes = new ArrayList<>();
    final List<Line> lines = new ArrayList<>();
    final List<Text> texts = new ArrayList<>();
    double width;
    double height;

    /** A measuring context: text widths for layout, the same fonts the painting uses. */
    private static final Graphics2D MEASURE = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB).createGraphics();

    static synchronized double textWidth(String s, Font f) {
        FontMetrics fm = MEASURE.getFontMetrics(f);
        return fm.stringWidth(s);
    }

    /** The size a box needs for these lines. */
    static double[] boxSize(List<String> lines) {
        double w = 0;
        for (int i = 0; i < lines.size(); i++) {
            w = Math.max(w, textWidth(lines.get(i), i == 0 ? BOLD : FONT));
        }
        return new double[] {Math.ceil(w) + 2 * PAD, lines.size() * LINE + PAD + 2};
    }

    /** An SVG id from a device or host-bridge name: XML ids may not hold ':'. */
    static String id(String prefix, String name) {
        return prefix + "-" + name.replace(':', '-');
    }

    void paint(Graphics2D g, boolean svg) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(Color.WHITE);
        g.fill(new Rectangle2D.Double(0, 0, width, height));
        for (Line l : lines) {
            begin(g, svg, l.id(), "edge");
            Path2D.Double p = new Path2D.Double();
            p.moveTo(l.points().get(0)[0], l.points().get(0)[1]);
            for (int i = 1; i < l.points().size(); i++) {
                p.lineTo(l.points().get(i)[0], l.points().get(i)[1]);
            }
            g.setColor(l.color());
            g.setStroke(stroke(l.width(), l.dashed()));
            g.draw(p);
            end(g, svg);
        }
        for (Box b : boxes) {
            begin(g, svg, b.id(), b.cssClass());
            java.awt.geom.RoundRectangle2D.Double r = new java.awt.geom.RoundRectangle2D.Double(b.x(), b.y(), b.w(),
                    b.h(), 8, 8);
            g.setColor(b.fill());
            g.fill(r);
            g.setColor(b.stroke());
            g.setStroke(stroke(b.strokeWidth(), b.dashed()));
            g.draw(r);
            g.setColor(b.text());
            for (int i = 0; i < b.lines().size(); i++) {
                g.setFont(i == 0 ? BOLD : FONT);
                g.drawString(b.lines().get(i), (float) (b.x() + PAD), (float) (b.y() + PAD + LINE * (i + 1) - 3));
            }
            end(g, svg);
        }
        for (Text t : texts) {
            if (t.id() != null) {
                begin(g, svg, t.id(), "text");
            }
            g.setColor(t.color());
            g.setFont(t.font());
            g.drawString(t.text(), (float) t.x(), (float) t.y());
            if (t.id() != null) {
                end(g, svg);
            }
        }
    }

    private static BasicStroke stroke(float w, boolean dashed) {
        return dashed ? new BasicStroke(w, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {5f, 4f}, 0f)
                : new BasicStroke(w, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }

    private static void begin(Graphics2D g, boolean svg, String id, String cssClass) {
        if (svg) {
            g.setRenderingHint(SVGHints.KEY_BEGIN_GROUP, java.util.Map.of("id", id, "class", cssClass));
        }
    }

    private static void end(Graphics2D g, boolean svg) {
        if (svg) {
            g.setRenderingHint(SVGHints.KEY_END_GROUP, "true");
        }
    }
}
