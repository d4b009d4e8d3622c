package org.peerdma.p2pdma.internal;

import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciHostBridge;
import org.peerdma.pci.PciePortType;

/**
 * Devices of a matrix that calc_map_type_and_dist cannot tell apart: the same parent bridge, and the same
 * of everything FastCalc reads from the device itself (whether it redirects, whether its ACS state is
 * known, whether it is a switch upstream port, its NUMA node and host bridge). For two devices of
 * different groups the answer depends on the groups only, and so does the answer for two different
 * devices of one group (their common upstream device is the parent). A device that is above another one
 * of the matrix, or has no parent, is a group of its own.
 */
final class MatrixGroups {
    private MatrixGroups() {
    }

    private record Key(PciDevice parent, boolean redirects, boolean unknown, boolean upstream, int numa,
            PciHostBridge hostBridge) {
        // PciDevice and PciHostBridge compare by identity: the same objects of one loaded machine
    }

    /** @return the group of each chain's device, numbered from 0 in order of first appearance. */
    static int[] of(FastCalc.Chain[] chains) {
        Set<PciDevice> above = Collections.newSetFromMap(new IdentityHashMap<>());
        for (FastCalc.Chain c : chains) {
            for (int k = 1; k < c.nodes.length; k++) {
                above.add(c.nodes[k]);
            }
        }
        Map<Key, Integer> groups = new HashMap<>();
        int[] out = new int[chains.length];
        int next = 0;
        for (int i = 0; i < chains.length; i++) {
            PciDevice[] nodes = chains[i].nodes;
            PciDevice d = nodes[0];
            if (nodes.length < 2 || above.contains(d)) {
                out[i] = next++;
                continue;
            }
            Key k = new Key(nodes[1], Calc.redirects(d), d.acsUnknown(), d.portType() == PciePortType.UPSTREAM_PORT,
                    d.numaNode(), d.hostBridge());
            Integer g = groups.get(k);
            if (g == null) {
                g = next++;
                groups.put(k, g);
            }
            out[i] = g;
        }
        return out;
    }

    /**
     * fill - the matrix's pairs in row order (provider i, client j, i != j), each of the classes kept:
     * {@code index} (null when every class is kept) gets i * n + j, {@code code} the map type and class,
     * {@code dist} the distance. Devices of one group give one answer per client group, computed once per
     * provider row and reused by the group's next rows. A method of its own so that the compiler keeps the
     * walk inlined in the loop. Return: the pairs kept.
     */
    static int fill(FastCalc fast, FastCalc.Chain[] chains, boolean[] keepClass, int[] index, byte[] code,
            short[] dist) {
        int n = chains.length;
        int[] group = of(chains);
        int groups = 0;
        for (int g : group) {
            groups = Math.max(groups, g + 1);
        }
        long[] row = new long[groups];
        int[] stamp = new int[groups];
        int rowGroup = -1;
        int rowStamp = 0;
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (group[i] != rowGroup) {
                rowGroup = group[i];
                rowStamp++;
            }
            FastCalc.Chain p = chains[i];
            for (int j = 0; j < n; j++) {
                if (i == j) {
                    continue;
                }
                int gj = group[j];
                long r;
                if (stamp[gj] == rowStamp) {
                    r = row[gj];
                } else {
                    r = fast.packed(p, chains[j]);
                    row[gj] = r;
                    stamp[gj] = rowStamp;
                }
                int c = FastCalc.classIndex(r);
                if (!keepClass[c]) {
                    continue;
                }
                if (index != null) {
                    index[size] = i * n + j;
                }
                code[size] = CompactPairs.code(FastCalc.typeOrdinal(r), c);
                dist[size] = CompactPairs.distance(FastCalc.distance(r));
                size++;
            }
        }
        return size;
    }
}
