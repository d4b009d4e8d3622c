package org.peerdma.pci.shell;

import java.util.HashMap;
import java.util.Map;

/**
 * The PCI class, sub-class and programming-interface names lspci prints, from the "C" section
 * of pci.ids (version 2023.04.10). Keys: "cc" base class, "ccss" sub-class, "ccsspp" prog-if.
 */
final class PciClassNames {
    private static final String TABLE = """
            00 Unclassified device
            0000 Non-VGA unclassified device
            0001 VGA compatible unclassified device
            0005 Image coprocessor
            01 Mass storage controller
            0100 SCSI storage controller
            0101 IDE interface
            010100 ISA Compatibility mode-only controller
            010105 PCI native mode-only controller
            01010a ISA Compatibility mode controller, supports both channels switched to PCI native mode
            01010f PCI native mode controller, supports both channels switched to ISA compatibility mode
            010180 ISA Compatibility mode-only controller, supports bus mastering
            010185 PCI native mode-only controller, supports bus mastering
            01018a ISA Compatibility mode controller, supports both channels switched to PCI native mode, supports bus mastering
            01018f PCI native mode controller, supports both channels switched to ISA compatibility mode, supports bus mastering
            0102 Floppy disk controller
            0103 IPI bus controller
            0104 RAID bus controller
            0105 ATA controller
            010520 ADMA single stepping
            010530 ADMA continuous operation
            0106 SATA controller
            010600 Vendor specific
            010601 AHCI 1.0
            010602 Serial Storage Bus
            0107 Serial Attached SCSI controller
            010701 Serial Storage Bus
            0108 Non-Volatile memory controller
            010801 NVMHCI
            010802 NVM Express
            0109 Universal Flash Storage controller
            010900 Vendor specific
            010901 UFSHCI
            0180 Mass storage controller
            02 Network controller
            0200 Ethernet controller
            0201 Token ring network controller
            0202 FDDI network controller
            0203 ATM network controller
            0204 ISDN controller
            0205 WorldFip controller
            0206 PICMG controller
            0207 Infiniband controller
            0208 Fabric controller
            0280 Network controller
            03 Display controller
            0300 VGA compatible controller
            030000 VGA controller
            030001 8514 controller
            0301 XGA compatible controller
            0302 3D controller
            0380 Display controller
            04 Multimedia controller
            0400 Multimedia video controller
            0401 Multimedia audio controller
            0402 Computer telephony device
            0403 Audio device
            0480 Multimedia controller
            05 Memory controller
            0500 RAM memory
            0501 FLASH memory
            0502 CXL
            050200 CXL Memory Device - vendor specific
            050210 CXL Memory Device (CXL 2.x)
            0580 Memory controller
            06 Bridge
            0600 Host bridge
            0601 ISA bridge
            0602 EISA bridge
            0603 MicroChannel bridge
            0604 PCI bridge
            060400 Normal decode
            060401 Subtractive decode
            0605 PCMCIA bridge
            0606 NuBus bridge
            0607 CardBus bridge
            0608 RACEway bridge
            060800 Transparent mode
            060801 Endpoint mode
            0609 Semi-transparent PCI-to-PCI bridge
            060940 Primary bus towards host CPU
            060980 Secondary bus towards host CPU
            060a InfiniBand to PCI host bridge
            0680 Bridge
            07 Communication controller
            0700 Serial controller
            070000 8250
            070001 16450
            070002 16550
            070003 16650
            070004 16750
            070005 16850
            070006 16950
            0701 Parallel controller
            070100 SPP
            070101 BiDir
            070102 ECP
            070103 IEEE1284
            0701fe IEEE1284 Target
            0702 Multiport serial controller
            0703 Modem
            070300 Generic
            070301 Hayes/16450
            070302 Hayes/16550
            070303 Hayes/16650
            070304 Hayes/16750
            0704 GPIB controller
            0705 Smard Card controller
            0780 Communication controller
            08 Generic system peripheral
            0800 PIC
            080000 8259
            080001 ISA PIC
            080002 EISA PIC
            080010 IO-APIC
            080020 IO(X)-APIC
            0801 DMA controller
            080100 8237
            080101 ISA DMA
            080102 EISA DMA
            0802 Timer
            080200 8254
            080201 ISA Timer
            080202 EISA Timers
            080203 HPET
            0803 RTC
            080300 Generic
            080301 ISA RTC
            0804 PCI Hot-plug controller
            0805 SD Host controller
            0806 IOMMU
            0880 System peripheral
            0899 Timing Card
            089901 TAP Timing Card
            09 Input device controller
            0900 Keyboard controller
            0901 Digitizer Pen
            0902 Mouse controller
            0903 Scanner controller
            0904 Gameport controller
            090400 Generic
            090410 Extended
            0980 Input device controller
            0a Docking station
            0a00 Generic Docking Station
            0a80 Docking Station
            0b Processor
            0b00 386
            0b01 486
            0b02 Pentium
            0b10 Alpha
            0b20 Power PC
            0b30 MIPS
            0b40 Co-processor
            0c Serial bus controller
            0c00 FireWire (IEEE 1394)
            0c0000 Generic
            0c0010 OHCI
            0c01 ACCESS Bus
            0c02 SSA
            0c03 USB controller
            0c0300 UHCI
            0c0310 OHCI
            0c0320 EHCI
            0c0330 XHCI
            0c0340 USB4 Host Interface
            0c0380 Unspecified
            0c03fe USB Device
            0c04 Fibre Channel
            0c05 SMBus
            0c06 InfiniBand
            0c07 IPMI Interface
            0c0700 SMIC
            0c0701 KCS
            0c0702 BT (Block Transfer)
            0c08 SERCOS interface
            0c09 CANBUS
            0c80 Serial bus controller
            0d Wireless controller
            0d00 IRDA controller
            0d01 Consumer IR controller
            0d10 RF controller
            0d11 Bluetooth
            0d12 Broadband
            0d20 802.1a controller
            0d21 802.1b controller
            0d80 Wireless controller
            0e Intelligent controller
            0e00 I2O
            0f Satellite communications controller
            0f01 Satellite TV controller
            0f02 Satellite audio communication controller
            0f03 Satellite voice communication controller
            0f04 Satellite data communication controller
            10 Encryption controller
            1000 Network and computing encryption device
            1010 Entertainment encryption device
            1080 Encryption controller
            11 Signal processing controller
            1100 DPIO module
            1101 Performance counters
            1110 Communication synchronizer
            1120 Signal processing management
            1180 Signal processing controller
            12 Processing accelerators
            1200 Processing accelerators
            1201 SNIA Smart Data Accelerator Interface (SDXI) controller
            13 Non-Essential Instrumentation
            40 Coprocessor
            ff Unassigned class
            """;
    private static final Map<String, String> NAMES = new HashMap<>();

    static {
        for (String line : TABLE.split("\n")) {
            String l = line.strip();
            if (!l.isEmpty()) {
                int sp = l.indexOf(' ');
                NAMES.put(l.substring(0, sp), l.substring(sp + 1));
            }
        }
    }

    private PciClassNames() {
    }

    /** @return the base class name ("Bridge"), or null when pci.ids has none. */
    static String baseClass(int base) {
        return NAMES.get(String.format("%02x", base & 0xff));
    }

    /** @return the sub-class name for a 16-bit class ("PCI bridge" for 0x0604), or null. */
    static String subClass(int cls16) {
        return NAMES.get(String.format("%04x", cls16 & 0xffff));
    }

    /** @return the programming interface name ("NVM Express" for 0x0108, 0x02), or null. */
    static String progIf(int cls16, int progIf) {
        return NAMES.get(String.format("%04x%02x", cls16 & 0xffff, progIf & 0xff));
    }
}
