package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * What calc_map_type_and_dist() decided.
 *
 * @param answer "supported", "not-supported" or "depends" (the answer changes with a fact the
 *        machine description lacks; see the report's alternatives)
 * @param supported whether P2P DMA is possible as described (BUS_ADDR or THRU_HOST_BRIDGE)
 * @param mapType BUS_ADDR, THRU_HOST_BRIDGE or NOT_SUPPORTED
 * @param kernelMapType the kernel's constant (PCI_P2PDMA_MAP_BUS_ADDR)
 * @param distance what pci_p2pdma_distance() returns: the hop count, or -1/-2
 * @param hops dist_a + dist_b as the walk counted them
 * @param commonUpstream the common upstream device, or null
 * @param ruleId which rule decided (docs/json.md lists them): common-upstream, acs-redirect-host-bridge,
 *        acs-redirect-refused, acs-redirect-rejected, host-bridge, host-bridge-refused,
 *        root-complex-whitelist, root-complex-refused, no-common-upstream
 * @param rule the rule in one sentence
 * @param kernelLog the lines the kernel prints (pci_warn/pci_info), in order
 * @param exitStatus the one-shot check's exit status for this verdict: 0 supported, 1 not, 2 depends
 */
public record Verdict(String answer, boolean supported, String mapType, String kernelMapType, int distance, int hops,
        String commonUpstream, String ruleId, String rule, List<String> kernelLog, int exitStatus) {
}
