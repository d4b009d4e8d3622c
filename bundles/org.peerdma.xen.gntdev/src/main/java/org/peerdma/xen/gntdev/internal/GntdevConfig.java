package org.peerdma.xen.gntdev.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(id = "org.peerdma.xen.gntdev", name = "xen_gntdev", description = "gntdev module parameters")
public @interface GntdevConfig {
    @AttributeDefinition(description = "Maximum number of grants that may be mapped by one mapping request (run time)", min = "1")
    int limit() default 64 * 1024;
}
