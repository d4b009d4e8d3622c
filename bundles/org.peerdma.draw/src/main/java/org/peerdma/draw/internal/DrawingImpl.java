package org.peerdma.draw.internal;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import javax.imageio.ImageIO;

import org.jfree.svg.SVGGraphics2D;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.draw.PciDrawing;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.util.Texts;

/** The pictures: a scene built from the doctor's answers, written through JFreeSVG or into a PNG. */
@Component(service = PciDrawing.class)
public final class DrawingImpl implements PciDrawing {
    /** The most pixels a PNG may have (a 2-core machine's heap holds it, an image viewer opens it). */
    static final long MAX_PNG_PIXELS = 60_000_000L;

    private final P2pDoctor doctor;

    @Activate
    public DrawingImpl(@Reference P2pDoctor doctor) {
        this.doctor = doctor;
        // Java2D without a display: the pictures are written to files, never shown
        System.setProperty("java.awt.headless", "true");
    }

    @Override
    public Picture tree(PciMachine machine, PciDevice provider, PciDevice client, boolean all, RuleSet rules,
            String format) {
        String f = format(format);
        if ((provider == null) != (client == null)) {
            throw KernelException.einval("a pair is a provider and a client; %s given alone",
                    provider != null ? provider.name() : client.name());
        }
        if (provider != null && provider == client) {
            throw KernelException.einval("provider and client are both %s", provider.name());
        }
        TreePicture t = new TreePicture(machine, doctor, rules);
        Scene s = t.build(provider, client, all);
        return write(s, f, t.caption, t.drawn, t.notes);
    }

    @Override
    public Picture matrix(PciMachine machine, List<PciDevice> devices, RuleSet rules, String format) {
        String f = format(format);
        if (devices == null || devices.size() < 2) {
            throw KernelException.einval("the matrix needs at least two devices; %d given",
                    devices == null ? 0 : devices.size());
        }
        if (devices.size() > MAX_MATRIX) {
            throw new KernelException(Errno.E2BIG, String.format(Locale.ROOT, "%d devices: a heatmap draws at most %d "
                    + "(choose them by kind or address)", devices.size(), MAX_MATRIX));
        }
        if (devices.stream().distinct().count() != devices.size()) {
            throw KernelException.einval("a device is named twice in the matrix");
        }
        MatrixPicture p = new MatrixPicture();
        Scene s = p.build(machine, doctor, devices, rules);
        return write(s, f, p.caption, devices.size(), List.of());
    }

    static final List<String> KINDS = List.of("gpu", "nic", "nvme", "storage", "accelerator", "bridge", "other",
            "unknown");

    @Override
    public Picture draw(PciMachine m, List<String> bdfs, boolean matrix, boolean all, String kinds, RuleSet rules,
            String format) {
        List<PciDevice> devs = new ArrayList<>();
        for (String b : bdfs) {
            Bdf a = Bdf.parse(b);
            devs.add(m.device(a).orElseThrow(() -> KernelException.enodev("no PCI device %s in machine '%s'", a,
                    m.name())));
        }
        boolean byKind = kinds != null && !kinds.isBlank();
        if (!matrix) {
            if (byKind) {
                throw KernelException.einval("the kinds choose the devices of the matrix; the tree shows them all");
            }
            if (devs.size() != 0 && devs.size() != 2) {
                throw KernelException.einval("the tree takes a pair, PROVIDER CLIENT, or nothing; %d devices given",
                        devs.size());
            }
            return tree(m, devs.isEmpty() ? null : devs.get(0), devs.isEmpty() ? null : devs.get(1), all, rules,
                    format);
        }
        if (devs.isEmpty()) {
            devs.addAll(doctor.endpoints(m));
        }
        if (byKind) {
            Set<String> want = new LinkedHashSet<>();
            for (String k : kinds.split(",")) {
                String t = k.strip().toLowerCase(Locale.ROOT);
                if (!KINDS.contains(t)) {
                    throw KernelException.einval("unknown device kind '%s' (%s)", Texts.clip(k), String.join(", ",
                            KINDS));
                }
                want.add(t);
            }
            devs.removeIf(d -> !want.contains(doctor.kindOf(d)));
        }
        return matrix(m, devs, rules, format);
    }

    private static String format(String format) {
        String f = format == null ? "" : format.strip().toLowerCase(Locale.ROOT);
        if (!FORMATS.contains(f)) {
            throw KernelException.einval("picture format '%s': svg or png", Texts.clip(String.valueOf(format)));
        }
        return f;
    }

    private static Picture write(Scene s, String format, String caption, int drawn, List<String> notes) {
        int w = (int) Math.ceil(s.width);
        int h = (int) Math.ceil(s.height);
        byte[] bytes;
        if (format.equals("svg")) {
            SVGGraphics2D g = new SVGGraphics2D(w, h);
            s.paint(g, true);
            bytes = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + g.getSVGElement() + "\n")
                    .getBytes(StandardCharsets.UTF_8);
        } else {
            if ((long) w * h > MAX_PNG_PIXELS) {
                throw new KernelException(Errno.E2BIG, String.format(Locale.ROOT, "the picture is %d x %d pixels, too "
                        + "large for a PNG (at most %,d pixels): write an SVG, or draw fewer devices", w, h,
                        MAX_PNG_PIXELS));
            }
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            try {
                s.paint(g, false);
            } finally {
                g.dispose();
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                ImageIO.write(img, "png", out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            bytes = out.toByteArray();
        }
        return new Picture(format, bytes, w, h, caption, drawn, List.copyOf(notes));
    }
}
