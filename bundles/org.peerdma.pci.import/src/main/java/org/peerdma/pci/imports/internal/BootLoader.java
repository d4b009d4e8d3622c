package org.peerdma.pci.imports.internal;

import java.nio.file.Path;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Boots the PCI core on a machine when it comes up empty: this host's sysfs when readable, else
 * the sample, or what configuration names. A failing source is reported and the sample used, so
 * the runtime always starts with something to look at.
 */
@Component(immediate = true, configurationPid = BootConfig.PID)
@Designate(ocd = BootConfig.class)
public class BootLoader {
    private static final Logger LOG = LoggerFactory.getLogger("pci.boot");

    @Reference
    PciCore core;

    @Reference
    TopologyIO io;

    @Activate
    void activate(BootConfig config, BundleContext ctx) {
        if (!core.machine().devices().isEmpty()) {
            return;
        }
        String what = config.topology();
        String prop = ctx.getProperty("peerdma.topology");
        if ("auto".equals(what) && prop != null && !prop.isBlank()) {
            what = prop.strip();
        }
        if ("none".equals(what)) {
            LOG.info("no machine loaded at boot (topology=none)");
            return;
        }
        MachineDTO m;
        try {
            m = switch (what) {
                case "sample" -> io.sample();
                case "host" -> io.host();
                case "auto" -> hostOrSample();
                default -> io.read(Path.of(what), config.format());
            };
        } catch (KernelException ex) {
            LOG.error("cannot boot on '{}': {}; booting the sample machine instead", what, ex.getMessage());
            m = io.sample();
        }
        core.load(m);
    }

    private MachineDTO hostOrSample() {
        try {
            return io.host();
        } catch (KernelException ex) {
            LOG.info("host PCI topology not usable ({}); booting the sample machine", ex.getMessage());
            return io.sample();
        }
    }
}
