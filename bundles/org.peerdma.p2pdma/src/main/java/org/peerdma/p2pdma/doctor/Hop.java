package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * One device on the walk from the provider up to the common upstream device and down to the client.
 *
 * @param bdf the device
 * @param side provider, common or client
 * @param portType the PCIe port type as lspci names it (Root Port, Downstream Port, Endpoint, ...)
 * @param acs its ACS state
 * @param redirects whether p2pdma counts it as redirecting (ACS capability with RR, CR or EC set)
 */
public record Hop(String bdf, String side, String portType, Acs acs, boolean redirects) {
    /**
     * @param present whether the device has an ACS capability
     * @param known false when the description did not show its ACS state (then present is false)
     * @param cap ACSCap as 4 hex digits ("005f")
     * @param ctrl ACSCtl as 4 hex digits
     * @param capBits the capability bits by short name (SV TB RR CR UF EC DT)
     * @param ctrlBits the control bits set
     */
    public record Acs(boolean present, boolean known, String cap, String ctrl, List<String> capBits,
            List<String> ctrlBits) {
    }
}
