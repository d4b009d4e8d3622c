package org.peerdma.dmabuf.core.internal;

import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.ImporterOps;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.p2pdma.DeviceNode;

/** struct dma_buf_attachment. */
final class AttachImpl implements DmaBufAttachment {
    final BufImpl buf;
    final DeviceNode dev;
    final ImporterOps importerOps;
    final Object importerPriv;
    volatile boolean peer2peer;
    volatile Object priv;
    /** Mappings made and not yet unmapped (the model tracks them to unmap on detach and report leaks). */
    final java.util.List<SgTable> live = new java.util.concurrent.CopyOnWriteArrayList<>();

    AttachImpl(BufImpl buf, DeviceNode dev, ImporterOps importerOps, Object importerPriv) {
        this.buf = buf;
        this.dev = dev;
        this.importerOps = importerOps;
        this.importerPriv = importerPriv;
        this.peer2peer = importerOps != null && importerOps.allowPeer2peer();
    }

    @Override
    public DmaBuf buf() {
        return buf;
    }

    @Override
    public DeviceNode device() {
        return dev;
    }

    @Override
    public boolean peer2peer() {
        return peer2peer;
    }

    @Override
    public void setPeer2peer(boolean p2p) {
        peer2peer = p2p;
    }

    @Override
    public boolean dynamic() {
        return importerOps != null;
    }

    @Override
    public ImporterOps importerOps() {
        return importerOps;
    }

    @Override
    public Object importerPriv() {
        return importerPriv;
    }

    @Override
    public Object priv() {
        return priv;
    }

    @Override
    public void setPriv(Object p) {
        priv = p;
    }

    @Override
    public String toString() {
        return dev.name() + (dynamic() ? " dynamic" : " static") + (peer2peer ? " p2p" : "");
    }
}
