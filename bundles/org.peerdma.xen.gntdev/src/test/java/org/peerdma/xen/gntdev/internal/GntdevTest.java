package org.peerdma.xen.gntdev.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.errno.Errno;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.xen.gntdev.Displif;
import org.peerdma.xen.gntdev.Gntdev;
import org.peerdma.xen.gntdev.GntdevFile;
import org.peerdma.xen.gntdev.PageDirectory;
import org.peerdma.xen.gnttab.internal.GrantTableImpl;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/** A guest (dumb buffers, grants, page directory) and dom0 (gntdev dma-buf) on one machine. */
class GntdevTest {
    static final int EINVAL = -22;

    private Hypervisor xen;
    private Hypercalls g;
    private Hypercalls d0;
    private GrantTableImpl gGnttab;
    private GrantTableImpl d0Gnttab;
    private DomainPagesImpl gPages;
    private DmaBufCoreImpl gCore;
    private DmaBufCoreImpl d0Core;
    private DumbBuffersImpl dumb;
    private PageDirectoryImpl gDir;
    private PageDirectoryImpl d0Dir;
    private GntdevImpl gGntdev;
    private GntdevImpl d0Gntdev;
    private FdTable gProc;
    private FdTable d0Proc;

    @BeforeEach
    void boot() {
        xen = Machines.create(128 << 20, 16 << 20);
        d0 = xen.hypercalls(0);
        g = xen.hypercalls(xen.create("guest", 8192, 8).domid());
        gGnttab = new GrantTableImpl(g, 20);
        d0Gnttab = new GrantTableImpl(d0, 20);
        gPages = new DomainPagesImpl(g);
        gCore = new DmaBufCoreImpl();
        d0Core = new DmaBufCoreImpl();
        dumb = new DumbBuffersImpl(gCore, gPages);
        gDir = new PageDirectoryImpl(g, gGnttab, gPages);
        d0Dir = new PageDirectoryImpl(d0, d0Gnttab, new DomainPagesImpl(d0));
        gGntdev = new GntdevImpl(g, gGnttab, gCore, null, null);
        d0Gntdev = new GntdevImpl(d0, d0Gnttab, d0Core, TestDma.api(), TestDma.ram());
        gProc = gCore.fdTable("guest-app");
        d0Proc = d0Core.fdTable("displ_be");
    }

    @AfterEach
    void stop() {
        gGnttab.deactivate();
        d0Gnttab.deactivate();
    }

    /** A 4-page dumb buffer in the guest, each page stamped with its index; its pages granted to dom0. */
    private int[] guestBufferGrantedToDom0(int fd) {
        BufMap m = gProc.mmap(fd, 0, 4L * 4096);
        for (int p = 0; p < 4; p++) {
            m.putInt(p * 4096L, 0x1000 + p);
        }
        long[] gfns = dumb.gfns(gProc, fd);
        assertThat(gfns).as("the helper stamps and grants a 4-page buffer").hasSize(4);
        int[] refs = new int[gfns.length];
        for (int i = 0; i < gfns.length; i++) {
            refs[i] = gGnttab.grantForeignAccess(0, gfns[i], false);
        }
        return refs;
    }

    private static int le(BufMap m, long off) {
        return m.getInt(off);
    }

    // ---------------------------------------------------------------- the page directory

