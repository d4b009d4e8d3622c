package org.peerdma.pci.shell;

import java.util.List;

import org.peerdma.errno.KernelException;

/**
 * The lspci switches the model reproduces: -v (repeatable), -n / -nn, -t, -D, -k, -b, -s, -d.
 * {@link #parse} reads them getopt-style, so "-tvnn", "-vvv", "-s00:01.0" and "-s 00:01.0" all work.
 */
final class LspciOptions {
    /** 0 = terse, 1 = -v, 2 = -vv, 3 = -vvv. */
    int verbose;
    /** 0 = names, 1 = -n (numbers), 2 = -nn (both). */
    int numeric;
    boolean tree;
    /** -D: always show the PCI domain. */
    boolean domains;
    /** -k: show the kernel driver. */
    boolean kernel;
    /** -b: bus-centric view (BARs as PCI bus addresses). */
    boolean busCentric;
    final PciFilter filter = new PciFilter();

    /** Options lspci has that this model does not reproduce, with the reason. */
    private static final String UNSUPPORTED = "xmPiqQMpAHFOG";

    /**
     * parse - apply getopt-style arguments to these options.
     * Errors: EINVAL for an unknown or unsupported switch, a missing -s/-d argument, a bad filter
     * or a stray non-option argument.
     */
    LspciOptions parse(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a == null || a.isEmpty()) {
                continue;
            }
            if (a.charAt(0) != '-' || a.length() < 2) {
                throw KernelException.einval("lspci: unexpected argument '%s' (filters go after -s or -d)", a);
            }
            for (int k = 1; k < a.length(); k++) {
                char c = a.charAt(k);
                switch (c) {
                    case 'v' -> verbose = Math.min(3, verbose + 1);
                    case 'n' -> numeric = Math.min(2, numeric + 1);
                    case 't' -> tree = true;
                    case 'D' -> domains = true;
                    case 'k' -> kernel = true;
                    case 'b' -> busCentric = true;
                    case 's', 'd' -> {
                        String value;
                        if (k + 1 < a.length()) {
                            value = a.substring(k + 1);
                        } else if (i + 1 < args.size()) {
                            value = args.get(++i);
                        } else {
                            throw KernelException.einval("lspci: option -%c needs an argument", c);
                        }
                        if (c == 's') {
                            filter.slot(value);
                        } else {
                            filter.id(value);
                        }
                        k = a.length();
                    }
                    default -> {
                        if (UNSUPPORTED.indexOf(c) >= 0) {
                            throw KernelException.einval("lspci: option -%c is not reproduced by this model "
                                    + "(it has no config-space bytes, ID database or machine-readable mode)", c);
                        }
                        throw KernelException.einval("lspci: invalid option -- '%c'", c);
                    }
                }
            }
        }
        return this;
    }
}
