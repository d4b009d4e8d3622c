package org.peerdma.arch.arm64.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.dma.spi.ArchPolicy;
import org.peerdma.pci.PciMachine;

/**
 * The arm64 arch's part in p2pdma (drivers/pci/p2pdma.c).
 *
 * <p>cpu_supports_p2pdma() is false on arm64: its only rule (AMD family &gt;= 0x17) is compiled
 * under {@code #ifdef CONFIG_X86}, so every other arch returns false and host-bridge paths
 * depend on the whitelist alone.
 *
 * <p>The whitelist (pci_p2pdma_whitelist[]) is one table for all arches. Its newest form has
 * rows for arm64 platforms: NVIDIA's CPUs (10de:2f95-2f98, "Nvidia CPUs" in the table's
 * comment) and Google SoCs (1ae0, any device),
 * so {@code host_bridge_whitelist=true} models such a platform; the default, false, models
 * arm64 machines whose host bridge matches no row.
 */
@Component(service = ArchPolicy.class, configurationPid = Arm64PolicyConfig.PID,
        property = ArchPolicy.ARCH + "=" + Arm64Policy.ARCH_NAME)
@Designate(ocd = Arm64PolicyConfig.class)
public class Arm64Policy implements ArchPolicy {
    static final String ARCH_NAME = "arm64";

    private volatile boolean whitelist;

    @Activate
    @Modified
    void configure(Arm64PolicyConfig c) {
        whitelist = c.host__bridge__whitelist();
    }

    @Override
    public String arch() {
        return ARCH_NAME;
    }

    /** cpu_supports_p2pdma(): always false, the CPU rule is x86-only (CONFIG_X86). */
    @Override
    public boolean cpuSupportsP2pdma(PciMachine machine) {
        return false;
    }

    /** @return the {@code host_bridge_whitelist} parameter: whether a whitelist row can match this platform. */
    @Override
    public boolean hostBridgeWhitelist() {
        return whitelist;
    }
}
