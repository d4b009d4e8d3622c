package org.peerdma.pci.imports.document;

import org.peerdma.util.Texts;

/**
 * Error messages of other libraries (Jackson, the JDK's XML parser, number parsing) quote what the input
 * held, sometimes hundreds of characters of it: {@link #clipQuoted} cuts each quoted value to
 * {@link Texts#CLIP} characters, as this module's own messages quote them.
 */
public final class Quoting {
    /** The longest foreign message kept (after its quoted values are clipped). */
    public static final int MAX = 300;

    private Quoting() {
    }

    /** The text with every run of one character longer than {@link Texts#CLIP} cut ("''''..." is no quoted value). */
    private static String limitRuns(CharSequence s) {
        StringBuilder out = new StringBuilder(s.length());
        int run = 0;
        int skipped = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            run = i > 0 && c == s.charAt(i - 1) ? run + 1 : 1;
            if (run == 1 && skipped > 0) {
                out.append("... (").append(skipped).append(" more)");
                skipped = 0;
            }
            if (run > Texts.CLIP) {
                skipped++;
            } else {
                out.append(c);
            }
        }
        if (skipped > 0) {
            out.append("... (").append(skipped).append(" more)");
        }
        return out.toString();
    }

    /**
     * clipQuoted - {@code message} with every text between matching quotes ('...', "...", `...`) longer than
     * {@link Texts#CLIP} characters clipped, control characters shown as '?', and the whole cut to {@link #MAX}.
     */
    public static String clipQuoted(String message) {
        if (message == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(Math.min(message.length(), MAX + 40));
        int i = 0;
        int n = message.length();
        while (i < n && out.length() < MAX) {
            char c = message.charAt(i);
            if (c == '\'' || c == '"' || c == '`') {
                int close = message.indexOf(c, i + 1);
                String quoted = close < 0 ? message.substring(i + 1) : message.substring(i + 1, close);
                out.append(c).append(Texts.clip(quoted));
                if (close >= 0) {
                    out.append(c);
                }
                i = close < 0 ? n : close + 1;
            } else {
                out.append(c < 0x20 || c == 0x7f ? '?' : c);
                i++;
            }
        }
        if (i < n) {
            out.append("... (").append(n).append(" characters)");
        }
        return limitRuns(out);
    }
}
