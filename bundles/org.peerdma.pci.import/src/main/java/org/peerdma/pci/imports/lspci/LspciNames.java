package org.peerdma.pci.imports.lspci;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Names lspci prints: the PCI class and subclass names of pci.ids (which map one to one to
 * class codes) and a short list of vendor names (exactly as pci.ids spells them) used only to
 * split "Vendor Name Device Name" text. No vendor or device ID is derived from a name here.
 */
final class LspciNames {
    /** pci.ids subclass names -> (base class << 8) | subclass. */
    private static final Map<String, Integer> CLASSES = Map.ofEntries(
            Map.entry("Non-VGA unclassified device", 0x0000),
            Map.entry("VGA compatible unclassified device", 0x0001),
            Map.entry("Image coprocessor", 0x0005),
            Map.entry("SCSI storage controller", 0x0100),
            Map.entry("IDE interface", 0x0101),
            Map.entry("Floppy disk controller", 0x0102),
            Map.entry("IPI bus controller", 0x0103),
            Map.entry("RAID bus controller", 0x0104),
            Map.entry("ATA controller", 0x0105),
            Map.entry("SATA controller", 0x0106),
            Map.entry("Serial Attached SCSI controller", 0x0107),
            Map.entry("Non-Volatile memory controller", 0x0108),
            Map.entry("Universal Flash Storage controller", 0x0109),
            Map.entry("Mass storage controller", 0x0180),
            Map.entry("Ethernet controller", 0x0200),
            Map.entry("Token ring network controller", 0x0201),
            Map.entry("FDDI network controller", 0x0202),
            Map.entry("ATM network controller", 0x0203),
            Map.entry("ISDN controller", 0x0204),
            Map.entry("WorldFip controller", 0x0205),
            Map.entry("PICMG controller", 0x0206),
            Map.entry("Infiniband controller", 0x0207),
            Map.entry("Fabric controller", 0x0208),
            Map.entry("Network controller", 0x0280),
            Map.entry("VGA compatible controller", 0x0300),
            Map.entry("XGA compatible controller", 0x0301),
            Map.entry("3D controller", 0x0302),
            Map.entry("Display controller", 0x0380),
            Map.entry("Multimedia video controller", 0x0400),
            Map.entry("Multimedia audio controller", 0x0401),
            Map.entry("Computer telephony device", 0x0402),
            Map.entry("Audio device", 0x0403),
            Map.entry("Multimedia controller", 0x0480),
            Map.entry("RAM memory", 0x0500),
            Map.entry("FLASH memory", 0x0501),
            Map.entry("CXL", 0x0502),
            Map.entry("Memory controller", 0x0580),
            Map.entry("Host bridge", 0x0600),
            Map.entry("ISA bridge", 0x0601),
            Map.entry("EISA bridge", 0x0602),
            Map.entry("MicroChannel bridge", 0x0603),
            Map.entry("PCI bridge", 0x0604),
            Map.entry("PCMCIA bridge", 0x0605),
            Map.entry("NuBus bridge", 0x0606),
            Map.entry("CardBus bridge", 0x0607),
            Map.entry("RACEway bridge", 0x0608),
            Map.entry("Semi-transparent PCI-to-PCI bridge", 0x0609),
            Map.entry("InfiniBand to PCI host bridge", 0x060a),
            Map.entry("Bridge", 0x0680),
            Map.entry("Serial controller", 0x0700),
            Map.entry("Parallel controller", 0x0701),
            Map.entry("Multiport serial controller", 0x0702),
            Map.entry("Modem", 0x0703),
            Map.entry("GPIB controller", 0x0704),
            Map.entry("Smard Card controller", 0x0705),
            Map.entry("Communication controller", 0x0780),
            Map.entry("PIC", 0x0800),
            Map.entry("DMA controller", 0x0801),
            Map.entry("Timer", 0x0802),
            Map.entry("RTC", 0x0803),
            Map.entry("PCI Hot-plug controller", 0x0804),
            Map.entry("SD Host controller", 0x0805),
            Map.entry("IOMMU", 0x0806),
            Map.entry("System peripheral", 0x0880),
            Map.entry("Timing Card", 0x0899),
            Map.entry("Keyboard controller", 0x0900),
            Map.entry("Digitizer Pen", 0x0901),
            Map.entry("Mouse controller", 0x0902),
            Map.entry("Scanner controller", 0x0903),
            Map.entry("Gameport controller", 0x0904),
            Map.entry("Input device controller", 0x0980),
            Map.entry("Generic Docking Station", 0x0a00),
            Map.entry("Docking Station", 0x0a80),
            Map.entry("386", 0x0b00),
            Map.entry("486", 0x0b01),
            Map.entry("Pentium", 0x0b02),
            Map.entry("Alpha", 0x0b10),
            Map.entry("Power PC", 0x0b20),
            Map.entry("MIPS", 0x0b30),
            Map.entry("Co-processor", 0x0b40),
            Map.entry("FireWire (IEEE 1394)", 0x0c00),
            Map.entry("ACCESS Bus", 0x0c01),
            Map.entry("SSA", 0x0c02),
            Map.entry("USB controller", 0x0c03),
            Map.entry("Fibre Channel", 0x0c04),
            Map.entry("SMBus", 0x0c05),
            Map.entry("InfiniBand", 0x0c06),
            Map.entry("IPMI Interface", 0x0c07),
            Map.entry("SERCOS interface", 0x0c08),
            Map.entry("CANBUS", 0x0c09),
            Map.entry("Serial bus controller", 0x0c80),
            Map.entry("IRDA controller", 0x0d00),
            Map.entry("Consumer IR controller", 0x0d01),
            Map.entry("RF controller", 0x0d10),
            Map.entry("Bluetooth", 0x0d11),
            Map.entry("Broadband", 0x0d12),
            Map.entry("802.1a controller", 0x0d20),
            Map.entry("802.1b controller", 0x0d21),
            Map.entry("Wireless controller", 0x0d80),
            Map.entry("I2O", 0x0e00),
            Map.entry("Satellite TV controller", 0x0f01),
            Map.entry("Satellite audio communication controller", 0x0f02),
            Map.entry("Satellite voice communication controller", 0x0f03),
            Map.entry("Satellite data communication controller", 0x0f04),
            Map.entry("Network and computing encryption device", 0x1000),
            Map.entry("Entertainment encryption device", 0x1010),
            Map.entry("Encryption controller", 0x1080),
            Map.entry("DPIO module", 0x1100),
            Map.entry("Performance counters", 0x1101),
            Map.entry("Communication synchronizer", 0x1110),
            Map.entry("Signal processing management", 0x1120),
            Map.entry("Signal processing controller", 0x1180),
            Map.entry("Processing accelerators", 0x1200),
            Map.entry("SNIA Smart Data Accelerator Interface (SDXI) controller", 0x1201));

