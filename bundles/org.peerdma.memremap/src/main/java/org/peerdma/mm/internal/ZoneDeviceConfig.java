package org.peerdma.mm.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Module parameters of memremap. */
@ObjectClassDefinition(id = ZoneDeviceConfig.PID, name = "memremap (ZONE_DEVICE)",
        description = "Physical memory map and teardown diagnostics of ZONE_DEVICE.")
@interface ZoneDeviceConfig {
    String PID = "org.peerdma.memremap";

    @AttributeDefinition(description = "System RAM ranges (IORESOURCE_SYSTEM_RAM): start-end[,start-end...], hex; "
            + "memremap_pages refuses ranges that intersect them (-ENXIO)")
    String system__ram() default "0x0-0x7fffffff,0x100000000-0x47fffffff";

    @AttributeDefinition(description = "MAX_PHYSMEM_BITS: mhp_range_allowed() refuses ranges above 2^bits (-EINVAL)", min = "32",
            max = "64")
    int max__physmem__bits() default 46;

    @AttributeDefinition(description = "memunmap_pages warns with the page holders every this many milliseconds", min = "1")
    int teardown__warn__ms() default 10000;
}
