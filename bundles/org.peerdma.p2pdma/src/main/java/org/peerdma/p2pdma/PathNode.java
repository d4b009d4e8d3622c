package org.peerdma.p2pdma;

import org.peerdma.pci.PciDevice;

/**
 * One device on the path a verdict walked, with what the ACS check saw there.
 *
 * @param device the device
 * @param side "provider", "client" or "common" (the common upstream device)
 * @param hasAcs whether it has an ACS capability
 * @param acsCap ACS capability bits
 * @param acsCtrl ACS control bits
 * @param redirects whether p2pdma counts it as redirecting (ACS cap and RR|CR|EC set)
 * @param acsUnknown whether the dump did not show its ACS state
 */
public record PathNode(PciDevice device, String side, boolean hasAcs, int acsCap, int acsCtrl, boolean redirects,
        boolean acsUnknown) {
}
