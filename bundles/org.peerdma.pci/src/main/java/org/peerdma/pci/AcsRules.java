package org.peerdma.pci;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.peerdma.errno.KernelException;
import org.peerdma.util.Texts;

/**
 * Which rules of pci_enable_acs() (drivers/pci/pci.c) a kernel release follows when it applies
 * pci=disable_acs_redir= and pci=config_acs=: before 6.11 (pci_disable_acs_redir(), no config_acs=), 6.11 with
 * the bugs of 47c8846a49ba, or the fix 9cf8a952d57b (6.15; stable 6.12.23, 6.13.11, 6.14.2, from the stable
 * review of 8 April 2025). Distribution kernels that backport either are not told apart by their number.
 */
public final class AcsRules {
    /** The rules of pci_enable_acs() a release follows. */
    public enum Semantics {
        BEFORE_6_11("before 6.11: pci_disable_acs_redir() after the kernel's default ACS; no config_acs="),
        V6_11_UNFIXED("6.11 until the fix 9cf8a952d57b (6.15; 6.12.23, 6.13.11, 6.14.2): disable_acs_redir= keeps "
                + "the firmware's redirect bits, config_acs= reads only its first entry"),
        V6_15("6.15 and later (and 6.12.23, 6.13.11, 6.14.2): a named device gets (fw_ctrl & ~mask) | (flags & mask)");

        private final String why;

        Semantics(String why) {
            this.why = why;
        }

        /** @return what these rules do, in a sentence. */
        public String why() {
            return why;
        }
    }

    private static final Pattern RELEASE = Pattern.compile("v?(\\d{1,3})\\.(\\d{1,3})(?:\\.(\\d{1,4}))?(?:[-+~_.].*)?");

    private AcsRules() {
    }

    /**
     * of - the pci_enable_acs() rules of a release: "6.12", "v6.12.23", "5.15.0-91-generic", or a rule-set
     * label ("newest", "v5.1x", "v4.20"); null or empty is the newest.
     * Errors: EINVAL for anything else.
     */
    public static Semantics of(String release) {
        if (release == null || release.isBlank()) {
            return Semantics.V6_15;
        }
        String r = release.strip().toLowerCase(Locale.ROOT);
        switch (r) {
            case "newest", "6.x", "v6.x", "6" -> {
                return Semantics.V6_15;
            }
            case "v5.1x", "5.1x", "v5.x", "5.x", "v5.2", "v4.20", "4.20", "5" -> {
                return Semantics.BEFORE_6_11;
            }
            default -> {
            }
        }
        Matcher m = RELEASE.matcher(r);
        if (!m.matches()) {
            throw KernelException.einval("'%s' is not a kernel release (6.12, 6.12.23, 5.15.0-91-generic, newest)",
                    Texts.clip(release));
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        int patch = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
        if (major < 6 || major == 6 && minor < 11) {
            return Semantics.BEFORE_6_11;
        }
        if (major > 6 || minor >= 15) {
            return Semantics.V6_15;
        }
        int fixedAt = switch (minor) {
            case 12 -> 23;
            case 13 -> 11;
            case 14 -> 2;
            default -> Integer.MAX_VALUE; // 6.11.y reached its end of life before the fix
        };
        return patch >= fixedAt ? Semantics.V6_15 : Semantics.V6_11_UNFIXED;
    }
}
