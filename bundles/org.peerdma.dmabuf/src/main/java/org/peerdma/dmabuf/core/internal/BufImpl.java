package org.peerdma.dmabuf.core.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.resv.DmaResv;

/** struct dma_buf. */
final class BufImpl implements DmaBuf {
    private static final AtomicLong INODES = new AtomicLong(1);
    final DmaBufOps ops;
    final String exporter;
    final long size;
    final Object priv;
    final DmaResv resv;
    final long ino = INODES.getAndIncrement();
    final AtomicInteger refs = new AtomicInteger(1);
    final List<AttachImpl> attachments = new CopyOnWriteArrayList<>();
    volatile String name = "";
    int vmapCount;
    BufMap vmapPtr;

    BufImpl(DmaBufOps ops, String exporter, long size, Object priv, DmaResv resv) {
        this.ops = ops;
        this.exporter = exporter;
        this.size = size;
        this.priv = priv;
        this.resv = resv;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String exporter() {
        return exporter;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DmaResv resv() {
        return resv;
    }

    @Override
    public Object priv() {
        return priv;
    }

    @Override
    public int refcount() {
        return refs.get();
    }

    @Override
    public List<DmaBufAttachment> attachments() {
        return List.copyOf(attachments);
    }

    @Override
    public synchronized int vmapCount() {
        return vmapCount;
    }

    @Override
    public long ino() {
        return ino;
    }

    @Override
    public String toString() {
        return String.format("dmabuf %d %s size %d refs %d attach %d%s", ino, exporter, size, refs.get(),
                attachments.size(), name.isEmpty() ? "" : " name " + name);
    }
}
