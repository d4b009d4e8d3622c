package org.peerdma.udmabuf.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** udmabuf's module parameters (mode 0644: writable while loaded). */
@ObjectClassDefinition(id = UdmabufConfig.PID, name = "udmabuf")
@interface UdmabufConfig {
    String PID = "org.peerdma.udmabuf";

    @AttributeDefinition(description = "Max # of entries in udmabuf_create_list", min = "1")
    int list__limit() default 1024;

    @AttributeDefinition(description = "Max size of a dmabuf, in megabytes", min = "1")
    int size__limit__mb() default 64;
}