    @Test
    void directoryArithmetic() {
        assertThat(Displif.GREFS_PER_PAGE).isEqualTo(1023);
        assertThat(Displif.dirPages(1)).isEqualTo(1);
        assertThat(Displif.dirPages(1023)).isEqualTo(1);
        assertThat(Displif.dirPages(1024)).isEqualTo(2);
        assertThat(Displif.dirPages(1023L * 1023 + 1)).isEqualTo(1024);
        assertThat(Displif.numGrefs(1)).isEqualTo(2);
        assertThat(Displif.numGrefs(1024)).isEqualTo(1026);
        assertThat(Displif.numGrefs(1023L * 1023 + 1)).isEqualTo(1023L * 1023 + 1 + 1024);
        assertThat(Displif.dataPages(1920 * 1080 * 4)).isEqualTo(2025);
        assertThat(Displif.dataPages(1)).isEqualTo(1);
        assertThat(Displif.grefOffset(0)).isEqualTo(4);
        assertThat(Displif.grefOffset(1022)).isEqualTo(4092);
        assertThatThrownBy(() -> Displif.grefOffset(1023)).isInstanceOf(org.peerdma.errno.KernelException.class)
                .hasMessageStartingWith("EINVAL: gref index 1023");
        assertThatThrownBy(() -> Displif.dirPages(0)).isInstanceOf(org.peerdma.errno.KernelException.class);
        assertThatThrownBy(() -> Displif.dataPages(-1)).hasMessageStartingWith("EINVAL: buffer size -1");
        // no overflow at the top of the range
        assertThat(Displif.dataPages(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE / 4096 + 1);
        assertThat(Displif.dirPages(Long.MAX_VALUE)).isPositive();
    }

    private void shareAndWalk(int n) {
        long[] data = gPages.alloc(n, "test data");
        for (int i = 0; i < n; i++) {
            g.page(data[i]).putInt(0, i);
        }
        int inUseBefore = gGnttab.inUse();
        PageDirectory.Shared s = gDir.share(0, data, true);
        int dirCount = (int) Displif.dirPages(n);
        assertThat(s.refs()).hasSize(dirCount + n);
        assertThat(s.firstRef()).isEqualTo(s.refs()[0]);
        // the directory pages are granted first, then the data pages
        assertThat(g.entryFlags(s.refs()[0]) & Xen.GTF_readonly).isNotZero();
        ByteBuffer lastDir = g.page(s.dirGfns()[dirCount - 1]).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(lastDir.getInt(0)).as("terminator").isZero();
        if (dirCount > 1) {
            assertThat(g.page(s.dirGfns()[0]).order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo(s.refs()[1]);
        }
        int[] walked = d0Dir.read(g.domid(), s.firstRef(), n);
        int[] expected = java.util.Arrays.copyOfRange(s.refs(), dirCount, dirCount + n);
        assertThat(walked).containsExactly(expected);
        for (int i : new int[] {0, n / 2, n - 1}) {
            GrantMap m = d0.mapGrantRef(g.domid(), walked[i], Xen.GNTMAP_host_map | Xen.GNTMAP_readonly);
            assertThat(m.ok()).isTrue();
            assertThat(m.memory().getInt(0)).isEqualTo(i);
            d0.unmapGrantRef(m.handle());
        }
        assertThat(d0.grantHandles()).as("the walk leaves nothing mapped").isEmpty();
        long used = gPages.usedPages();
        s.close();
        assertThat(gGnttab.inUse()).isEqualTo(inUseBefore);
        assertThat(gPages.usedPages()).as("directory pages freed").isEqualTo(used - dirCount);
        gPages.free(data);
    }

    @Test
    void aBufferOf1And1023And1024And3000PagesIsDescribedByOneRef() {
        shareAndWalk(1);
        shareAndWalk(1023);
        shareAndWalk(1024);
        shareAndWalk(3000);
    }

    @Test
    void aBrokenDirectoryIsRefused() {
        long[] data = gPages.alloc(2, "x");
        PageDirectory.Shared s = gDir.share(0, data, false);
        assertThatThrownBy(() -> d0Dir.read(g.domid(), s.firstRef(), 3)).hasMessageContaining("data ref 2 is 0");
        // a chain that stops early: 1024 pages promised, one directory page whose link is 0
        assertThatThrownBy(() -> d0Dir.read(g.domid(), s.firstRef(), 1024)).hasMessageContaining("data ref 2 is 0");
        long[] many = gPages.alloc(1023, "y");
        PageDirectory.Shared full = gDir.share(0, many, false);
        assertThatThrownBy(() -> d0Dir.read(g.domid(), full.firstRef(), 1024)).hasMessageContaining("ends after 1023 of 1024");
        full.close();
        assertThatThrownBy(() -> d0Dir.read(g.domid(), 300, 1)).hasMessageContaining("GNTST -1");
        assertThatThrownBy(() -> d0Dir.read(g.domid(), s.firstRef(), 0)).hasMessageContaining("0 pages");
        assertThatThrownBy(() -> gDir.share(0, new long[0], false)).hasMessageContaining("no pages");
        s.close();
        assertThat(d0.grantHandles()).isEmpty();
    }

    // ---------------------------------------------------------------- EXP_FROM_REFS

    @Test
    void dom0ExportsTheGuestsPagesAsADmaBufAndReadsThemWithoutACopy() {
        int fd = dumb.create(gProc, 32, 32, 32); // 4 KiB... pitch 128 x 32 rows = 1 page
        assertThat(fd).isPositive();
        gProc.close(fd);
        int big = dumb.create(gProc, 64, 64, 32); // 256 x 64 = 16 KiB = 4 pages
        int[] refs = guestBufferGrantedToDom0(big);
        GntdevFile f = d0Gntdev.open(d0Proc);
        int efd = f.expFromRefs(Gntdev.GNTDEV_DMA_FLAG_WC, g.domid(), refs);
        assertThat(efd).isPositive();
        DmaBuf buf = d0Proc.get(efd);
        assertThat(buf.size()).isEqualTo(4 * 4096);
        buf.resv().lock();
        BufMap v = d0Core.vmap(buf);
        buf.resv().unlock();
        assertThat(le(v, 3 * 4096L)).isEqualTo(0x1003);
        gProc.mmap(big, 0, 4096).putInt(100, 0xabcd); // the guest writes later: dom0 sees it
        assertThat(le(v, 100)).isEqualTo(0xabcd);
        buf.resv().lock();
        d0Core.vunmap(buf, v);
        buf.resv().unlock();
        d0Core.put(buf);
        assertThat(f.exports()).containsExactly(efd);
        assertThat(gGnttab.tryEndForeignAccess(refs[0])).as("mapped by dom0").isFalse();
        assertThat(d0Proc.close(efd)).isZero();
        assertThat(f.exports()).isEmpty();
        assertThat(d0.grantHandles()).isEmpty();
        for (int r : refs) {
            assertThat(gGnttab.tryEndForeignAccess(r)).isTrue();
        }
        f.close();
        gProc.close(big);
        assertThat(gPages.usedPages()).isZero();
    }

    @Test
    void expFromRefsErrorsLeaveNothingMapped() {
        int fd = dumb.create(gProc, 64, 64, 32);
        int[] refs = guestBufferGrantedToDom0(fd);
        GntdevFile f = d0Gntdev.open(d0Proc);
        assertThat(f.expFromRefs(0, g.domid(), new int[0])).isEqualTo(EINVAL);
        assertThat(f.expFromRefs(Gntdev.GNTDEV_DMA_FLAG_WC | Gntdev.GNTDEV_DMA_FLAG_COHERENT, g.domid(), refs))
                .isEqualTo(EINVAL);
        d0Gntdev.setLimit(3);
        assertThat(f.expFromRefs(0, g.domid(), refs)).as("count above the limit").isEqualTo(EINVAL);
        d0Gntdev.setLimit(Gntdev.DEFAULT_LIMIT);
        int[] oneBad = refs.clone();
        oneBad[3] = 4000; // not granted
        assertThat(f.expFromRefs(0, g.domid(), oneBad)).isEqualTo(EINVAL);
        assertThat(f.expFromRefs(0, 99, refs)).as("no such domain").isEqualTo(EINVAL);
        assertThat(d0.grantHandles()).as("all or nothing").isEmpty();
        assertThat(f.exports()).isEmpty();
        assertThat(d0Core.buffers()).isEmpty();
        assertThat(f.mapGrantRefs(g.domid(), new int[0], false)).isNull();
        assertThat(f.lastError()).isEqualTo(EINVAL);
        f.close();
    }

    @Test
    void waitReleasedWakesOnReleaseAndTimesOutOtherwise() throws Exception {
        int fd = dumb.create(gProc, 64, 64, 32);
        int[] refs = guestBufferGrantedToDom0(fd);
        GntdevFile f = d0Gntdev.open(d0Proc);
        assertThat(f.expWaitReleased(1234, 10)).isEqualTo(-Xen.ENOENT);
        int efd = f.expFromRefs(0, g.domid(), refs);
        assertThat(f.expWaitReleased(efd, 30)).isEqualTo(-Errno.ETIMEDOUT.number());
        CompletableFuture<Integer> waiter = CompletableFuture.supplyAsync(() -> f.expWaitReleased(efd, 5000));
        Thread.sleep(50);
        assertThat(waiter.isDone()).isFalse();
        d0Proc.close(efd);
        assertThat(waiter.get(5, TimeUnit.SECONDS)).isZero();
        assertThat(f.expWaitReleased(efd, 10)).as("already released").isEqualTo(-Xen.ENOENT);
        assertThat(d0.grantHandles()).isEmpty();
        f.close();
    }

    @Test
    void mapDmaBufRulesOfAGntdevExport() {
        int fd = dumb.create(gProc, 64, 64, 32);
        int[] refs = guestBufferGrantedToDom0(fd);
        GntdevFile f = d0Gntdev.open(d0Proc);
        int efd = f.expFromRefs(0, g.domid(), refs);
        DmaBuf buf = d0Proc.get(efd);
        MachineDTO mdto = new MachineDTO();
        DeviceDTO nic = new DeviceDTO();
        nic.bdf = "0000:00:01.0";
        mdto.devices.add(nic);
        PciCoreImpl pci = new PciCoreImpl();
        pci.load(mdto);
        DmaBufAttachment a = d0Core.attach(buf, DeviceNode.of(pci.get(Bdf.parse("00:01.0"))), null, null);
        assertThatThrownBy(() -> d0Core.mapAttachmentUnlocked(a, DmaDirection.NONE)).hasMessageContaining("NONE");
        SgTable sgt = d0Core.mapAttachmentUnlocked(a, DmaDirection.TO_DEVICE);
        assertThat(sgt.entries()).hasSize(4);
        assertThat(d0Core.mapAttachmentUnlocked(a, DmaDirection.TO_DEVICE)).as("cached").isSameAs(sgt);
        assertThatThrownBy(() -> d0Core.mapAttachmentUnlocked(a, DmaDirection.FROM_DEVICE)).hasMessageContaining("EBUSY");
        // the DMA address leads to the guest's frame itself through dom0's RAM map
        long phys = sgt.entries().get(2).dmaAddress() - TestDma.IOVA_BASE;
        ByteBuffer got = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        d0Gntdev.ram.read(phys, got);
        assertThat(got.flip().getInt()).isEqualTo(0x1002);
        DmaBufAttachment plain = d0Core.attach(buf, DeviceNode.platform("no-pci", null), null, null);
        assertThatThrownBy(() -> d0Core.mapAttachmentUnlocked(plain, DmaDirection.TO_DEVICE)).hasMessageContaining("ENODEV");
        d0Core.detach(plain);
        d0Core.unmapAttachmentUnlocked(a, sgt, DmaDirection.TO_DEVICE);
        d0Core.detach(a);
        d0Core.put(buf);
        d0Proc.close(efd);
        assertThat(d0Gntdev.ram.used()).isZero();
        assertThat(d0.grantHandles()).isEmpty();
        f.close();
    }

    // ---------------------------------------------------------------- IMP_TO_REFS

    @Test
    void theGuestGrantsALocalDmaBufsPagesAndReleasesThem() throws Exception {
        int fd = dumb.create(gProc, 64, 64, 32);
        gProc.mmap(fd, 0, 4L * 4096).putInt(2 * 4096L, 0x77);
        GntdevFile f = gGntdev.open(gProc);
        int[] refs = new int[4];
        assertThat(f.impToRefs(fd, 0, refs)).isZero();
        assertThat(f.imports()).containsExactly(fd);
        GrantMap m = d0.mapGrantRef(g.domid(), refs[2], Xen.GNTMAP_host_map);
        assertThat(m.ok()).isTrue();
        assertThat(m.memory().order(ByteOrder.LITTLE_ENDIAN).getInt(0)).isEqualTo(0x77);
        // errors
        assertThat(f.impToRefs(999, 0, new int[4])).isEqualTo(-Errno.EBADF.number());
        assertThat(f.impToRefs(fd, 0, new int[3])).as("size mismatch").isEqualTo(EINVAL);
        assertThat(f.impToRefs(fd, 0, new int[0])).isEqualTo(EINVAL);
        assertThat(f.impRelease(12345)).isEqualTo(-Xen.ENOENT);
        int inUse = gGnttab.inUse();
        assertThat(f.impRelease(fd)).isZero();
        assertThat(gGnttab.deferredCount()).as("ref 2 is still mapped by dom0").isEqualTo(1);
        assertThat(gGnttab.inUse()).isEqualTo(inUse - 3);
        d0.unmapGrantRef(m.handle());
        long until = System.nanoTime() + 5_000_000_000L;
        while (gGnttab.deferredCount() > 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(gGnttab.inUse()).isZero();
        gProc.close(fd);
        assertThat(gCore.buffers()).isEmpty();
        assertThat(gPages.usedPages()).isZero();
        f.close();
    }

    @Test
    void impToRefsRunsOutOfGrantRefsCleanly() {
        Hypercalls small = xen.hypercalls(xen.create("small", 64, 1).domid());
        GrantTableImpl gt = new GrantTableImpl(small, 20);
        DmaBufCoreImpl core = new DmaBufCoreImpl();
        DomainPagesImpl pages = new DomainPagesImpl(small);
        DumbBuffersImpl db = new DumbBuffersImpl(core, pages);
        GntdevImpl dev = new GntdevImpl(small, gt, core, null, null);
        FdTable proc = core.fdTable("small");
        assertThat(gt.allocReferences(512 - 8 - 2)).isNotNull(); // leave 2 refs
        int fd = db.create(proc, 64, 64, 32); // 4 pages
        GntdevFile f = dev.open(proc);
        assertThat(f.impToRefs(fd, 0, new int[4])).isEqualTo(-Xen.ENOSPC);
        assertThat(f.imports()).isEmpty();
        assertThat(gt.freeCount()).isEqualTo(2);
        DmaBuf b = proc.get(fd);
        assertThat(b.attachments()).as("detached again").isEmpty();
        core.put(b);
        assertThat(db.create(proc, 1 << 16, 1 << 16, 32)).as("more pages than the domain has").isEqualTo(-Xen.ENOMEM);
        assertThat(db.create(proc, 0, 1, 32)).isEqualTo(EINVAL);
        assertThat(db.create(proc, 1, 1, 12)).isEqualTo(EINVAL);
        f.close();
        gt.deactivate();
    }

    // ---------------------------------------------------------------- faults

    @Test
    void theGuestCrashesWhileDom0HasItsPagesExported() {
        long free0 = xen.freeFrames();
        int fd = dumb.create(gProc, 64, 64, 32);
        int[] refs = guestBufferGrantedToDom0(fd);
        GntdevFile f = d0Gntdev.open(d0Proc);
        int efd = f.expFromRefs(0, g.domid(), refs);
        int id = g.domid();
        xen.crash(id);
        assertThat(xen.info(id).orElseThrow().state()).isEqualTo(DomainState.CRASHED);
        assertThat(xen.info(id).orElseThrow().framesHeld()).isEqualTo(4);
        DmaBuf buf = d0Proc.get(efd);
        buf.resv().lock();
        BufMap v = d0Core.vmap(buf);
        buf.resv().unlock();
        assertThat(le(v, 4096)).as("the frames stay until dom0 lets go").isEqualTo(0x1001);
        buf.resv().lock();
        d0Core.vunmap(buf, v);
        buf.resv().unlock();
        d0Core.put(buf);
        d0Proc.close(efd); // the backend reacts to the crash: it releases the buffer
        assertThat(xen.info(id)).as("dead once dom0 unmapped").isEmpty();
        assertThat(xen.freeFrames()).isEqualTo(free0 + 8192);
        f.close();
    }

    // ---------------------------------------------------------------- the xen-zcopy DRM helper form

    @Test
    void zcopyDumbFromRefsToRefsAndWaitFree() throws Exception {
        XenZcopyImpl d0Zc = new XenZcopyImpl(d0Gntdev);
        XenZcopyImpl gZc = new XenZcopyImpl(gGntdev);
        int fd = dumb.create(gProc, 64, 64, 32); // 4 pages
        gProc.mmap(fd, 0, 4096).putInt(0, 0x2c0);
        int[] refs = new int[4];
        assertThat(gZc.dumbToRefs(gProc, fd, 0, refs)).isZero();
        assertThat(d0Zc.dumbFromRefs(d0Proc, g.domid(), refs, 64, 32, 32)).as("2 pages asked, 4 given").isNull();
        assertThat(d0Zc.lastError(d0Proc)).isEqualTo(EINVAL);
        assertThat(d0Zc.dumbFromRefs(d0Proc, g.domid(), refs, 64, 64, 12)).isNull();
        var dumbBuf = d0Zc.dumbFromRefs(d0Proc, g.domid(), refs, 64, 64, 32);
        assertThat(dumbBuf).isNotNull();
        DmaBuf b = d0Proc.get(dumbBuf.handle());
        b.resv().lock();
        BufMap v = d0Core.vmap(b);
        b.resv().unlock();
        assertThat(le(v, 0)).isEqualTo(0x2c0);
        b.resv().lock();
        d0Core.vunmap(b, v);
        b.resv().unlock();
        d0Core.put(b);
        assertThat(d0Zc.dumbWaitFree(d0Proc, dumbBuf.waitHandle(), 20)).isEqualTo(-Errno.ETIMEDOUT.number());
        d0Proc.close(dumbBuf.handle());
        assertThat(d0Zc.dumbWaitFree(d0Proc, dumbBuf.waitHandle(), 1000)).isEqualTo(-Xen.ENOENT);
        assertThat(d0Zc.dumbWaitFree(gProc, 5, 10)).as("a process that never used it").isEqualTo(-Xen.ENOENT);
        assertThat(d0.grantHandles()).isEmpty();
        d0Zc.deactivate();
        gZc.deactivate();
        gProc.close(fd);
    }

    @Test
    void unloadingGntdevRevokesLiveExportsAndMappings() {
        int fd = dumb.create(gProc, 64, 64, 32);
        int[] refs = guestBufferGrantedToDom0(fd);
        GntdevFile f = d0Gntdev.open(d0Proc);
        int efd = f.expFromRefs(0, g.domid(), refs);
        GntdevFile.GrantPages pages = f.mapGrantRefs(g.domid(), new int[] {refs[0]}, true);
        assertThat(pages.memory().getInt(0)).isEqualTo(0x1000);
        assertThat(d0Gntdev.holders()).hasSize(1);
        assertThat(d0.grantHandles()).hasSize(5);
        d0Gntdev.deactivate(); // rmmod -f xen_gntdev
        assertThat(d0.grantHandles()).as("every grant unmapped").isEmpty();
        for (int r : refs) {
            assertThat(gGnttab.tryEndForeignAccess(r)).as("the guest can end its grants").isTrue();
        }
        DmaBuf buf = d0Proc.get(efd);
        buf.resv().lock();
        try {
            assertThatThrownBy(() -> d0Core.vmap(buf)).as("no stale reads through a revoked export")
                    .hasMessageContaining("revoked");
        } finally {
            buf.resv().unlock();
        }
        d0Core.put(buf);
        assertThat(d0Proc.close(efd)).isZero();
        assertThat(d0Core.buffers()).isEmpty();
        gProc.close(fd);
    }
}
