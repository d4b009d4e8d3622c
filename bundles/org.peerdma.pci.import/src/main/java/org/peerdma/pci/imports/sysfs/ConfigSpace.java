package org.peerdma.pci.imports.sysfs;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

import org.peerdma.pci.Acs;
import org.peerdma.pci.Capability;
import org.peerdma.pci.PciePortType;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.CapabilityDTO;
import org.peerdma.pci.dto.DeviceDTO;

/**
 * Decodes the bytes of a sysfs {@code config} file (include/uapi/linux/pci_regs.h layout) into a
 * {@link DeviceDTO}: IDs, header type, bridge bus numbers, the standard capability list with the
 * Express port type and link status, and the extended capability list with ACS.
 */
final class ConfigSpace {
    /** __pci_find_next_cap_ttl's limit (PCI_FIND_CAP_TTL). */
    static final int CAP_TTL = 48;
    /** pci_find_next_ext_capability's limit: (4096 - 256) / 8. */
    static final int EXT_CAP_TTL = (4096 - 256) / 8;
    private static final int STD_SIZE = 256;
    private static final String[] SPEEDS = {null, "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s"};

    private ConfigSpace() {
    }

    /**
     * decode - read what {@code cfg} holds into a new DTO (bdf unset).
     *
     * @param cfg the bytes that could be read
     * @param fileSize the size the file claims (stat); larger than cfg.length when the reader was
     *        not root on a live sysfs (the kernel returns only 64 bytes then)
     * Return: the decoded fields; anything cut off is explained in notes.
     */
    static DeviceDTO decode(byte[] cfg, long fileSize) {
        DeviceDTO d = new DeviceDTO();
        int len = cfg.length;
        if (len < 0x40) {
            d.notes.add(len == 0 ? "config file is empty: header type, capabilities, port type and ACS unknown"
                    : "config space truncated to " + len
                            + " bytes: header type, capabilities, port type and ACS unknown");
        }
        if (len >= 0x10) {
            d.vendor = u16(cfg, 0x00);
            d.device = u16(cfg, 0x02);
            d.revision = u8(cfg, 0x08);
            d.classCode = (u8(cfg, 0x0b) << 16) | (u8(cfg, 0x0a) << 8) | u8(cfg, 0x09);
            int ht = u8(cfg, 0x0e);
            d.headerType = ht & 0x7f;
            d.multifunction = (ht & 0x80) != 0;
            d.command = u16(cfg, 0x04);
            d.status = u16(cfg, 0x06);
        }
        int type = d.headerType == null ? -1 : d.headerType;
        if ((type == 1 || type == 2) && len >= 0x1b) {
            d.secondaryBus = u8(cfg, 0x19);
            d.subordinateBus = u8(cfg, 0x1a);
        }
        if (type == 0 && len >= 0x30) {
            d.subsystemVendor = u16(cfg, 0x2c);
            d.subsystemDevice = u16(cfg, 0x2e);
        } else if (type == 2 && len >= 0x44) {
            d.subsystemVendor = u16(cfg, 0x40);
            d.subsystemDevice = u16(cfg, 0x42);
        }
        if (len < 0x40) {
            d.extendedCapsKnown = false;
            return d;
        }
        boolean capsComplete = standardCaps(cfg, type, d);
        if (len > STD_SIZE) {
            d.extendedCapsKnown = extendedCaps(cfg, d);
        } else if (capsComplete && !mayHaveExtendedSpace(d)) {
            // Conventional PCI: the whole configuration space is 256 bytes (pci_cfg_space_size),
            // the kernel never looks for extended capabilities, so there is no ACS to miss.
            d.extendedCapsKnown = true;
        } else {
            d.extendedCapsKnown = false;
            String why;
            if (fileSize > len || len == 64 || len == 128) {
                why = "not root";
            } else if (len == STD_SIZE) {
                why = "copy without extended config space, or no extended config access";
            } else {
                why = "file cut short";
            }
            d.notes.add(String.format(Locale.ROOT, "config space readable only to %d bytes (%s): %sextended capabilities and ACS unknown",
                    len, why, capsComplete ? "" : "capabilities, Express port type, "));
        }
        return d;
    }

    /** @return true unless d is known to be conventional PCI (no Express, no PCI-X, not a host bridge). */
    private static boolean mayHaveExtendedSpace(DeviceDTO d) {
        if (d.classCode != null && (d.classCode >> 8) == 0x0600) {
            return true;
        }
        for (CapabilityDTO c : d.capabilities) {
            if (c.id == Capability.CAP_EXP || c.id == 0x07) {
                return true;
            }
        }
        return false;
    }

