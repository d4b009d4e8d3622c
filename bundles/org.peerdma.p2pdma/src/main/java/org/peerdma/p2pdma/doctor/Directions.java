package org.peerdma.p2pdma.doctor;

/**
 * What the hardware on a pair's path is known to forward, per direction, as {@code nvidia-smi topo -p2p w}
 * and {@code -p2p r} report it, kept apart from the kernel's p2pdma decision, which is the same for both
 * directions. From a table of platforms with their sources (docs/p2pdma.md, "Reads and writes").
 *
 * @param write the client writing into the provider's memory (MemWr TLPs): "yes", "no" or "unknown"
 * @param read the client reading the provider's memory (MemRd TLPs and their completions): "yes", "no" or
 *        "unknown"
 * @param platform what forwards the traffic ("PCIe switch", "AMD Zen root complex", "Intel client root complex")
 * @param basis why, in words, with what was inferred
 * @param documented whether a vendor, a maintainer or the specification says so (false: reports and folklore,
 *        or nothing found)
 * @param source where it is said (a URL or a kernel commit)
 */
public record Directions(String write, String read, String platform, String basis, boolean documented,
        String source) {
}