    /** Vendor names as pci.ids spells them, longest first so "Broadcom / LSI" wins over shorter ones. */
    private static final List<String> VENDORS = List.of(
            "Intel Corporation", "NVIDIA Corporation", "Advanced Micro Devices, Inc. [AMD]",
            "Advanced Micro Devices, Inc. [AMD/ATI]", "PLX Technology, Inc.", "Broadcom / LSI",
            "Broadcom Inc. and subsidiaries", "Broadcom Corporation", "Mellanox Technologies",
            "Samsung Electronics Co Ltd", "HighPoint Technologies, Inc.", "Renesas Technology Corp.",
            "Matrox Electronics Systems Ltd.", "Dell", "Micron Technology Inc", "Micron/Crucial Technology",
            "KIOXIA Corporation", "Toshiba Corporation", "Western Digital", "Sandisk Corp",
            "Seagate Technology PLC", "Solidigm", "SK hynix", "Kingston Technology Company, Inc.",
            "Phison Electronics Corporation", "Silicon Motion, Inc.", "Marvell Technology Group Ltd.",
            "ASPEED Technology, Inc.", "Xilinx Corporation", "Altera Corporation",
            "Huawei Technologies Co., Ltd.", "Hewlett-Packard Company", "Hewlett Packard Enterprise",
            "Super Micro Computer Inc", "ASUSTeK Computer Inc.", "Lenovo", "Cisco Systems Inc",
            "Red Hat, Inc.", "Solarflare Communications", "Chelsio Communications Inc", "QLogic Corp.",
            "Emulex Corporation", "Realtek Semiconductor Co., Ltd.", "Texas Instruments",
            "ASMedia Technology Inc.", "Pericom Semiconductor", "Microsemi / PMC / IDT",
            "Microchip Technology / SMSC", "Cavium, Inc.", "Habana Labs Ltd.", "Google, Inc.",
            "Amazon.com, Inc.", "Aquantia Corp.", "Netronome Systems, Inc.", "Eideticom, Inc",
            "Ampere Computing, LLC", "Liqid Inc.", "Fungible", "Graphcore Ltd", "IBM")
            .stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();

    private LspciNames() {
    }

    /**
     * classCode - the class code for a class name lspci printed.
     * Return: (base class << 8) | subclass, or null when the name is not a pci.ids subclass name.
     */
    static Integer classCode(String name) {
        return CLASSES.get(name);
    }

    /**
     * knownVendor - the known vendor name that {@code text} starts with, followed by a space.
     * Return: the vendor name, or null when none of the known vendors matches.
     */
    static String knownVendor(String text) {
        for (String v : VENDORS) {
            if (text.startsWith(v + " ")) {
                return v;
            }
        }
        return null;
    }
}
