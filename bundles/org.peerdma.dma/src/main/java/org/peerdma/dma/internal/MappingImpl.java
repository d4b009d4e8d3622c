package org.peerdma.dma.internal;

import java.util.List;

import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.SgEntry;
import org.peerdma.dma.spi.DmaOps;
import org.peerdma.pci.PciDevice;

/** A live mapping and the ops that made it. */
final class MappingImpl implements DmaMapping {
    final PciDevice dev;
    final String kind;
    final List<SgEntry> entries;
    final DmaDirection dir;
    final DmaOps ops;
    final String opsName;
    /** "live", then "unmapped" or "revoked" (and "revoked" may become "unmapped" when its owner unmaps it). */
    final java.util.concurrent.atomic.AtomicReference<String> state = new java.util.concurrent.atomic.AtomicReference<>("live");

    MappingImpl(PciDevice dev, String kind, List<SgEntry> entries, DmaDirection dir, DmaOps ops, String opsName) {
        this.dev = dev;
        this.kind = kind;
        this.entries = List.copyOf(entries);
        this.dir = dir;
        this.ops = ops;
        this.opsName = opsName;
    }

    @Override
    public PciDevice device() {
        return dev;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public List<SgEntry> entries() {
        return entries;
    }

    @Override
    public DmaDirection direction() {
        return dir;
    }

    @Override
    public String opsName() {
        return opsName;
    }

    @Override
    public boolean isLive() {
        return "live".equals(state.get());
    }

    @Override
    public String toString() {
        SgEntry e = entries.get(0);
        return String.format("%s %s %s dma %#x+%d via %s (%s)", dev.name(), kind, dir, e.dmaAddress(), e.dmaLength(),
                opsName, state.get());
    }
}
