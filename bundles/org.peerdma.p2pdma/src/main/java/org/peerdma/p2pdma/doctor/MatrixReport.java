package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * Every ordered pair of a set of devices ({@code peerdma matrix}).
 *
 * @param schemaVersion {@link P2pDoctor#SCHEMA_VERSION}
 * @param kind "matrix"
 * @param machine the machine
 * @param ruleSet the rule set
 * @param devices the rows and columns, in order
 * @param classes the nvidia-smi classes the pairs were filtered to (empty: all)
 * @param pairs every ordered pair (provider first) that passed the filter, row by row
 */
public record MatrixReport(String schemaVersion, String kind, MachineInfo machine, RuleSet ruleSet,
        List<DeviceInfo> devices, List<String> classes, List<Pair> pairs) {
    /**
     * @param provider provider BDF
     * @param client client BDF
     * @param supported whether P2P DMA works
     * @param mapType BUS_ADDR, THRU_HOST_BRIDGE or NOT_SUPPORTED
     * @param distance the distance (-1/-2 when refused)
     * @param nvidiaSmiClass the nvidia-smi path class
     */
    public record Pair(String provider, String client, boolean supported, String mapType, int distance,
            String nvidiaSmiClass) {
    }
}
