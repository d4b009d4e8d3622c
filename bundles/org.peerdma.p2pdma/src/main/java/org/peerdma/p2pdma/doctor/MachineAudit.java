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
 */
public record MachineAudit(MachineInfo machine, RuleSet ruleSet, Map<String, Integer> kinds,
        Map<String, Integer> pairs, List<String> redirecting, String fix, Map<String, Integer> causes,
        List<AuditPair> devicePairs) {
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
     */
    public record AuditPair(String provider, String providerKind, String client, String clientKind, String mapType,
            int distance, String nvidiaSmiClass, String ruleId, String redirecting, boolean sameSwitch) {
    }
}
