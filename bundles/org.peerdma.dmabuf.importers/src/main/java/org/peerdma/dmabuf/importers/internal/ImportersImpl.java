package org.peerdma.dmabuf.importers.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.importers.DmaBufImporter;
import org.peerdma.dmabuf.importers.DmaBufImporters;
import org.peerdma.pci.PciDevice;

/** The importer drivers. */
@Component(service = DmaBufImporters.class)
public class ImportersImpl implements DmaBufImporters {
    @Reference
    DmaBufCore core;

    public ImportersImpl() {
    }

    /** For tests outside OSGi. */
    public ImportersImpl(DmaBufCore core) {
        this.core = core;
    }

    @Override
    public DmaBufImporter rdmaNic(PciDevice dev) {
        return new ImporterImpl(core, dev, true);
    }

    @Override
    public DmaBufImporter nvme(PciDevice dev) {
        return new ImporterImpl(core, dev, false);
    }
}
