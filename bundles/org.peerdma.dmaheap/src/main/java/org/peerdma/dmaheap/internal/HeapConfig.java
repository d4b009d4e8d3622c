package org.peerdma.dmaheap.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Boot parameters of the heaps (cma= on the kernel command line). */
@ObjectClassDefinition(id = HeapConfig.PID, name = "dma-buf heaps")
@interface HeapConfig {
    String PID = "org.peerdma.dmaheap";

    @AttributeDefinition(description = "size of the default CMA area in MiB (cma=), 0 for none", min = "0")
    int cma__mb() default 64;

    @AttributeDefinition(description = "name of the CMA heap (the CMA area's name)")
    String cma__name() default "reserved";

    @AttributeDefinition(description = "system RAM available to the system heap, in MiB (totalram)", min = "1")
    int totalram__mb() default 16384;
}
