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
 * @param p2p the direction the text's cells show, as {@code nvidia-smi topo -p2p r|w}: "read", "write", or null
 *        for the kernel's verdict (since schema 1.4)
 * @param affinity per device, in the order of {@code devices}: its host bridge and NUMA node, the
 *        {@code nvidia-smi topo -m} "NUMA Affinity" column (since schema 1.4)
 */
public record MatrixReport(String schemaVersion, String kind, MachineInfo machine, RuleSet ruleSet,
        List<DeviceInfo> devices, List<String> classes, List<Pair> pairs, String p2p, List<Affinity> affinity) {
    /** The 1.3 form. */
    public MatrixReport(String schemaVersion, String kind, MachineInfo machine, RuleSet ruleSet,
            List<DeviceInfo> devices, List<String> classes, List<Pair> pairs) {
        this(schemaVersion, kind, machine, ruleSet, devices, classes, pairs, null, List.of());
    }

    /**
     * What {@code matrix} adds to the kernel's verdicts.
     *
     * @param directions also the hardware's write and read per pair (costs a full check per pair)
     * @param p2p the direction the text's cells show: "read", "write", or null for the verdict
     * @param affinity also the NUMA node and host bridge of each device (a column of the text)
     */
    public record Options(boolean directions, String p2p, boolean affinity) {
        /** The plain matrix. */
        public static final Options NONE = new Options(false, null, false);
    }

    /**
     * @param bdf the device
     * @param hostBridge the host bridge it is below (pci0000:00)
     * @param numaNode its NUMA node, null when the description does not say
     * @param cpuAffinity the CPUs nvidia-smi topo -m gave for it ("0-31"), null when the description has no such
     *        column for the device
     */
    public record Affinity(String bdf, String hostBridge, Integer numaNode, String cpuAffinity) {
    }

    /**
     * @param provider provider BDF
     * @param client client BDF
     * @param supported whether P2P DMA works
     * @param mapType BUS_ADDR, THRU_HOST_BRIDGE or NOT_SUPPORTED
     * @param distance the distance (-1/-2 when refused)
     * @param nvidiaSmiClass the nvidia-smi path class
     * @param write whether the hardware on the path forwards the client's writes into the provider's memory
     *        (yes, no, unknown; see {@link Directions}), null unless asked for (since schema 1.4)
     * @param read the same for reads (since schema 1.4)
     */
    public record Pair(String provider, String client, boolean supported, String mapType, int distance,
            String nvidiaSmiClass, String write, String read) {
        /** The 1.3 form, without directions. */
        public Pair(String provider, String client, boolean supported, String mapType, int distance,
                String nvidiaSmiClass) {
            this(provider, client, supported, mapType, distance, nvidiaSmiClass, null, null);
        }
    }
}
