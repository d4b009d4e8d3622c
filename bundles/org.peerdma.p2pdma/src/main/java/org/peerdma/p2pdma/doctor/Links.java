package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * The PCIe links a pair's traffic crosses, from the dump's LnkSta (and LnkCap when present): the path class
 * is not the speed. Bandwidth per direction after line encoding (8b/10b up to 5 GT/s, 128b/130b from 8 to
 * 32 GT/s, FLIT 242/256 at 64 GT/s), before TLP and DLLP overhead.
 *
 * @param links each link of the path, provider side first, that the dump gives a status for
 * @param bottleneck the slowest of them, or null when the dump has no link status on the path
 * @param notes links the dump lacks, links trained below their capability, a chipset uplink on the path
 */
public record Links(List<Link> links, Link bottleneck, List<String> notes) {
    /**
     * @param bdf the device below the link (its upstream link)
     * @param upstream the port above it
     * @param speed the current speed ("16GT/s")
     * @param width the current width (lanes)
     * @param gbPerSecond usable GB/s per direction (10^9 bytes)
     * @param capSpeed LnkCap's speed, or "" when not in the dump
     * @param capWidth LnkCap's width, 0 when not in the dump
     * @param downtrained whether the link runs below its capability (speed or width)
     */
    public record Link(String bdf, String upstream, String speed, int width, double gbPerSecond, String capSpeed,
            int capWidth, boolean downtrained) {
    }
}
