package org.peerdma.mm.dmirror.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.dmirror.Dmirror;
import org.peerdma.mm.dmirror.DmirrorDevices;
import org.peerdma.mm.vm.Hmm;

/** The test_hmm module. */
@Component(service = DmirrorDevices.class)
public class DmirrorDevicesImpl implements DmirrorDevices {
    @Reference
    ZoneDevice zone;
    @Reference
    Hmm hmm;
    @Reference
    org.peerdma.mm.vm.MmProcesses procs;

    public DmirrorDevicesImpl() {
    }

    /** For tests outside OSGi. */
    public DmirrorDevicesImpl(ZoneDevice zone, Hmm hmm, org.peerdma.mm.vm.MmProcesses procs) {
        this.zone = zone;
        this.hmm = hmm;
        this.procs = procs;
    }

    @Override
    public Dmirror create(String name, long base, int pages) {
        return new DmirrorImpl(name, zone, hmm, procs, base, pages);
    }

    @Override
    public void destroy(Dmirror d) {
        ((DmirrorImpl) d).destroy();
    }
}