    /** Walk the 0x34 chain. Return: true when the list was read to its end. */
    private static boolean standardCaps(byte[] cfg, int type, DeviceDTO d) {
        int status = u16(cfg, 0x06);
        if ((status & 0x10) == 0 || type < 0 || type > 2) {
            d.portType = PciePortType.CONVENTIONAL.name();
            return true;
        }
        int pos = u8(cfg, type == 2 ? 0x14 : 0x34);
        Set<Integer> seen = new HashSet<>();
        boolean express = false;
        boolean complete = true;
        int ttl = CAP_TTL;
        while (true) {
            pos &= 0xfc;
            if (pos < 0x40) {
                break;
            }
            if (pos + 2 > cfg.length) {
                complete = false;
                break;
            }
            if (!seen.add(pos)) {
                d.notes.add(String.format(Locale.ROOT, "capability list loops back to %#x; stopped there", pos));
                break;
            }
            if (ttl-- == 0) {
                d.notes.add("capability list longer than " + CAP_TTL + " entries; stopped like the kernel");
                break;
            }
            int id = u8(cfg, pos);
            if (id == 0xff) {
                break;
            }
            d.capabilities.add(cap(false, id, pos, 0));
            if (id == Capability.CAP_EXP) {
                express = true;
                complete &= express(cfg, pos, d);
            } else if (id == Capability.CAP_SSVID && type == 1 && pos + 8 <= cfg.length) {
                d.subsystemVendor = u16(cfg, pos + 4);
                d.subsystemDevice = u16(cfg, pos + 6);
            }
            pos = u8(cfg, pos + 1);
        }
        if (complete && !express) {
            d.portType = PciePortType.CONVENTIONAL.name();
        }
        return complete;
    }

    /** Decode the Express capability at pos. Return: false when it was cut off. */
    private static boolean express(byte[] cfg, int pos, DeviceDTO d) {
        if (pos + 4 > cfg.length) {
            return false;
        }
        int code = (u16(cfg, pos + 2) >> 4) & 0xf;
        PciePortType t = PciePortType.fromCode(code);
        if (t == PciePortType.CONVENTIONAL) {
            d.notes.add(String.format(Locale.ROOT, "Express capability has reserved device/port type %#x", code));
            return true;
        }
        d.portType = t.name();
        if (pos + 0x0c <= cfg.length) {
            // Device Capabilities (+0x04), Device Control (+0x08) and Device Status (+0x0a)
            d.devCap = (int) u32(cfg, pos + 0x04);
            d.devCtl = u16(cfg, pos + 0x08);
            d.devSta = u16(cfg, pos + 0x0a);
        }
        boolean hasLink = t != PciePortType.RC_INTEGRATED_ENDPOINT && t != PciePortType.RC_EVENT_COLLECTOR;
        if (hasLink && pos + 0x10 <= cfg.length) {
            // Link Capabilities: Max Link Speed 3:0, Maximum Link Width 9:4
            int lnkcap = u16(cfg, pos + 0x0c);
            d.lnkCap = (int) u32(cfg, pos + 0x0c);
            int speed = lnkcap & 0xf;
            d.linkCapSpeed = speed < SPEEDS.length ? SPEEDS[speed] : null;
            d.linkCapWidth = (lnkcap >> 4) & 0x3f;
        }
        if (hasLink && pos + 0x14 <= cfg.length) {
            int lnksta = u16(cfg, pos + 0x12);
            d.lnkSta = lnksta;
            int speed = lnksta & 0xf;
            d.linkSpeed = speed < SPEEDS.length ? SPEEDS[speed] : null;
            d.linkWidth = (lnksta >> 4) & 0x3f;
        }
        return true;
    }

    /** Walk the 0x100 chain. Return: true when the list was read to its end. */
    private static boolean extendedCaps(byte[] cfg, DeviceDTO d) {
        int pos = STD_SIZE;
        Set<Integer> seen = new HashSet<>();
        int ttl = EXT_CAP_TTL;
        while (true) {
            if (pos + 4 > cfg.length) {
                d.notes.add(String.format(Locale.ROOT,
                        "extended capability list points to %#x, past the %d bytes read: ACS may be missing", pos,
                        cfg.length));
                return false;
            }
            long header = u32(cfg, pos);
            if (header == 0) {
                return true;
            }
            if (header == 0xffffffffL) {
                if (pos == STD_SIZE) {
                    d.notes.add("extended config space reads all ones: extended capabilities and ACS unknown");
                    return false;
                }
                return true;
            }
            if (!seen.add(pos)) {
                d.notes.add(String.format(Locale.ROOT, "extended capability list loops back to %#x; stopped there", pos));
                return true;
            }
            if (ttl-- == 0) {
                d.notes.add("extended capability list longer than " + EXT_CAP_TTL + " entries; stopped like the kernel");
                return true;
            }
            int id = (int) (header & 0xffff);
            int version = (int) ((header >> 16) & 0xf);
            d.capabilities.add(cap(true, id, pos, version));
            if (id == Acs.EXT_CAP_ID && d.acs == null) {
                if (pos + 8 <= cfg.length) {
                    AcsDTO acs = new AcsDTO();
                    acs.offset = pos;
                    acs.cap = u16(cfg, pos + 4);
                    acs.ctrl = u16(cfg, pos + Acs.CTRL_OFFSET);
                    d.acs = acs;
                } else {
                    d.notes.add(String.format(Locale.ROOT, "ACS capability at %#x is cut off", pos));
                }
            }
            pos = (int) ((header >> 20) & 0xffc);
            if (pos < STD_SIZE) {
                return true;
            }
        }
    }

    private static CapabilityDTO cap(boolean extended, int id, int offset, int version) {
        CapabilityDTO c = new CapabilityDTO();
        c.extended = extended;
        c.id = id;
        c.offset = offset;
        c.version = version;
        return c;
    }

    static int u8(byte[] b, int off) {
        return b[off] & 0xff;
    }

    static int u16(byte[] b, int off) {
        return u8(b, off) | (u8(b, off + 1) << 8);
    }

    static long u32(byte[] b, int off) {
        return (u16(b, off) | ((long) u16(b, off + 2) << 16)) & 0xffffffffL;
    }
}
