package org.peerdma.xen.gntdev.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.module.ModuleUsage;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.pci.PciDevice;
import org.peerdma.xen.gntdev.Gntdev;
import org.peerdma.xen.gntdev.GntdevFile;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gntdev.c and gntdev-dmabuf.c. Each open file keeps its maps, exports and imports; an export
 * holds its file, so a closed file lives until its last exported dma-buf is released.
 */
@Component(service = {Gntdev.class, ModuleUsage.class}, configurationPid = "org.peerdma.xen.gntdev")
@Designate(ocd = GntdevConfig.class)
public class GntdevImpl implements Gntdev, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("xen:gntdev");
    static final long PAGE = Xen.PAGE_SIZE;

    @Reference
    Hypercalls hv;
    @Reference
    GrantTable gnttab;
    @Reference
    DmaBufCore core;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile DmaApi dma;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile PhysMemory ram;

    private volatile int limit = DEFAULT_LIMIT;
    /** gntdev's own device (priv->dma_dev): a virtual device, no PCI function. */
    final DeviceNode dmaDev = DeviceNode.platform("gntdev", null);
    private final Map<FileImpl, Boolean> files = new ConcurrentHashMap<>();

    public GntdevImpl() {
    }

    /** For tests outside OSGi. */
    public GntdevImpl(Hypercalls hv, GrantTable gnttab, DmaBufCore core, DmaApi dma, PhysMemory ram) {
        this.hv = hv;
        this.gnttab = gnttab;
        this.core = core;
        this.dma = dma;
        this.ram = ram;
    }

    @Activate
    @Modified
    void configure(GntdevConfig c) {
        limit = c.limit();
    }

    void setLimit(int l) {
        limit = l;
    }

    @Override
    public int limit() {
        return limit;
    }

    @Override
    public GntdevFile open(FdTable proc) {
        FileImpl f = new FileImpl(proc);
        files.put(f, true);
        return f;
    }

    @Deactivate
    void deactivate() {
        for (FileImpl f : List.copyOf(files.keySet())) {
            f.revokeAll();
        }
    }

    @Override
    public List<String> holders() {
        List<String> out = new ArrayList<>();
        for (FileImpl f : files.keySet()) {
            int n = f.maps.size() + f.exports.size() + f.imports.size();
            if (n > 0) {
                out.add(String.format("gntdev file of %s: %d map(s), %d export(s), %d import(s)", f.proc, f.maps.size(),
                        f.exports.size(), f.imports.size()));
            }
        }
        return out;
    }

    /** gntdev_test_page_count. */
    private boolean badCount(int count) {
        return count == 0 || count > limit;
    }

    /**
     * gntdev_map_grant_pages: all or nothing. Return: the mappings, or null when a grant failed
     * (the ones made are unmapped again).
     */
    List<GrantMap> mapAll(int domid, int[] refs, boolean readonly) {
        int flags = Xen.GNTMAP_host_map | Xen.GNTMAP_device_map | (readonly ? Xen.GNTMAP_readonly : 0);
        List<GrantMap> done = new ArrayList<>(refs.length);
        for (int ref : refs) {
            GrantMap m;
            try {
                m = hv.mapGrantRef(domid, ref, flags);
            } catch (XenError e) {
                // this domain is dying: the hypercall fails (its mappings already went with it)
                unmapAll(done);
                throw e;
            }
            if (!m.ok()) {
                LOG.warn("gntdev: map of d{} ref {} failed: GNTST {} ({}): {}", domid, ref, m.status(),
                        Xen.gntstName(m.status()), m.message());
                unmapAll(done);
                return null;
            }
            done.add(m);
        }
        return done;
    }

    void unmapAll(List<GrantMap> maps) {
        for (GrantMap m : maps) {
            try {
                int st = hv.unmapGrantRef(m.handle());
                if (st != Xen.GNTST_okay) {
                    LOG.warn("gntdev: unmap of handle {}: GNTST {}", m.handle(), st);
                }
            } catch (XenError e) {
                LOG.debug("gntdev: unmap while the domain is dying: {}", e.getMessage());
            }
        }
    }

    // ================================================================ a file

    final class FileImpl implements GntdevFile {
        final FdTable proc;
        final List<PagesImpl> maps = new ArrayList<>();
        /**
         * exp_list and imp_list of gntdev-dmabuf.c: lists, newest first (list_add), searched by fd for the first
         * match. The same dma-buf may be imported twice (two entries with one fd, released one per IMP_RELEASE);
         * an export leaves its own entry at release.
         */
        final java.util.Deque<ExportImpl> exports = new java.util.concurrent.ConcurrentLinkedDeque<>();
        final java.util.Deque<ImportImpl> imports = new java.util.concurrent.ConcurrentLinkedDeque<>();
        private volatile int lastError;
        private boolean closed;

        FileImpl(FdTable proc) {
            this.proc = proc;
        }

        @Override
        public int lastError() {
            return lastError;
        }

        @Override
        public synchronized GrantPages mapGrantRefs(int domid, int[] refs, boolean readonly) {
            if (closed) {
                lastError = -Errno.EBADF.number();
                return null;
            }
            if (refs == null || badCount(refs.length)) {
                lastError = -Xen.EINVAL;
                return null;
            }
            List<GrantMap> m;
            try {
                m = mapAll(domid, refs, readonly);
            } catch (XenError e) {
                lastError = -e.errno();
                return null;
            }
            if (m == null) {
                lastError = -Xen.EINVAL;
                return null;
            }
            PagesImpl p = new PagesImpl(this, m);
            maps.add(p);
            return p;
        }

        @Override
        public synchronized int expFromRefs(int flags, int domid, int[] refs) {
            if (closed) {
                return -Errno.EBADF.number();
            }
            if (refs == null || badCount(refs.length)) {
                return -Xen.EINVAL;
            }
            if ((flags & GNTDEV_DMA_FLAG_WC) != 0 && (flags & GNTDEV_DMA_FLAG_COHERENT) != 0) {
                LOG.debug("Wrong dma-buf flags: {}", String.format("%#x", flags));
                return -Xen.EINVAL;
            }
            List<GrantMap> m;
            try {
                m = mapAll(domid, refs, false);
            } catch (XenError ex) {
                return -ex.errno();
            }
            if (m == null) {
                return -Xen.EINVAL;
            }
            ExportImpl e = new ExportImpl(this, domid, m);
            DmaBuf buf;
            try {
                buf = core.export(new ExportInfo("xen-gntdev", e, (long) refs.length << Xen.PAGE_SHIFT, e, null));
            } catch (KernelException ex) {
                unmapAll(m);
                return ex.returnValue();
            }
            int fd = proc.fd(buf, 0x80000 /* O_CLOEXEC */);
            if (fd < 0) {
                core.put(buf); // release unmaps
                return fd;
            }
            e.fd = fd;
            exports.addFirst(e);
            LOG.debug("Exporting DMA buffer with fd {}", fd);
            return fd;
        }

        @Override
        public int expWaitReleased(int fd, int waitToMs) {
            synchronized (this) {
                if (closed) {
                    return -Errno.EBADF.number();
                }
            }
            ExportImpl e = null;
            for (ExportImpl x : exports) { // dmabuf_exp_wait_obj_get_dmabuf: the first with that fd
                if (x.fd == fd) {
                    e = x;
                    break;
                }
            }
            if (e == null) {
                return -Xen.ENOENT;
            }
            try {
                return e.released.await(Math.max(0, waitToMs), TimeUnit.MILLISECONDS) ? 0 : -Errno.ETIMEDOUT.number();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return -Xen.EINTR;
            }
        }

        @Override
        public int impToRefs(int fd, int domid, int[] refsOut) {
            synchronized (this) {
                if (closed) {
                    return -Errno.EBADF.number();
                }
            }
            if (refsOut == null || badCount(refsOut.length)) {
                return -Xen.EINVAL;
            }
            int count = refsOut.length;
            DmaBuf buf;
            try {
                buf = proc.get(fd);
            } catch (KernelException e) {
                return e.returnValue();
            }
            DmaBufAttachment a = null;
            SgTable sgt = null;
            int[] refs = null;
            try {
                a = core.attach(buf, dmaDev, null, this);
                sgt = core.mapAttachmentUnlocked(a, DmaDirection.BIDIRECTIONAL);
                List<SgEntry> es = sgt.entries();
                if (es.isEmpty() || (es.get(0).dmaAddress() & (PAGE - 1)) != 0) {
                    LOG.debug("DMA buffer has {} offset", es.isEmpty() ? "no" : "non-zero");
                    throw KernelException.einval("offset");
                }
                if (buf.size() != (long) count << Xen.PAGE_SHIFT) {
                    LOG.debug("DMA buffer has {} pages, user-space expects {}", buf.size() / PAGE, count);
                    throw KernelException.einval("size");
                }
                long[] gfns = new long[count];
                int i = 0;
                for (SgEntry e : es) {
                    for (long off = 0; off < e.dmaLength() && i < count; off += PAGE) {
                        gfns[i++] = (e.dmaAddress() + off) >>> Xen.PAGE_SHIFT; // dma address = pseudo-physical
                    }
                }
                refs = gnttab.allocReferences(count);
                if (refs == null) {
                    throw new KernelException(Errno.ENOSPC, "no grant references for " + count + " pages");
                }
                int granted = 0;
                try {
                    for (; granted < count; granted++) {
                        gnttab.grantForeignAccessRef(refs[granted], domid, gfns[granted], false);
                    }
                } catch (XenError e) {
                    // this domain is dying: end what was granted (nobody has the refs yet), free the rest
                    for (int k = 0; k < count; k++) {
                        if (k < granted) {
                            gnttab.endForeignAccess(refs[k], null);
                        } else {
                            gnttab.freeReference(refs[k]);
                        }
                    }
                    throw e;
                }
                ImportImpl imp = new ImportImpl(fd, buf, a, sgt, refs);
                boolean raced;
                synchronized (this) {
                    raced = closed;
                    if (!raced) {
                        imports.addFirst(imp); // list_add: the newest first
                    }
                }
                if (raced) {
                    // close() ran while this ioctl was in flight: the release that follows it drops the import
                    imp.release();
                }
                System.arraycopy(refs, 0, refsOut, 0, count);
                return 0;
            } catch (KernelException | XenError e) {
                if (sgt != null) {
                    core.unmapAttachmentUnlocked(a, sgt, DmaDirection.BIDIRECTIONAL);
                }
                if (a != null) {
                    core.detach(a);
                }
                core.put(buf);
                return e instanceof XenError x ? -x.errno() : ((KernelException) e).returnValue();
            }
        }

        @Override
        public int impRelease(int fd) {
            synchronized (this) {
                if (closed) {
                    return -Errno.EBADF.number();
                }
            }
            ImportImpl i = unlinkImport(fd);
            if (i == null) {
                return -Xen.ENOENT;
            }
            i.release();
            return 0;
        }

        /** dmabuf_imp_find_unlink: the first import with that fd, taken off the list (once, if two race). */
        private ImportImpl unlinkImport(int fd) {
            while (true) {
                ImportImpl found = null;
                for (ImportImpl x : imports) {
                    if (x.fd == fd) {
                        found = x;
                        break;
                    }
                }
                if (found == null || imports.remove(found)) {
                    return found;
                }
            }
        }

        @Override
        public List<Integer> exports() {
            return exports.stream().map(e -> e.fd).toList();
        }

        @Override
        public List<Integer> imports() {
            return imports.stream().map(i -> i.fd).toList();
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            for (ImportImpl i; (i = imports.pollFirst()) != null;) {
                i.release();
            }
            List<PagesImpl> ms;
            synchronized (this) {
                ms = List.copyOf(maps);
            }
            for (PagesImpl p : ms) {
                p.close();
            }
            maybeGone();
        }

        void maybeGone() {
            if (closed && exports.isEmpty()) {
                files.remove(this);
            }
        }

        /** The module leaves: every mapping of this file goes; exported buffers are revoked. */
        void revokeAll() {
            close();
            for (ExportImpl e : List.copyOf(exports)) {
                e.revoke();
            }
            files.remove(this);
        }

        @Override
        public String toString() {
            return "gntdev file of " + proc;
        }
    }

    final class PagesImpl implements GntdevFile.GrantPages {
        final FileImpl file;
        final List<GrantMap> maps;
        final BufMap memory;
        private boolean closed;

        PagesImpl(FileImpl file, List<GrantMap> maps) {
            this.file = file;
            this.maps = maps;
            this.memory = BufMap.of(maps.stream().map(GrantMap::memory).toList());
        }

        @Override
        public BufMap memory() {
            return memory;
        }

        @Override
        public int count() {
            return maps.size();
        }

        @Override
        public void close() {
            synchronized (file) {
                if (closed) {
                    return;
                }
                closed = true;
                file.maps.remove(this);
            }
            unmapAll(maps);
        }
    }

    /** One EXP_FROM_REFS buffer: the dma-buf's ops over the mapped foreign pages. */
    final class ExportImpl implements DmaBufOps {
        final FileImpl file;
        final int domid;
        final List<GrantMap> maps;
        final List<ByteBuffer> pages;
        final CountDownLatch released = new CountDownLatch(1);
        volatile int fd = -1;
        private final Map<DmaBufAttachment, AttState> atts = new ConcurrentHashMap<>();
        private List<PhysMemory.PhysRegion> frames;
        private boolean unmapped;

        ExportImpl(FileImpl file, int domid, List<GrantMap> maps) {
            this.file = file;
            this.domid = domid;
            this.maps = maps;
            this.pages = maps.stream().map(GrantMap::memory).toList();
        }

        final class AttState {
            DmaDirection dir = DmaDirection.NONE;
            SgTable sgt;
            DmaMapping mapping;
        }

        @Override
        public int attach(DmaBuf buf, DmaBufAttachment attach) {
            atts.put(attach, new AttState());
            return 0;
        }

        @Override
        public void detach(DmaBuf buf, DmaBufAttachment attach) {
            AttState st = atts.remove(attach);
            DmaApi api = dma;
            if (st != null && st.mapping != null && api != null && st.mapping.isLive()) {
                api.unmap(st.mapping); // the real unmap happens at detach
            }
        }

        /** dmabuf_exp_ops_map_dma_buf: DMA_NONE is refused; one mapping per attachment, one direction. */
        @Override
        public SgTable mapDmaBuf(DmaBufAttachment attach, DmaDirection dir) {
            if (dir == DmaDirection.NONE) {
                throw KernelException.einval("gntdev dma-buf: map with DMA_NONE");
            }
            AttState st = atts.get(attach);
            if (st == null) {
                throw KernelException.einval("gntdev dma-buf: not attached");
            }
            if (st.sgt != null) {
                if (st.dir == dir) {
                    return st.sgt;
                }
                throw new KernelException(Errno.EBUSY, "gntdev dma-buf: already mapped " + st.dir + ", asked " + dir);
            }
            synchronized (this) {
                if (unmapped) {
                    throw KernelException.enodev("gntdev dma-buf of d%d: revoked, its grants are unmapped", domid);
                }
            }
            PciDevice pci = attach.device().findParentPciDev();
            DmaApi api = dma;
            PhysMemory r = ram;
            if (pci == null || api == null || r == null) {
                throw KernelException.enodev("gntdev dma-buf: %s cannot be mapped for DMA here (needs a PCI device, "
                        + "the DMA API and the RAM map)", attach.device().name());
            }
            List<SgEntry> sg = new ArrayList<>();
            synchronized (this) {
                if (frames == null) {
                    List<PhysMemory.PhysRegion> fs = new ArrayList<>();
                    for (ByteBuffer p : pages) {
                        fs.add(r.adopt("gntdev: d" + domid + " grant", p)); // the foreign frame as mapped here
                    }
                    frames = fs;
                }
                for (PhysMemory.PhysRegion f : frames) {
                    sg.add(SgEntry.of(f.phys(), PAGE));
                }
            }
            DmaMapping m = api.mapSg(pci, sg, dir);
            st.sgt = new SgTable(m.entries());
            st.dir = dir;
            st.mapping = m;
            return st.sgt;
        }

        @Override
        public void unmapDmaBuf(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
            // nothing: unmapped at detach
        }

        @Override
        public boolean hasVmap() {
            return true;
        }

        /** The pages as this kernel maps them (vmap over the grant mappings). */
        @Override
        public BufMap vmap(DmaBuf buf) {
            synchronized (this) {
                if (unmapped) {
                    throw KernelException.enodev("gntdev dma-buf of d%d: revoked, its grants are unmapped", domid);
                }
            }
            return BufMap.of(pages);
        }

        @Override
        public void release(DmaBuf buf) {
            unmapPages();
            file.exports.remove(this);
            released.countDown();
            file.maybeGone();
        }

        private void unmapPages() {
            List<PhysMemory.PhysRegion> fs;
            synchronized (this) {
                if (unmapped) {
                    return;
                }
                unmapped = true;
                fs = frames;
                frames = null;
            }
            if (fs != null) {
                fs.forEach(PhysMemory.PhysRegion::close);
            }
            unmapAll(maps);
        }

        /** The module leaves with the buffer still referenced: the foreign pages are unmapped now. */
        void revoke() {
            LOG.warn("gntdev: export fd {} of d{} revoked while still referenced", fd, domid);
            unmapPages();
            file.exports.remove(this);
            released.countDown();
        }
    }

    /** One IMP_TO_REFS grant set. */
    final class ImportImpl {
        final int fd;
        final DmaBuf buf;
        final DmaBufAttachment attach;
        final SgTable sgt;
        final int[] refs;

        ImportImpl(int fd, DmaBuf buf, DmaBufAttachment attach, SgTable sgt, int[] refs) {
            this.fd = fd;
            this.buf = buf;
            this.attach = attach;
            this.sgt = sgt;
            this.refs = refs;
        }

        /** dmabuf_imp_end_foreign_access, then unmap, detach, put. */
        void release() {
            for (int r : refs) {
                gnttab.endForeignAccess(r, null); // deferred while the grantee still maps it
            }
            core.unmapAttachmentUnlocked(attach, sgt, DmaDirection.BIDIRECTIONAL);
            core.detach(attach);
            core.put(buf);
        }
    }
}
