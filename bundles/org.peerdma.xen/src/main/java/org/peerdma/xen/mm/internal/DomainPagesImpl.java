package org.peerdma.xen.mm.internal;

import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.module.ModuleUsage;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.mm.DomainPages;

/** First free gfn upward; pages are zeroed when handed out. */
@Component(service = {DomainPages.class, ModuleUsage.class})
public class DomainPagesImpl implements DomainPages, ModuleUsage {
    @Reference
    Hypercalls hv;

    private final BitSet used = new BitSet();
    private long inUse;

    public DomainPagesImpl() {
    }

    /** For tests outside OSGi. */
    public DomainPagesImpl(Hypercalls hv) {
        this.hv = hv;
    }

    @Override
    public synchronized long[] alloc(int count, String owner) {
        if (count < 0) {
            throw KernelException.einval("%d pages", count);
        }
        if (count > freePages()) {
            return null;
        }
        long[] out = new long[count];
        int at = RESERVED;
        for (int i = 0; i < count; i++) {
            at = used.nextClearBit(at);
            used.set(at);
            out[i] = at;
            ByteBuffer p = hv.page(at);
            for (int off = 0; off < p.capacity(); off += 8) {
                p.putLong(off, 0L);
            }
        }
        inUse += count;
        return out;
    }

    @Override
    public synchronized void free(long[] gfns) {
        for (long g : gfns) {
            if (g < RESERVED || g >= hv.nrPages() || !used.get((int) g)) {
                throw KernelException.einval("gfn %d is not an allocated page (double free?)", g);
            }
        }
        for (long g : gfns) {
            used.clear((int) g);
        }
        inUse -= gfns.length;
    }

    @Override
    public synchronized ByteBuffer page(long gfn) {
        if (gfn < RESERVED || gfn >= hv.nrPages() || !used.get((int) gfn)) {
            throw KernelException.einval("gfn %d is not an allocated page", gfn);
        }
        return hv.page(gfn);
    }

    @Override
    public synchronized long freePages() {
        return hv.nrPages() - RESERVED - inUse;
    }

    @Override
    public synchronized long usedPages() {
        return inUse;
    }

    @Override
    public List<String> holders() {
        long n = usedPages();
        return n == 0 ? List.of() : List.of(n + " page(s) allocated");
    }
}
