package org.peerdma.p2pdma.doctor;

import java.util.List;
import java.util.Map;

/**
 * One machine of a fleet audit ({@code peerdma audit}): what it has and how its pairs go.
 *
 * @param machine the machine
 * @param ruleSet the rule set
 * @param kinds number of endpoints by kind (gpu, nic, nvme, ...)
 * @param pairs number of ordered endpoint pairs by map type (BUS_ADDR, THRU_HOST_BRIDGE, NOT_SUPPORTED)
 * @param redirecting the ports with ACS redirect on some pair's path, in BDF order
 * @param fix the pci=disable_acs_redir= option that clears every one of them, or "" when none
 * @param causes number of refused or host-bridge pairs by rule id
 * @param devicePairs the pairs between GPUs, NICs and NVMe devices (the ones fleets ask about)
 * @param uncertainPairs ordered endpoint pairs whose map type depends on ACS state the description lacks
 * @param unknownKinds endpoints below a port (in a slot) whose kind neither a class code nor a name tells: they
 *        may be GPUs, NICs or drives (functions of unknown kind on a root bus are only noted)
 * @param notes what the audit had to assume: a guessed rule set, kinds read from names, unknown ACS
 */
public record MachineAudit(MachineInfo machine, RuleSet ruleSet, Map<String, Integer> kinds,
        Map<String, Integer> pairs, List<String> redirecting, String fix, Map<String, Integer> causes,
        List<AuditPair> devicePairs, int uncertainPairs, List<String> unknownKinds, List<String> notes) {
    /** An audit the description settles completely. */
    public MachineAudit(MachineInfo machine, RuleSet ruleSet, Map<String, Integer> kinds, Map<String, Integer> pairs,
            List<String> redirecting, String fix, Map<String, Integer> causes, List<AuditPair> devicePairs) {
        this(machine, ruleSet, kinds, pairs, redirecting, fix, causes, devicePairs, 0, List.of(), List.of());
    }

    /**
     * @param provider provider BDF
     * @param providerKind its kind
     * @param client client BDF
     * @param clientKind its kind
     * @param mapType the map type
     * @param distance the distance
     * @param nvidiaSmiClass the nvidia-smi class
     * @param ruleId the rule that decided
     * @param redirecting the redirecting ports on this pair's path, ';'-separated as the kernel prints them
     * @param sameSwitch whether the pair shares a PCIe switch (their common upstream device is a switch port)
     * @param ifAcsRedirect the map type if the ports on the path whose ACS state the description lacks do
     *        redirect, or null when the description settles it
     */
    public record AuditPair(String provider, String providerKind, String client, String clientKind, String mapType,
            int distance, String nvidiaSmiClass, String ruleId, String redirecting, boolean sameSwitch,
            String ifAcsRedirect) {
        /** A pair the description settles. */
        public AuditPair(String provider, String providerKind, String client, String clientKind, String mapType,
                int distance, String nvidiaSmiClass, String ruleId, String redirecting, boolean sameSwitch) {
            this(provider, providerKind, client, clientKind, mapType, distance, nvidiaSmiClass, ruleId, redirecting,
                    sameSwitch, null);
        }
    }
}
