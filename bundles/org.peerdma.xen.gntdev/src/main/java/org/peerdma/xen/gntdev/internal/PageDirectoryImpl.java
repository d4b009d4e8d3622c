package org.peerdma.xen.gntdev.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.gntdev.Displif;
import org.peerdma.xen.gntdev.PageDirectory;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.mm.DomainPages;

/** grant_refs_for_buffer / guest_fill_page_dir of xen-front-pgdir-shbuf.c, and the backend's walk. */
@Component(service = PageDirectory.class)
public class PageDirectoryImpl implements PageDirectory {
    @Reference
    Hypercalls hv;
    @Reference
    GrantTable gnttab;
    @Reference
    DomainPages pages;

    public PageDirectoryImpl() {
    }

    /** For tests outside OSGi. */
    public PageDirectoryImpl(Hypercalls hv, GrantTable gnttab, DomainPages pages) {
        this.hv = hv;
        this.gnttab = gnttab;
        this.pages = pages;
    }

    @Override
    public Shared share(int domid, long[] dataGfns, boolean readonly) {
        if (dataGfns == null || dataGfns.length == 0) {
            throw KernelException.einval("a page directory for no pages");
        }
        int n = dataGfns.length;
        int dirCount = (int) Displif.dirPages(n);
        long[] dir = pages.alloc(dirCount, "displif page directory");
        if (dir == null) {
            throw new KernelException(Errno.ENOMEM, "no pages for a " + dirCount + "-page directory");
        }
        int[] refs = gnttab.allocReferences(dirCount + n);
        if (refs == null) {
            pages.free(dir);
            throw new KernelException(Errno.ENOSPC, "no grant references for " + (dirCount + n) + " pages");
        }
        // the directory pages first (the backend maps them read-only), then the data pages
        for (int i = 0; i < dirCount; i++) {
            gnttab.grantForeignAccessRef(refs[i], domid, dir[i], true);
        }
        for (int i = 0; i < n; i++) {
            gnttab.grantForeignAccessRef(refs[dirCount + i], domid, dataGfns[i], readonly);
        }
        // fill: gref_dir_next_page, then up to 1023 data refs; the last page links to 0
        for (int p = 0; p < dirCount; p++) {
            ByteBuffer page = pages.page(dir[p]).order(ByteOrder.LITTLE_ENDIAN);
            page.putInt(0, p + 1 < dirCount ? refs[p + 1] : 0);
            int first = p * Displif.GREFS_PER_PAGE;
            int last = Math.min(n, first + Displif.GREFS_PER_PAGE);
            for (int i = first; i < last; i++) {
                page.putInt(Displif.grefOffset(i - first), refs[dirCount + i]);
            }
        }
        return new SharedImpl(refs, dir);
    }

    private final class SharedImpl implements Shared {
        final int[] refs;
        final long[] dir;
        private boolean closed;

        SharedImpl(int[] refs, long[] dir) {
            this.refs = refs;
            this.dir = dir;
        }

        @Override
        public int firstRef() {
            return refs[0];
        }

        @Override
        public int[] refs() {
            return refs.clone();
        }

        @Override
        public long[] dirGfns() {
            return dir.clone();
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            AtomicInteger dirLeft = new AtomicInteger(dir.length);
            for (int i = 0; i < refs.length; i++) {
                Runnable release = null;
                if (i < dir.length) {
                    release = () -> {
                        if (dirLeft.decrementAndGet() == 0) {
                            pages.free(dir); // the directory pages go once the backend let go of all of them
                        }
                    };
                }
                gnttab.endForeignAccess(refs[i], release);
            }
        }
    }

    @Override
    public int[] read(int domid, int firstRef, long count) {
        if (count < 1 || count > Integer.MAX_VALUE) {
            throw KernelException.einval("a buffer of %d pages", count);
        }
        int[] out = new int[(int) count];
        int got = 0;
        int ref = firstRef;
        Set<Integer> seen = new HashSet<>();
        while (got < count) {
            if (ref == 0) {
                throw KernelException.einval("page directory of d%d ends after %d of %d refs", domid, got, count);
            }
            if (!seen.add(ref)) {
                throw KernelException.einval("page directory of d%d loops back to ref %d", domid, ref);
            }
            GrantMap m = hv.mapGrantRef(domid, ref, Xen.GNTMAP_host_map | Xen.GNTMAP_readonly);
            if (!m.ok()) {
                throw new KernelException(Errno.EIO, String.format("directory page ref %d of d%d: GNTST %d (%s)", ref,
                        domid, m.status(), Xen.gntstName(m.status())));
            }
            try {
                ByteBuffer page = m.memory().order(ByteOrder.LITTLE_ENDIAN);
                int here = (int) Math.min(Displif.GREFS_PER_PAGE, count - got);
                for (int i = 0; i < here; i++) {
                    int r = page.getInt(Displif.grefOffset(i));
                    if (r == 0) {
                        throw KernelException.einval("page directory of d%d: data ref %d is 0", domid, got + i);
                    }
                    out[got + i] = r;
                }
                got += here;
                ref = page.getInt(0);
            } finally {
                hv.unmapGrantRef(m.handle());
            }
        }
        return out;
    }
}
