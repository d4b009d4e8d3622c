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
 * @param kernelNotes what the kernel release of the rules does with each option (config_acs= is unknown before
 *        6.11; 6.11 up to the fix 9cf8a952d57b keeps the redirect bits firmware set; 6.11 and later give a named port
 *        its firmware value, dropping the bits an IOMMU driver enabled) (since schema 1.4)
 * @param proofs each boot option applied to a copy of the machine, booted again with those rules: the verdict
 *        it gives (since schema 1.4)
 */
public record Remediation(String bootOption, String modelCommand, List<PortFix> ports, String configAcs,
        List<String> kernelNotes, List<Proof> proofs) {
    /** The 1.1 form, without configAcs. */
    public Remediation(String bootOption, String modelCommand, List<PortFix> ports) {
        this(bootOption, modelCommand, ports, null);
    }

    /** The 1.2 form, without kernel notes and proofs. */
    public Remediation(String bootOption, String modelCommand, List<PortFix> ports, String configAcs) {
        this(bootOption, modelCommand, ports, configAcs, List.of(), List.of());
    }

    /** @return this remediation with its kernel notes and proofs */
    public Remediation with(List<String> notes, List<Proof> proved) {
        return new Remediation(bootOption, modelCommand, ports, configAcs, List.copyOf(notes), List.copyOf(proved));
    }

    /**
     * @param option the boot option tried
     * @param mapType the pair's map type after booting the copy with it
     * @param ports each redirecting port's ACSCtl after that boot ("0000:02:08.0 0x0011")
     * @param groupsBefore the IOMMU groups of the machine as it is, null without the IOMMU module
     * @param groupsAfter the IOMMU groups after that boot (ports that stop redirecting no longer isolate what is
     *        below them, so groups merge), null without the IOMMU module
     * @param providerGroup the provider's group after that boot, its members (empty without the IOMMU module)
     */
    public record Proof(String option, String mapType, List<String> ports, Integer groupsBefore, Integer groupsAfter,
            List<String> providerGroup) {
        /** A proof without the IOMMU groups. */
        public Proof(String option, String mapType, List<String> ports) {
            this(option, mapType, ports, null, null, List.of());
        }
    }

    /**
     * @param bdf the port
     * @param clearBits the redirect bits it has set (RR, CR, EC)
     * @param setpci {@code setpci -s BDF ECAP_ACS+6.w=0000:MASK} clearing exactly those bits
     */
    public record PortFix(String bdf, List<String> clearBits, String setpci) {
    }
}
