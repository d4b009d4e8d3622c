package org.peerdma.p2pdma.doctor;

/**
 * The verdict under a fact the machine description lacks.
 *
 * @param condition the fact ("the CPU is AMD family >= 0x17", "0000:05:08.0 has ACS redirect enabled")
 * @param supported whether P2P DMA would work then
 * @param mapType the map type then
 * @param distance the distance then
 * @param likely whether the doctor infers that this fact holds (and why, in {@code because}), false when unknown
 * @param because the inference, or ""
 */
public record Alternative(String condition, boolean supported, String mapType, int distance, boolean likely,
        String because) {
}
