package org.peerdma.p2pdma.internal;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.peerdma.mm.DevPagemap;
import org.peerdma.p2pdma.MapType;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;

/** struct pci_p2pdma of one provider. */
final class ProviderState {
    final PciDevice pdev;
    final PciDeviceRef ref;
    final GenPool pool = new GenPool();
    final List<DevPagemap> pgmaps = new CopyOnWriteArrayList<>();
    /** map_types, keyed (domain &lt;&lt; 16) | pci_dev_id(client). */
    final Map<Integer, MapType> mapTypes = new ConcurrentHashMap<>();
    final List<MappingImpl> mappings = new CopyOnWriteArrayList<>();
    /** The p2pmem/allocate file's user mappings (its i_mmap): how to zap each one's ptes at teardown. */
    final List<Runnable> userMappings = new CopyOnWriteArrayList<>();
    volatile long cacheGeneration;
    volatile boolean published;

    ProviderState(PciDevice pdev, PciDeviceRef ref) {
        this.pdev = pdev;
        this.ref = ref;
    }

    static int key(PciDevice client) {
        return (client.bdf().domain() << 16) | client.bdf().devId();
    }
}
