package org.peerdma.dmabuf.drivers.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dmabuf.drivers.GpuExporter;
import org.peerdma.pci.PciBusNotifier;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/**
 * The GPU driver's unbind when its device goes away (pci:remove, unplug, a new machine): its buffers
 * are revoked (importers get move_notify, their DMA mappings are torn down) and its VRAM goes back
 * to the p2pdma pool, before p2pdma's own notifier releases the provider (ranking 100 against 0), so
 * the pagemap is not held by buffers nobody can use any more.
 */
@Component(property = {"peerdma.whiteboard=true", "service.ranking:Integer=100"})
public class GpuRemoval implements PciBusNotifier {
    @Reference
    GpuExporter gpus;

    @Override
    public void deviceRemoving(PciDevice dev) {
        if (gpus.gpus().contains(dev)) {
            gpus.remove(dev);
        }
    }

    @Override
    public void machineLoaded(PciMachine machine) {
        for (PciDevice d : gpus.gpus()) {
            if (d.isRemoved()) {
                gpus.remove(d);
            }
        }
    }
}
