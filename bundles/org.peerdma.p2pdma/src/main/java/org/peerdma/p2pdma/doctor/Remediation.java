package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * The smallest change that clears every ACS redirect on the path.
 *
 * @param bootOption the kernel command-line option, exactly as pci_disable_acs_redir() parses it
 *        ("pci=disable_acs_redir=0000:02:08.0;0000:0b:00.0")
 * @param modelCommand the same applied to this model, quoted so it pastes into the shell
 *        ({@code modprobe pci "pci=disable_acs_redir=..."} after {@code rmmod -f pci})
 * @param ports per redirecting port, the bits to clear and a runtime setpci (lost at reboot)
 * @param configAcs the kernel 6.11+ form, {@code pci=config_acs=BITS@BDF;...}: every ACS bit of each port
 *        given, the redirect bits 0 and the others as the port has them now (source validation, upstream
 *        forwarding and translation blocking stay, so IOMMU isolation is unchanged; the form without them,
 *        {@code x0x00xx}, would take those bits from firmware) (since schema 1.2)
 */
public record Remediation(String bootOption, String modelCommand, List<PortFix> ports, String configAcs) {
    /** The 1.1 form, without configAcs. */
    public Remediation(String bootOption, String modelCommand, List<PortFix> ports) {
        this(bootOption, modelCommand, ports, null);
    }

    /**
     * @param bdf the port
     * @param clearBits the redirect bits it has set (RR, CR, EC)
     * @param setpci {@code setpci -s BDF ECAP_ACS+6.w=0000:MASK} clearing exactly those bits
     */
    public record PortFix(String bdf, List<String> clearBits, String setpci) {
    }
}
