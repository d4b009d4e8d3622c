package org.peerdma.p2pdma.doctor;

import java.util.List;

/**
 * The NVIDIA driver's class for the pair ({@code nvidia-smi topo -m} in the machine's description) beside the
 * class the model computes, with what a disagreement means. The driver does not use p2pdma: its answer is its
 * own (since schema 1.3).
 *
 * @param tool the command ("nvidia-smi topo -m")
 * @param provider the provider's name there (GPU0)
 * @param client the client's name there (NIC1)
 * @param driverClass the driver's class: PIX, PXB, PHB, NODE, SYS, or NV# for NVLink
 * @param modelClass nvidia-smi's class as the model computes it from the PCI topology
 * @param agrees whether the two name the same class (a model class with "?" agrees with either reading)
 * @param read the driver's peer-access status for reads from the provider (nvidia-smi topo -p2p r: OK, CNS,
 *        GNS, TNS, NS, U), or null without that section
 * @param write the same for writes (nvidia-smi topo -p2p w), or null
 * @param notes what a disagreement, or NVLink, means; how the names were matched to devices
 */
public record DriverView(String tool, String provider, String client, String driverClass, String modelClass,
        boolean agrees, String read, String write, List<String> notes) {
}
