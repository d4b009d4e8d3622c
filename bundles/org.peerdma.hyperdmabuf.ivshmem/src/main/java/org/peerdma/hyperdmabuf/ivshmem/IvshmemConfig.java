package org.peerdma.hyperdmabuf.ivshmem;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(id = "org.peerdma.hyperdmabuf.ivshmem", name = "hyper_dmabuf_ivshmem",
        description = "hyper_dmabuf's shared-memory backend")
public @interface IvshmemConfig {
    @AttributeDefinition(description = "Name of the shared-memory device the toolstack gave this domain (load time)")
    String region() default "hyper_dmabuf";
}
