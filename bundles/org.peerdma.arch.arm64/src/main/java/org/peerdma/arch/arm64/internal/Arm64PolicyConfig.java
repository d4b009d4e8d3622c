package org.peerdma.arch.arm64.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Parameters of the arm64 p2pdma policy.
 *
 * <p>Method names use "__" because DS and metatype map a single "_" to ".": {@code host__bridge__whitelist()}
 * is the property {@code host_bridge_whitelist}, the name modprobe/modparam and the bundle's
 * {@code peerdma.module} capability use.
 */
@ObjectClassDefinition(id = Arm64PolicyConfig.PID, name = "arm64 p2pdma policy",
        description = "What the arm64 arch contributes to p2pdma's host-bridge decision.")
@interface Arm64PolicyConfig {
    String PID = "org.peerdma.arch.arm64";

    @AttributeDefinition(description = "Whether pci_p2pdma_whitelist is consulted for paths through the host "
            + "bridge. false (default): no whitelist row applies to this platform, so P2P that crosses the host "
            + "bridge is refused (arm64 has no CPU rule either). true: the table is consulted, so a host bridge "
            + "that matches one of its rows is allowed; the newest kernel's table has arm64 rows, NVIDIA CPUs "
            + "(10de:2f95, 10de:2f96, 10de:2f97, 10de:2f98) and Google SoCs (1ae0:any device). Boot-time: the "
            + "table is compiled into the kernel.")
    boolean host__bridge__whitelist() default false;
}
