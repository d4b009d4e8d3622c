package org.peerdma.p2pdma;

import java.util.List;

import org.peerdma.pci.PciDevice;

/**
 * What calc_map_type_and_dist() decided for one provider/client pair, and why.
 *
 * @param provider the provider
 * @param client the client
 * @param version the rule set used
 * @param mapType the map type (NOT_SUPPORTED for any negative v4.20/v5.2 result)
 * @param distance the distance the kernel reports: the hop count for supported pairs; -1 or -2
 *        for v4.20/v5.2 rejections; for newest/v5.x NOT_SUPPORTED pairs, the kernel's
 *        pci_p2pdma_distance returns -1 while the internal hop count is in {@link #hops}
 * @param hops dist_a + dist_b as calc_map_type_and_dist computed it
 * @param commonUpstream the common upstream device, or null when there is none
 * @param path the devices walked, provider side first, then the client side
 * @param acsList the kernel's list of redirecting devices ("0000:0d:01.0;0000:0b:00.0"), in its order
 * @param hostBridgeCheck the host bridge / CPU check when one was made, else null
 * @param rule the rule that decided, in one sentence
 * @param warnings what the kernel would print with verbose, in order
 * @param assumptions where the dump was incomplete and the verdict rests on an assumption
 */
public record P2pVerdict(PciDevice provider, PciDevice client, KernelVersion version, MapType mapType, int distance,
        int hops, PciDevice commonUpstream, List<PathNode> path, String acsList, HostBridgeCheck hostBridgeCheck,
        String rule, List<String> warnings, List<String> assumptions) {

    /** @return whether P2P DMA is possible (BUS_ADDR or THRU_HOST_BRIDGE). */
    public boolean supported() {
        return mapType == MapType.BUS_ADDR || mapType == MapType.THRU_HOST_BRIDGE;
    }

    /** @return the pci=disable_acs_redir= value that would clear every redirect on this path, or "". */
    public String disableAcsRedirParam() {
        return acsList.isEmpty() ? "" : "pci=disable_acs_redir=" + acsList;
    }
}
