package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * The host-bridge side of a verdict: the CPU rule and each host bridge's whitelist look-up.
 *
 * @param same whether provider and client are below the same host bridge
 * @param cpuRule whether cpu_supports_p2pdma() said yes (x86 AMD family &gt;= 0x17)
 * @param cpu what the CPU rule saw
 * @param passed whether the check let the pair through
 * @param bridges one row per host bridge looked up
 */
public record HostBridges(boolean same, boolean cpuRule, String cpu, boolean passed, List<Row> bridges) {
    /**
     * @param hostBridge pci0000:00
     * @param firstDevice the device the whitelist looked at ("0000:00:00.0 [8086:2020]"), or why none
     * @param whitelisted whether the look-up accepted it
     * @param why the row that matched, or why it failed
     */
    public record Row(String hostBridge, String firstDevice, boolean whitelisted, String why) {
    }
}
