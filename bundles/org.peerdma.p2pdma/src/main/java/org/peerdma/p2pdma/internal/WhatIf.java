package org.peerdma.p2pdma.internal;

import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.util.Texts;

/** The changes a what-if makes to a copy of the machine description. */
final class WhatIf {
    private WhatIf() {
    }

    /**
     * apply - make one change on {@code dto}.
     * Return: the change as applied, for the report ("0000:02:08.0 ACSCtl SV UF").
     * Errors: EINVAL for an unknown or malformed change, ENODEV for a device not in the machine.
     */
    static String apply(MachineDTO dto, String change) {
        int eq = change == null ? -1 : change.indexOf('=');
        if (eq <= 0) {
            throw KernelException.einval("what-if change '%s' is not key=value (acs:BDF=..., redirect=off, cpu=, "
                    + "arch=, kernel=, iommu=, pci=)", Texts.clip(change));
        }
        String key = change.substring(0, eq);
        String val = change.substring(eq + 1);
        if (key.startsWith("acs:")) {
            return acs(dto, Bdf.parse(key.substring(4)), val);
        }
        switch (key) {
            case "redirect" -> {
                if (!val.equals("off")) {
                    throw KernelException.einval("redirect= takes 'off', not '%s'", Texts.clip(val));
                }
                int n = 0;
                for (DeviceDTO d : dto.devices) {
                    if (d.acs != null && d.acs.ctrl != null && (d.acs.ctrl & Acs.REDIRECT_BITS) != 0) {
                        d.acs.ctrl &= ~Acs.REDIRECT_BITS;
                        n++;
                    }
                }
                return "ACS redirect cleared on " + n + " port(s)";
            }
            case "cpu" -> {
                String[] p = val.split("/");
                if (p.length == 0 || p[0].isBlank() || p.length > 2) {
                    throw KernelException.einval("cpu= takes VENDOR[/FAMILY], e.g. AuthenticAMD/0x19, not '%s'",
                            Texts.clip(val));
                }
                dto.cpu = dto.cpu == null ? new CpuDTO() : dto.cpu;
                dto.cpu.vendor = p[0];
                if (p.length > 1) {
                    try {
                        dto.cpu.family = Integer.decode(p[1]);
                    } catch (NumberFormatException ex) {
                        throw KernelException.einval("CPU family '%s' is not a number", Texts.clip(p[1]));
                    }
                }
                return "CPU " + val;
            }
            case "arch" -> {
                if (!val.matches("[A-Za-z0-9_]{1,16}")) {
                    throw KernelException.einval("arch= takes an architecture name (x86_64, arm64), not '%s'",
                            Texts.clip(val));
                }
                dto.arch = val;
                return "arch " + val;
            }
            case "iommu" -> {
                // booting with an IOMMU driver: pci_request_acs(), then pci_enable_acs() on every device (the
                // PCI core's detached boot does it, with the pci= options in the order of the release)
                if (!val.equals("on") && !val.equals("pt") && !val.equals("off")) {
                    throw KernelException.einval("iommu= takes on, pt or off, not '%s'", Texts.clip(val));
                }
                if (val.equals("off")) {
                    return "IOMMU off: the kernel does not enable ACS (the dump's ACS state is taken as firmware's)";
                }
                return "IOMMU " + val + ": pci_request_acs(), so pci_std_enable_acs() sets SV RR CR UF where "
                        + "advertised before the pci= options apply";
            }
            case "pci" -> {
                if (val.isBlank()) {
                    throw KernelException.einval("pci= takes the kernel's options, e.g. "
                            + "pci=disable_acs_redir=0000:00:01.0 or pci=config_acs=0010001@0000:02:08.0");
                }
                return "booted with pci=" + Texts.clip(val);
            }
            case "kernel" -> {
                KernelVersion v = KernelVersion.forRelease(val);
                if (v == null) {
                    v = KernelVersion.parse(val);
                }
                return "kernel rules " + v.label();
            }
            default -> throw KernelException.einval("unknown what-if change '%s' (acs:BDF=, redirect=off, cpu=, "
                    + "arch=, kernel=, iommu=, pci=)", Texts.clip(key));
        }
    }

    private static String acs(MachineDTO dto, Bdf bdf, String val) {
        DeviceDTO d = dto.devices.stream().filter(x -> Bdf.parse(x.bdf).equals(bdf)).findFirst()
                .orElseThrow(() -> KernelException.enodev("no PCI device %s", bdf));
        if (d.acs == null) {
            throw KernelException.einval("%s has no ACS capability", bdf);
        }
        int ctrl = d.acs.ctrl == null ? 0 : d.acs.ctrl;
        for (String t : val.split(",")) {
            if (t.startsWith("+") || t.startsWith("-")) {
                int bit = Acs.parseBit(t.substring(1));
                if (bit == 0) {
                    throw KernelException.einval("unknown ACS bit '%s' (SV TB RR CR UF EC DT)", Texts.clip(t.substring(1)));
                }
                ctrl = t.startsWith("+") ? ctrl | bit : ctrl & ~bit;
            } else {
                String h = t.startsWith("0x") || t.startsWith("0X") ? t.substring(2) : t;
                if (h.isEmpty() || h.length() > 4 || !h.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
                    throw KernelException.einval("'%s' is not a hex ACS control value", Texts.clip(t));
                }
                ctrl = Integer.parseInt(h, 16);
            }
        }
        int cap = d.acs.cap == null ? Acs.ALL : d.acs.cap;
        d.acs.ctrl = ctrl & cap & Acs.ALL;
        return bdf + " ACSCtl " + (d.acs.ctrl == 0 ? "(none)" : String.join(" ", Acs.names(d.acs.ctrl)));
    }
}
