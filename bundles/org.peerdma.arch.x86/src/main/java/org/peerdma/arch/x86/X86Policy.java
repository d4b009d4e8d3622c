package org.peerdma.arch.x86;

import org.osgi.service.component.annotations.Component;
import org.peerdma.dma.spi.ArchPolicy;
import org.peerdma.pci.CpuInfo;
import org.peerdma.pci.PciMachine;

/**
 * x86's part in p2pdma: cpu_supports_p2pdma() is true for AMD family 0x17 (Zen) and later, read
 * from the machine's boot CPU (cpu_data(0)); crossing a host bridge is otherwise up to the
 * whitelist.
 */
@Component(property = {ArchPolicy.ARCH + "=x86_64", "service.ranking:Integer=10"})
public class X86Policy implements ArchPolicy {
    @Override
    public String arch() {
        return "x86_64";
    }

    @Override
    public boolean cpuSupportsP2pdma(PciMachine machine) {
        CpuInfo c = machine.cpu();
        return c.isAmd() && c.family() >= 0x17;
    }

    @Override
    public boolean hostBridgeWhitelist() {
        return true;
    }
}
