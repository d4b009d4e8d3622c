package org.peerdma.p2pdma.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/** Module parameters of p2pdma. */
@ObjectClassDefinition(id = P2pdmaConfig.PID, name = "p2pdma",
        description = "Which kernel's p2pdma.c rules decide peer-to-peer DMA.")
@interface P2pdmaConfig {
    String PID = "org.peerdma.p2pdma";

    @AttributeDefinition(description = "rule set: newest, v5.x, v5.2 or v4.20 (may change while loaded)",
            options = {@Option(value = "newest", label = "newest (v7.x)"), @Option(value = "v5.x", label = "v5.1x"),
                @Option(value = "v5.2", label = "v5.2"), @Option(value = "v4.20", label = "v4.20")})
    String kernel__version() default "newest";

    @AttributeDefinition(description = "how long releasing a provider waits for outstanding p2pmem before it "
            + "warns and lets the teardown finish when the memory is returned (ms)", min = "0")
    int release__wait__ms() default 5000;
}
