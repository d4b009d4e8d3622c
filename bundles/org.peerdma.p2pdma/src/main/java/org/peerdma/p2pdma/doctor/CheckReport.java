package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * One provider/client pair explained ({@code peerdma check}).
 *
 * @param schemaVersion {@link P2pDoctor#SCHEMA_VERSION}
 * @param kind "check"
 * @param machine the machine
 * @param ruleSet the rule set
 * @param provider the device whose memory is shared
 * @param client the device that does the DMA
 * @param verdict the decision
 * @param nvidiaSmiClass nvidia-smi topo -m's path class (PIX, PXB, PHB, NODE, SYS; "NODE?" when NUMA is unknown)
 * @param path the devices walked, provider side first
 * @param remediation how to clear the ACS redirects on the path, or null when none redirect
 * @param hostBridges the host-bridge check, or null when none was made
 * @param assumptions where the verdict rests on an assumption about a missing fact
 * @param alternatives the verdict under each missing fact that could change it
 * @param otherKernels the other rule sets' answers
 * @param directions what the hardware on the path forwards, writes and reads apart (since schema 1.2)
 * @param links the path's PCIe links, their bandwidth and the bottleneck (since schema 1.2)
 * @param driver the NVIDIA driver's class for the pair beside the model's, when the description has
 *        nvidia-smi topo -m and both devices are in it, else null (since schema 1.3)
 * @param plan every change that would make the pair go peer to peer, smallest first; empty when it already
 *        does (BUS_ADDR) (since schema 1.4)
 */
public record CheckReport(String schemaVersion, String kind, MachineInfo machine, RuleSet ruleSet, DeviceInfo provider,
        DeviceInfo client, Verdict verdict, String nvidiaSmiClass, List<Hop> path, Remediation remediation,
        HostBridges hostBridges, List<String> assumptions, List<Alternative> alternatives,
        List<KernelAnswer> otherKernels, Directions directions, Links links, DriverView driver, List<PlanStep> plan) {
    /** The 1.3 form, without the plan. */
    public CheckReport(String schemaVersion, String kind, MachineInfo machine, RuleSet ruleSet, DeviceInfo provider,
            DeviceInfo client, Verdict verdict, String nvidiaSmiClass, List<Hop> path, Remediation remediation,
            HostBridges hostBridges, List<String> assumptions, List<Alternative> alternatives,
            List<KernelAnswer> otherKernels, Directions directions, Links links, DriverView driver) {
        this(schemaVersion, kind, machine, ruleSet, provider, client, verdict, nvidiaSmiClass, path, remediation,
                hostBridges, assumptions, alternatives, otherKernels, directions, links, driver, List.of());
    }

    /** The 1.2 form, without the driver's view. */
    public CheckReport(String schemaVersion, String kind, MachineInfo machine, RuleSet ruleSet, DeviceInfo provider,
            DeviceInfo client, Verdict verdict, String nvidiaSmiClass, List<Hop> path, Remediation remediation,
            HostBridges hostBridges, List<String> assumptions, List<Alternative> alternatives,
            List<KernelAnswer> otherKernels, Directions directions, Links links) {
        this(schemaVersion, kind, machine, ruleSet, provider, client, verdict, nvidiaSmiClass, path, remediation,
                hostBridges, assumptions, alternatives, otherKernels, directions, links, null);
    }

    /** The 1.1 form, without directions and links. */
    public CheckReport(String schemaVersion, String kind, MachineInfo machine, RuleSet ruleSet, DeviceInfo provider,
            DeviceInfo client, Verdict verdict, String nvidiaSmiClass, List<Hop> path, Remediation remediation,
            HostBridges hostBridges, List<String> assumptions, List<Alternative> alternatives,
            List<KernelAnswer> otherKernels) {
        this(schemaVersion, kind, machine, ruleSet, provider, client, verdict, nvidiaSmiClass, path, remediation,
                hostBridges, assumptions, alternatives, otherKernels, null, null, null);
    }
}
