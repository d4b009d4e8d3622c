package org.peerdma.pci.internal;

import java.util.Locale;
import java.util.function.Consumer;

import org.peerdma.pci.Acs;
import org.peerdma.pci.AcsRules;
import org.peerdma.pci.AcsRules.Semantics;

/**
 * pci_enable_acs() (drivers/pci/pci.c) for one device at enumeration: the kernel's default ACS when an IOMMU
 * driver called pci_request_acs(), then the pci= options, in the order and with the bit arithmetic of the
 * release that boots:
 * <ul>
 * <li>{@link Semantics#BEFORE_6_11}: pci_std_enable_acs(), then pci_disable_acs_redir() clears RR CR EC of the
 * current value (so with the IOMMU on a QEMU root port ends at SV UF, 0x0011); config_acs= does not exist.</li>
 * <li>{@link Semantics#V6_11_UNFIXED} (47c8846a49ba "PCI: Extend ACS configurability", 6.11 up to the fix):
 * __pci_config_acs() computes {@code ctrl = (ctrl & ~mask) | (fw_ctrl & mask); ctrl |= flags}, so
 * disable_acs_redir= puts back the firmware's redirect bits and sets every other one, and a config_acs= list of
 * several entries fails after its first ("PCI: Can't parse ACS command line parameter") because the mask of the
 * first entry is not reset.</li>
 * <li>{@link Semantics#V6_15} (9cf8a952d57b "PCI/ACS: Fix pci=config_acs= parameter", 6.15, and the stable
 * releases 6.12.23, 6.13.11, 6.14.2): a device an option names gets
 * {@code (fw_ctrl & ~mask) | (flags & mask)}: what the kernel enabled is dropped, so with the IOMMU on and
 * disable_acs_redir= naming a QEMU root port that port stays at 0x0000.</li>
 * </ul>
 * The value written is what the register keeps: control bits whose capability bit is clear are hardwired to 0.
 */
final class AcsBoot {
    /**
     * How this boot runs pci_enable_acs(): the options, whether ACS was requested, the release's rules, and the
     * pr_info_once() lines already printed.
     */
    record Boot(CmdlineOptions options, boolean acsRequested, Semantics semantics, String release,
            java.util.Set<String> printedOnce) {
        Boot(CmdlineOptions options, boolean acsRequested, Semantics semantics, String release) {
            this(options, acsRequested, semantics, release, java.util.concurrent.ConcurrentHashMap.newKeySet());
        }

        /** pr_info_once(): the line goes to {@code log} the first time this boot prints it. */
        void once(Consumer<String> log, String line) {
            if (printedOnce.add(line)) {
                log.accept(line);
            }
        }
    }

    private AcsBoot() {
    }

    /** semantics - {@link AcsRules#of(String)}. */
    static Semantics semantics(String release) {
        return AcsRules.of(release);
    }

    /**
     * enable - pci_enable_acs() on one device.
     * Return: the ACS control value written (already limited to what the hardware implements), or -1 when the
     * kernel does not write (no ACS capability).
     */
    static int enable(DevImpl dev, Boot boot, Consumer<String> log) {
        if (!dev.hasAcs()) {
            if (boot.semantics == Semantics.BEFORE_6_11 && named(dev, boot.options.disableAcsRedir, null)) {
                log.accept(dev.bdf + ": cannot disable ACS redirect for this hardware as it does not have ACS "
                        + "capabilities");
            }
            return -1; // pos = dev->acs_cap; if (!pos) return;
        }
        int cap = dev.acsCap;
        int fw = dev.acsCtrl;
        int ctrl = fw;
        if (boot.acsRequested) {
            // pci_std_enable_acs(): TB only for external-facing or untrusted ports, which a dump does not say
            ctrl |= cap & (Acs.SV | Acs.RR | Acs.CR | Acs.UF);
        }
        String redir = boot.options.disableAcsRedir;
        switch (boot.semantics) {
            case BEFORE_6_11 -> {
                if (named(dev, redir, line -> boot.once(log, line))) {
                    ctrl &= ~Acs.REDIRECT_BITS;
                    log.accept(dev.bdf + ": disabled ACS redirect");
                }
            }
            case V6_11_UNFIXED, V6_15 -> {
                ctrl = config(dev, boot, redir, Acs.REDIRECT_BITS, ~Acs.REDIRECT_BITS & 0xffff, ctrl, fw, log);
                ctrl = config(dev, boot, boot.options.configAcs, 0, 0, ctrl, fw, log);
            }
            default -> throw new IllegalStateException(boot.semantics.name());
        }
        return ctrl & cap & Acs.ALL;
    }

