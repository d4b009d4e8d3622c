package org.peerdma.p2pdma.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.peerdma.mm.Page;
import org.peerdma.p2pdma.P2pMapping;

/** A p2pmem/allocate user mapping; closing puts every page (each returns to the pool at 0). */
final class MappingImpl implements P2pMapping {
    static final String HOLDER = "p2pmem mmap";
    private final ProviderState owner;
    private final long virt;
    private final long length;
    private final List<Page> pages;
    private final AtomicBoolean closed = new AtomicBoolean();

    MappingImpl(ProviderState owner, long virt, long length, List<Page> pages) {
        this.owner = owner;
        this.virt = virt;
        this.length = length;
        this.pages = List.copyOf(pages);
    }

    @Override
    public long virt() {
        return virt;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public List<Page> pages() {
        return pages;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            owner.mappings.remove(this);
            for (Page p : pages) {
                p.put(HOLDER);
            }
        }
    }
}
