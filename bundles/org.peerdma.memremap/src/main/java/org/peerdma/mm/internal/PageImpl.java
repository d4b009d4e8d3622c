package org.peerdma.mm.internal;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;

/** A ZONE_DEVICE struct page with real contents. */
final class PageImpl implements Page {
    final PgmapState state;
    final long pfn;
    final AtomicInteger count;
    final Map<String, AtomicInteger> holders = new ConcurrentHashMap<>();
    private volatile ByteBuffer data;

    PageImpl(PgmapState state, long pfn) {
        this.state = state;
        this.pfn = pfn;
        // memmap_init_zone_device: PRIVATE, COHERENT and P2PDMA pages start at 0 and are set to 1
        // by whoever hands them out; the others start at 1
        MemoryType t = state.pgmap.type;
        boolean zero = t == MemoryType.DEVICE_PRIVATE || t == MemoryType.DEVICE_COHERENT || t == MemoryType.PCI_P2PDMA;
        this.count = new AtomicInteger(zero ? 0 : 1);
    }

    @Override
    public long pfn() {
        return pfn;
    }

    @Override
    public DevPagemap pgmap() {
        return state.pgmap;
    }

    @Override
    public int refcount() {
        return count.get();
    }

    @Override
    public void get(String holder) {
        if (state.owner.stateOf(state.pgmap) != state) {
            throw new KernelException(Errno.ENXIO, String.format("page %#x: its pagemap %s is gone", pfn,
                    state.pgmap.name));
        }
        int v = count.incrementAndGet();
        if (v == 1) {
            count.decrementAndGet();
            throw KernelException.einval("get_page on free page %#x (refcount 0): use init first", pfn);
        }
        holders.computeIfAbsent(holder, h -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void init(String holder) {
        if (!count.compareAndSet(0, 1)) {
            throw new KernelException(Errno.EBUSY, String.format("page %#x is in use (refcount %d)", pfn, count.get()));
        }
        MemoryType t = state.pgmap.type;
        if (t == MemoryType.DEVICE_PRIVATE || t == MemoryType.DEVICE_COHERENT) {
            if (!state.tryGetLive(null)) {
                count.set(0);
                throw new KernelException(Errno.ENXIO, String.format("page %#x: pagemap %s is being torn down", pfn,
                        state.pgmap.name));
            }
        }
        holders.computeIfAbsent(holder, h -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void put(String holder) {
        AtomicInteger c = holders.get(holder);
        if (c == null || c.get() <= 0) {
            throw KernelException.einval("%s holds no reference on page %#x", holder, pfn);
        }
        if (c.decrementAndGet() == 0) {
            holders.remove(holder, c);
        }
        int v = count.decrementAndGet();
        if (v < 0) {
            count.incrementAndGet();
            throw KernelException.einval("page %#x reference count underflow", pfn);
        }
        if (v == 0) {
            freed();
        }
    }

    /** free_zone_device_folio (newest): what happens at refcount 0, by type. */
    private void freed() {
        DevPagemap pg = state.pgmap;
        switch (pg.type) {
            case DEVICE_PRIVATE, DEVICE_COHERENT -> {
                if (pg.ops != null) {
                    pg.ops.pageFree(this);
                }
                state.put(1, null);
            }
            case GENERIC -> count.set(1);
            case FS_DAX -> {
                // wake_up_var: nobody waits in this model
            }
            case PCI_P2PDMA -> {
                if (pg.ops != null) {
                    pg.ops.pageFree(this);
                }
            }
            default -> throw new IllegalStateException("unknown memory type " + pg.type);
        }
    }

    @Override
    public ByteBuffer data() {
        ByteBuffer d = data;
        if (d == null) {
            synchronized (this) {
                d = data;
                if (d == null) {
                    d = ByteBuffer.allocateDirect(PAGE_SIZE);
                    data = d;
                }
            }
        }
        return d.duplicate().clear();
    }

    @Override
    public String toString() {
        return String.format("page %#x (%s, refcount %d)", pfn, state.pgmap.name, count.get());
    }
}
