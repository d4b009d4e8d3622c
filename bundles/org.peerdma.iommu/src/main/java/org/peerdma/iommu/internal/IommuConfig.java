package org.peerdma.iommu.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/** Module parameters of the IOMMU: the kernel's iommu command-line options and the hardware's aperture. */
@ObjectClassDefinition(id = IommuConfig.PID, name = "IOMMU",
        description = "IOMMU mode, aperture and DMA segment limits. mode, iova_bits and forcedac are boot-time "
                + "settings: they take effect when the module is loaded.")
@interface IommuConfig {
    String PID = "org.peerdma.iommu";
    // A double underscore in a method name is one underscore in the property and attribute id
    // (iova__bits is iova_bits), a single one would become a dot.

    @AttributeDefinition(description = "translated: DMA domains (the default with an IOMMU); identity: passthrough "
            + "default domains (iommu.passthrough=1, iommu=pt); off: no IOMMU (intel_iommu=off)",
            options = {@Option(value = "translated", label = "translated"),
                @Option(value = "identity", label = "identity (iommu.passthrough=1)"),
                @Option(value = "off", label = "off")})
    String mode() default "translated";

    @AttributeDefinition(description = "Width of the IOVA space the IOMMU translates (domain aperture): "
            + "39, 48 or 57 on VT-d; 16..64 accepted", min = "16", max = "64")
    int iova__bits() default 48;

    @AttributeDefinition(description = "iommu.forcedac=1: do not try 32-bit IOVAs first for PCI devices")
    boolean forcedac() default false;

    @AttributeDefinition(description = "dma_get_max_seg_size() of every device: the longest DMA segment "
            + "iommu_dma_map_sg merges scatterlist entries into (pci_device_add sets 65536; drivers raise it)", min = "4096")
    int max__seg__size() default 65536;
}
