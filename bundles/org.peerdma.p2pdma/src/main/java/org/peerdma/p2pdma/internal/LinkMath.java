package org.peerdma.p2pdma.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.PathNode;
import org.peerdma.p2pdma.doctor.Links;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciePortType;

/**
 * Links of a path and their bandwidth. Per lane and direction: GT/s times the encoding's efficiency over 8
 * (drivers/pci/pci.h PCIE_SPEED2MBS_ENC for 2.5 to 32 GT/s; FLIT mode 242/256 at 64 GT/s, which the kernel
 * counts as 1/1).
 */
final class LinkMath {
    private static final Pattern GTS = Pattern.compile("([0-9.]+)\\s*GT/s");
    private static final Pattern CHIPSET = Pattern.compile("(?i)\\b(chipset|PCH|Promontory|DMI)\\b");

    private LinkMath() {
    }

    /** @return GT/s of "16GT/s" (lspci's "2.5GT/s"), or 0 when it is not a speed. */
    static double gts(String speed) {
        Matcher m = GTS.matcher(speed == null ? "" : speed);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** @return usable GB/s per direction of a link of this speed and width. */
    static double gbPerSecond(double gts, int width) {
        double efficiency = gts <= 5.0 ? 8.0 / 10 : gts <= 32.0 ? 128.0 / 130 : 242.0 / 256;
        return gts * efficiency / 8 * width;
    }

    static Links of(P2pVerdict r) {
        List<Links.Link> links = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (PathNode n : r.path()) {
            PciDevice d = n.device();
            PciDevice up = d.upstreamBridge();
            if (CHIPSET.matcher(d.deviceName()).find() && d.isBridge()) {
                notes.add("the path passes " + d.name() + " (" + d.deviceName() + "): a chipset, whose uplink to the "
                        + "CPU (DMI or a x4 link) all its devices share");
            }
            PciePortType t = d.portType();
            if (up == null || t == PciePortType.ROOT_PORT || t == PciePortType.DOWNSTREAM_PORT) {
                continue; // a port's own status is the link below it, counted with the device there
            }
            String speed = d.linkSpeed();
            int width = d.linkWidth();
            if (gts(speed) == 0 || width == 0) { // the port above reports the same link
                speed = up.linkSpeed();
                width = up.linkWidth();
            }
            if (gts(speed) == 0 || width == 0) {
                notes.add("no link status for " + d.name() + " (below " + up.name() + ") in the dump");
                continue;
            }
            String capSpeed = d.linkCapSpeed().isEmpty() ? up.linkCapSpeed() : d.linkCapSpeed();
            int capWidth = d.linkCapWidth() == 0 ? up.linkCapWidth() : d.linkCapWidth();
            // a link trains to what both ends can do: below the lower capability of the two is downtrained
            double capGts = lower(gts(d.linkCapSpeed()), gts(up.linkCapSpeed()));
            int capW = (int) lower(d.linkCapWidth(), up.linkCapWidth());
            boolean down = capGts > 0 && gts(speed) < capGts || capW > 0 && width < capW;
            Links.Link l = new Links.Link(d.name(), up.name(), speed, width, gbPerSecond(gts(speed), width), capSpeed,
                    capWidth, down);
            links.add(l);
            if (down) {
                notes.add(String.format(Locale.ROOT, "%s runs at %s x%d below its capability %s x%d (%.1f of %.1f GB/s)",
                        d.name(), speed, width, capGts > 0 ? fmt(capGts) + "GT/s" : capSpeed,
                        capW > 0 ? capW : width, l.gbPerSecond(), gbPerSecond(capGts > 0 ? capGts : gts(speed),
                                capW > 0 ? capW : width)));
                if ((d.classCode() >> 16) == 0x03 && gts(speed) < capGts && (capW == 0 || width >= capW)) {
                    // the width is full, only the speed is low: what an idle GPU does to save power
                    notes.add(d.name() + " is a GPU: GPUs lower their link speed when idle to save power, so a dump "
                            + "taken at idle shows a low speed; read LnkSta again under load before suspecting the "
                            + "slot (nvidia-smi -q shows the current and maximum link generation)");
                }
            }
        }
        Links.Link slowest = null;
        for (Links.Link l : links) {
            if (slowest == null || l.gbPerSecond() < slowest.gbPerSecond()) {
                slowest = l;
            }
        }
        return new Links(List.copyOf(links), slowest, List.copyOf(notes));
    }

    /** The lower of two capabilities, ignoring an unknown (0) one. */
    private static double lower(double a, double b) {
        return a == 0 ? b : b == 0 ? a : Math.min(a, b);
    }

    private static String fmt(double gts) {
        return gts == Math.rint(gts) ? Integer.toString((int) gts) : Double.toString(gts);
    }
}
