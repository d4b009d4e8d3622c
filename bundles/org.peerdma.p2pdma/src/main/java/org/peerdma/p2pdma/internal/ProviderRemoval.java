package org.peerdma.p2pdma.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.pci.PciBusNotifier;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;

/**
 * The bus notifier that releases a provider when its device goes (devres on unbind/removal).
 * A whiteboard registration: the PCI core calling it does not make pci depend on p2pdma.
 */
@Component(property = "peerdma.whiteboard=true")
public class ProviderRemoval implements PciBusNotifier {
    @Reference
    P2pMem p2pmem;

    @Override
    public void deviceRemoving(PciDevice dev) {
        p2pmem.release(dev);
    }

    @Override
    public void machineLoaded(PciMachine machine) {
        for (PciDevice d : p2pmem.providers()) {
            if (d.isRemoved()) {
                p2pmem.release(d);
            }
        }
    }
}
