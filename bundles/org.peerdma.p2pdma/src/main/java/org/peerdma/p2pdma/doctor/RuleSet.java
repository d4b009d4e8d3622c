package org.peerdma.p2pdma.doctor;

/**
 * The p2pdma rule set a report was computed with.
 *
 * @param id the {@link org.peerdma.p2pdma.KernelVersion} constant name (NEWEST, V5_X, V5_2, V4_20)
 * @param name the short name (newest, v5.1x, v5.2, v4.20)
 * @param label the human label ("newest (v7.x)")
 * @param release the kernel release it was derived from (a capture's uname -r, or -k 6.8), or null
 * @param source where the choice came from: "module parameter", "-k", "capture", "what-if"
 * @param note why the rule set is a guess (a release this model cannot map, a kernel before p2pdma), or null
 */
public record RuleSet(String id, String name, String label, String release, String source, String note) {
    /** A rule set chosen without doubt. */
    public RuleSet(String id, String name, String label, String release, String source) {
        this(id, name, label, release, source, null);
    }
}
