package org.peerdma.dmabuf.importers.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.DmaBufImporters;
import org.peerdma.pci.PciDevice;

import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.peerdma.p2pdma.DeviceDma;

/** The importer drivers. */
@Component(service = DmaBufImporters.class)
public class ImportersImpl implements DmaBufImporters {
    @Reference
    DmaBufCore core;

    /** The devices' DMA engines (p2pdma module); without it importers map but cannot move bytes. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile DeviceDma deviceDma;

    public ImportersImpl() {
    }

    /** For tests outside OSGi. */
    public ImportersImpl(DmaBufCore core) {
        this.core = core;
    }

    /** For tests outside OSGi, with device-side DMA. */
    public ImportersImpl(DmaBufCore core, DeviceDma deviceDma) {
        this.core = core;
        this.deviceDma = deviceDma;
    }

    @Override
    public DmaBufImporter rdmaNic(PciDevice dev) {
        return new ImporterImpl(core, dev, true, () -> deviceDma);
    }

    @Override
    public DmaBufImporter nvme(PciDevice dev) {
        return new ImporterImpl(core, dev, false, () -> deviceDma);
    }
}
