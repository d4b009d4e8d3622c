package org.peerdma.p2pdma.doctor;

/**
 * Another rule set's answer for the same pair.
 *
 * @param ruleSet newest, v5.1x, v5.2, v4.20
 * @param mapType its map type
 * @param distance its distance
 */
public record KernelAnswer(String ruleSet, String mapType, int distance) {
}
