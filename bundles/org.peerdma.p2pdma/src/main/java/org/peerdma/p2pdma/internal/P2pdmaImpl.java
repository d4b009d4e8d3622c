package org.peerdma.p2pdma.internal;

import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** p2pdma's decisions on the PCI core's loaded machine. */
@Component(service = P2pdma.class, configurationPid = P2pdmaConfig.PID)
@Designate(ocd = P2pdmaConfig.class)
public class P2pdmaImpl implements P2pdma {
    private static final Logger LOG = LoggerFactory.getLogger("p2pdma");

    @Reference
    PciCore core;

    private volatile KernelVersion version = KernelVersion.NEWEST;

    @Activate
    @Modified
    void configure(P2pdmaConfig config) {
        version = KernelVersion.parse(config.kernel_version());
        LOG.info("p2pdma rules: {}", version.label());
    }

    @Override
    public KernelVersion version() {
        return version;
    }

    @Override
    public P2pVerdict check(PciDevice provider, PciDevice client, KernelVersion v) {
        live(provider);
        live(client);
        return Calc.calc(core.machine(), provider, client, v == null ? version : v);
    }

    @Override
    public int distanceMany(PciDevice provider, List<DeviceNode> clients, boolean verbose, List<String> log) {
        return distanceMany(core, version, provider, clients, verbose, log);
    }

    /** pci_p2pdma_distance_many (reference §C4). */
    static int distanceMany(PciCore core, KernelVersion v, PciDevice provider, List<DeviceNode> clients,
            boolean verbose, List<String> log) {
        if (clients == null || clients.isEmpty()) {
            return -1;
        }
        live(provider);
        int total = 0;
        boolean notSupported = false;
        for (DeviceNode c : clients) {
            PciDevice p = c.findParentPciDev();
            if (p == null) {
                if (verbose) {
                    log.add(c.name() + ": cannot be used for peer-to-peer DMA as it is not a PCI device");
                }
                return -1;
            }
            live(p);
            P2pVerdict r = Calc.calc(core.machine(), provider, p, v);
            if (r.mapType() == MapType.NOT_SUPPORTED) {
                notSupported = true;
                if (verbose) {
                    log.addAll(r.warnings());
                }
                if (!verbose) {
                    break;
                }
            } else if (verbose) {
                log.addAll(r.warnings());
            }
            total += r.distance();
        }
        if (notSupported) {
            return -1; // every version: the -2 of v4.20/v5.2 stays inside upstream_bridge_distance
        }
        return total;
    }

    private static void live(PciDevice d) {
        if (d == null) {
            throw KernelException.einval("no device given");
        }
        if (d.isRemoved()) {
            throw KernelException.enodev("%s was removed", d.name());
        }
    }
}
