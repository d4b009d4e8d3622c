package org.peerdma.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * Access Control Services capability and control bits (include/uapi/linux/pci_regs.h
 * PCI_ACS_*), with lspci's names for them.
 */
public final class Acs {
    /** PCI_EXT_CAP_ID_ACS. */
    public static final int EXT_CAP_ID = 0x0d;
    /** Offset of the control register within the capability (PCI_ACS_CTRL). */
    public static final int CTRL_OFFSET = 0x06;
    public static final int SV = 0x0001; // Source Validation
    public static final int TB = 0x0002; // Translation Blocking
    public static final int RR = 0x0004; // P2P Request Redirect
    public static final int CR = 0x0008; // P2P Completion Redirect
    public static final int UF = 0x0010; // Upstream Forwarding
    public static final int EC = 0x0020; // P2P Egress Control
    public static final int DT = 0x0040; // Direct Translated P2P
    /** All seven bits this model tracks. */
    public static final int ALL = SV | TB | RR | CR | UF | EC | DT;
    /** The bits whose being set makes p2pdma treat a port as redirecting (pci_bridge_has_acs_redir). */
    public static final int REDIRECT_BITS = RR | CR | EC;

    private static final int[] BITS = {SV, TB, RR, CR, UF, EC, DT};
    private static final String[] LSPCI = {"SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd",
        "EgressCtrl", "DirectTrans"};
    private static final String[] SHORT = {"SV", "TB", "RR", "CR", "UF", "EC", "DT"};

    private Acs() {
    }

    /** lspci - format bits the way lspci -vvv prints ACSCap/ACSCtl: "SrcValid+ TransBlk- ...". */
    public static String lspci(int bits) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < BITS.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(LSPCI[i]).append((bits & BITS[i]) != 0 ? '+' : '-');
        }
        return sb.toString();
    }

    /** names - the short names (SV, TB, RR, CR, UF, EC, DT) of the set bits. */
    public static List<String> names(int bits) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < BITS.length; i++) {
            if ((bits & BITS[i]) != 0) {
                out.add(SHORT[i]);
            }
        }
        return out;
    }

    /**
     * parseLspci - read an ACSCap:/ACSCtl: value list ("SrcValid+ TransBlk- ...").
     * Return: the bits marked '+'. Names this model does not know are ignored.
     */
    public static int parseLspci(String text) {
        int bits = 0;
        for (String tok : text.trim().split("\\s+")) {
            if (tok.length() < 2 || tok.charAt(tok.length() - 1) != '+') {
                continue;
            }
            String name = tok.substring(0, tok.length() - 1);
            for (int i = 0; i < BITS.length; i++) {
                if (LSPCI[i].equals(name)) {
                    bits |= BITS[i];
                }
            }
        }
        return bits;
    }

    /**
     * parseBit - one bit by short (RR) or lspci (ReqRedir) name, case-insensitive.
     * Return: the bit, or 0 when the name is unknown.
     */
    public static int parseBit(String name) {
        for (int i = 0; i < BITS.length; i++) {
            if (SHORT[i].equalsIgnoreCase(name) || LSPCI[i].equalsIgnoreCase(name)) {
                return BITS[i];
            }
        }
        return 0;
    }
}
