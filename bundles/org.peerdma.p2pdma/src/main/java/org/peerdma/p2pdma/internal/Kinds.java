package org.peerdma.p2pdma.internal;

import java.util.regex.Pattern;

import org.peerdma.pci.PciDevice;

/**
 * What a function is (gpu, nic, nvme, storage, accelerator, bridge, other): from its class code (PCI
 * Code and ID Assignment), else, for a dump without class codes (lspci -t, a tree-only paste), from
 * its pciutils name, else "unknown".
 */
final class Kinds {
    /** The kind of a function that neither its class code nor its name tells. */
    static final String UNKNOWN = "unknown";

    private Kinds() {
    }

    // Order matters: a name is matched against these in turn ("NVMe RAID Controller" is storage,
    // "AD102 High Definition Audio Controller" is not a GPU).
    private static final Pattern OTHER = Pattern.compile(
            "\\b(Audio|USB|xHCI|SMBus|LPC|ISA|Serial|UART|UCSI|I2C|SPI|PSP|CCP|Crypto|Watchdog|Sensor|Thermal|Dummy"
                    + "|IOMMU|Host Bridge|Management|Switch)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern STORAGE = Pattern.compile("\\b(RAID|SATA|AHCI|SAS|IDE|Fibre Channel|HBA)\\b",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern NVME = Pattern.compile("\\b(NVMe|Non-Volatile)", Pattern.CASE_INSENSITIVE);
    private static final Pattern NIC = Pattern.compile(
            "\\b(Ethernet|ConnectX|InfiniBand|BlueField|Omni-Path|Network (Connection|Adapter|Controller)|NetXtreme"
                    + "|Wi-?Fi|Wireless)", Pattern.CASE_INSENSITIVE);
    private static final Pattern ACCEL = Pattern.compile("\\b(Gaudi|Habana|Alveo|Versal|Accelerat|TPU|IPU|DSA|QAT)",
            Pattern.CASE_INSENSITIVE);
    /** GPU product and chip names: NVIDIA's GK/GM/GP/GV/TU/GA/AD/GH/GB chips, AMD's and Intel's families. */
    private static final Pattern GPU = Pattern.compile(
            "\\b(Graphics|GPU|VGA|GeForce|Quadro|Tesla|TITAN|RTX|Radeon|Instinct|FirePro|Navi|Vega|Aldebaran|Arcturus"
                    + "|Battlemage|Alchemist|Arc|Ponte Vecchio|(GK|GM|GP|GV|TU|GA|AD|GH|GB)\\d{3}[A-Z]*)\\b");

    /** of - the kind of a function. */
    static String of(PciDevice d) {
        if (d.isBridge()) {
            return "bridge";
        }
        if (!d.classKnown()) {
            String k = fromName(d.deviceName());
            // 1022 is AMD's CPU and chipset vendor ID (its GPUs and accelerators are 1002): dummy functions,
            // PSP, PTDMA, USB of a Zen SoC, never a GPU, NIC or drive
            return k.equals(UNKNOWN) && d.vendorKnown() && d.vendor() == 0x1022 ? "other" : k;
        }
        int c = d.classCode();
        int base = c >> 16;
        int sub = (c >> 8) & 0xff;
        return switch (base) {
            case 0x06 -> "bridge";
            case 0x03 -> "gpu";
            case 0x02 -> "nic";
            case 0x01 -> sub == 0x08 ? "nvme" : "storage";
            case 0x12 -> "accelerator";
            case 0x0b -> sub == 0x40 ? "accelerator" : "other";
            case 0x0c -> sub == 0x06 ? "nic" : "other";
            default -> "other";
        };
    }

    /** Whether the kind was read from the name (the function has no class code). */
    static boolean guessed(PciDevice d) {
        return !d.isBridge() && !d.classKnown() && !of(d).equals(UNKNOWN);
    }

    /**
     * fromName - the kind a pciutils device name implies ("NVMe SSD Controller SM981/PM981/PM983" is nvme,
     * "GA100 [A100 SXM4 40GB]" a gpu), or {@link #UNKNOWN} ("Device 149f").
     */
    static String fromName(String name) {
        if (name == null || name.isBlank()) {
            return UNKNOWN;
        }
        if (STORAGE.matcher(name).find()) {
            return "storage";
        }
        if (NVME.matcher(name).find()) {
            return "nvme";
        }
        if (OTHER.matcher(name).find()) {
            return "other";
        }
        if (NIC.matcher(name).find()) {
            return "nic";
        }
        if (ACCEL.matcher(name).find()) {
            return "accelerator";
        }
        if (GPU.matcher(name).find()) {
            return "gpu";
        }
        return UNKNOWN;
    }
}
