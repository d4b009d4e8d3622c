package org.peerdma.util;

/** Text helpers for messages that quote what a user typed or a file contained. */
public final class Texts {
    /** The longest quoted value a message shows whole. */
    public static final int CLIP = 80;

    private Texts() {
    }

    /**
     * clip - a value as an error message may quote it: at most {@link #CLIP} characters, control
     * characters shown as '?', longer values cut with "... (N characters)".
     */
    public static String clip(CharSequence value) {
        if (value == null) {
            return "null";
        }
        int n = value.length();
        StringBuilder sb = new StringBuilder(Math.min(n, CLIP) + 24);
        for (int i = 0; i < Math.min(n, CLIP); i++) {
            char c = value.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (n > CLIP) {
            sb.append("... (").append(n).append(" characters)");
        }
        return sb.toString();
    }
}