    /** The matching loop of pci_disable_acs_redir() (before 6.11): true when {@code p} names {@code dev}. */
    static boolean named(DevImpl dev, String p, Consumer<String> log) {
        if (p == null || p.isEmpty()) {
            return false;
        }
        int pos = 0;
        int ret = 0;
        while (pos < p.length()) {
            DevStrMatch.Result r = DevStrMatch.match(dev, p, pos);
            ret = r.ret();
            pos = r.end();
            if (ret < 0) {
                if (log != null) {
                    log.accept("PCI: Can't parse disable_acs_redir parameter: " + p);
                }
                break;
            } else if (ret == 1) {
                break;
            }
            pos = afterSeparator(p, pos);
            if (pos < 0) {
                break;
            }
        }
        return ret == 1;
    }

    /** Past the ';' or ',' that ends an entry at {@code pos}, or -1 at the end of the option or another character. */
    private static int afterSeparator(String p, int pos) {
        return pos < p.length() && (p.charAt(pos) == ';' || p.charAt(pos) == ',') ? pos + 1 : -1;
    }

    /** __pci_config_acs(dev, caps, p, acsMask, acsFlags) of 6.11 and later: the new caps.ctrl. */
    private static int config(DevImpl dev, Boot boot, String p, int acsMask, int acsFlags, int ctrl, int fw,
            Consumer<String> log) {
        if (p == null || p.isEmpty()) {
            return ctrl;
        }
        boolean unfixed = boot.semantics == Semantics.V6_11_UNFIXED;
        int mask = acsMask;
        int flags = acsFlags;
        int pos = 0;
        int ret = 0;
        while (pos < p.length()) {
            // before the fix the test was on the running mask, so only the first entry's flags were read
            if (unfixed ? mask == 0 : acsMask == 0) {
                int at = p.indexOf('@', pos);
                if (at < 0) {
                    log.accept(dev.bdf + ": ACS Flags missing");
                    return ctrl;
                }
                if (!unfixed) {
                    mask = 0;
                    flags = 0;
                }
                int shift = 0;
                for (int i = at - 1; i >= pos; i--, shift++) {
                    char c = p.charAt(i);
                    if (c == '0' || c == '1') {
                        if (shift < 16) { // u16: a bit beyond 15 falls off
                            mask |= 1 << shift;
                            flags |= c == '1' ? 1 << shift : 0;
                        }
                    } else if (c != 'x' && c != 'X') {
                        log.accept(dev.bdf + ": Invalid ACS flags... Ignoring");
                        return ctrl;
                    }
                }
                pos = at + 1;
            }
            if ((mask & ~Acs.ALL) != 0) {
                log.accept(dev.bdf + ": Invalid ACS flags specified");
                return ctrl;
            }
            DevStrMatch.Result r = DevStrMatch.match(dev, p, pos);
            ret = r.ret();
            pos = r.end();
            if (ret < 0) {
                boot.once(log, "PCI: Can't parse ACS command line parameter");
                break;
            } else if (ret == 1) {
                break;
            }
            pos = afterSeparator(p, pos);
            if (pos < 0) {
                break;
            }
        }
        if (ret != 1) {
            return ctrl;
        }
        int now = unfixed ? ((ctrl & ~mask) | (fw & mask)) | flags : (fw & ~mask) | (flags & mask);
        now &= 0xffff;
        log.accept(String.format(Locale.ROOT, "%s: Configured ACS to %#06x", dev.bdf, now));
        return now;
    }
}
