package org.peerdma.p2pdma;

import java.util.List;

/**
 * The host-bridge side of a verdict: the CPU rule and the whitelist look-up of each host bridge.
 *
 * @param cpuSupports cpu_supports_p2pdma(): x86 AMD family &gt;= 0x17
 * @param cpu what the CPU rule saw ("AuthenticAMD family 0x19")
 * @param sameHostBridge whether provider and client are below the same host bridge
 * @param bridges one entry per host bridge checked
 * @param passed whether the check let the pair through
 */
public record HostBridgeCheck(boolean cpuSupports, String cpu, boolean sameHostBridge, List<Entry> bridges,
        boolean passed) {
    /**
     * @param hostBridge the host bridge name (pci0000:00)
     * @param device the device the whitelist looked at ("0000:00:00.0 [8086:4c43]"), or why none
     * @param whitelisted whether the look-up accepted it
     * @param why the row that matched, or why it failed ("not in the whitelist", "REQ_SAME_HOST_BRIDGE")
     */
    public record Entry(String hostBridge, String device, boolean whitelisted, String why) {
    }
}
