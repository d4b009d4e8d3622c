package org.peerdma.arch.arm64.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Firmware description the arm64 direct DMA ops work from: the PCIe host bridge's
 * {@code dma-ranges} and the memory map. Both are boot-time facts (device tree, memblock).
 *
 * <p>Method names use "__" because DS and metatype map a single "_" to ".": {@code dma__ranges()}
 * is the property {@code dma_ranges}, the name modprobe/modparam and the bundle's
 * {@code peerdma.module} capability use.
 */
@ObjectClassDefinition(id = Arm64DmaConfig.PID, name = "arm64 direct DMA (dma-ranges)",
        description = "Inbound window of the PCIe host bridge and System RAM, as the device tree gives them.")
@interface Arm64DmaConfig {
    String PID = "org.peerdma.arch.arm64.dma";
    String DEFAULT_DMA_RANGES = "0x0:0x80000000:0x80000000";
    String DEFAULT_SYSTEM_RAM = "0x0-0x7fffffff,0x100000000-0x47fffffff";

    @AttributeDefinition(description = "dma-ranges of the host bridge: cpuStart:busStart:size[,cpuStart:busStart:size...], "
            + "hex. Each entry makes size bytes of CPU physical memory at cpuStart appear to devices at busStart "
            + "(struct bus_dma_region). Empty: no dma-ranges (bus address = CPU address, no bus limit). Default: "
            + "the first 2 GiB of CPU memory at bus 0x80000000, an offset inbound window of the kind BCM2711's "
            + "/soc bus has (0x0:0xc0000000:0x40000000). BCM2712's (Raspberry Pi 5) PCIe controllers: "
            + "0x0:0x1000000000:0x1000000000. Overlapping entries are refused (-EINVAL).")
    String dma__ranges() default DEFAULT_DMA_RANGES;

    @AttributeDefinition(description = "System RAM (memblock memory): start-end[,start-end...], hex, inclusive. "
            + "dma_direct_supported() uses its first byte (memblock_start_of_DRAM) and last page (max_pfn). "
            + "The default is the memremap module's default memory map.")
    String system__ram() default DEFAULT_SYSTEM_RAM;
}
