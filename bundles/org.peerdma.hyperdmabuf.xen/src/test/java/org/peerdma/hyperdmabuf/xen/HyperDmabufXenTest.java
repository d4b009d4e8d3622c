package org.peerdma.hyperdmabuf.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.hyperdmabuf.HyperDmabuf;
import org.peerdma.hyperdmabuf.HyperDmabufFile;
import org.peerdma.hyperdmabuf.HyperDmabufId;
import org.peerdma.hyperdmabuf.internal.HyperDmabufImpl;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.xen.gntdev.internal.DumbBuffersImpl;
import org.peerdma.xen.gnttab.internal.GrantTableImpl;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/** hyper_dmabuf between guests over the Xen backend, each domain with its own front end. */
class HyperDmabufXenTest {
    static final int EINVAL = -22;

    /** One domain's kernel: grant table, pages, dma-buf core, dumb buffers, backend, front end. */
    static final class Dom {
        final Hypercalls hv;
        final GrantTableImpl gnttab;
        final DomainPagesImpl pages;
        final DmaBufCoreImpl core = new DmaBufCoreImpl();
        final DumbBuffersImpl dumb;
        final XenBackend bknd;
        final HyperDmabufImpl front;
        final FdTable proc;
        final HyperDmabufFile file;

        Dom(Hypercalls hv) {
            this.hv = hv;
            gnttab = new GrantTableImpl(hv, 20);
            pages = new DomainPagesImpl(hv);
            dumb = new DumbBuffersImpl(core, pages);
            bknd = new XenBackend(hv, gnttab, pages);
            front = new HyperDmabufImpl(core, bknd);
            proc = core.fdTable("app-d" + hv.domid());
            file = front.open(proc);
        }

        int buffer(String text) {
            int fd = dumb.create(proc, 64, 64, 32); // 4 pages
            proc.mmap(fd, 0, 4096).write(0, text.getBytes(StandardCharsets.UTF_8));
            return fd;
        }

        String read(int fd, int len) {
            DmaBuf b = proc.get(fd);
            try {
                BufMap m = core.vmapUnlocked(b);
                byte[] out = new byte[len];
                m.read(0, out);
                core.vunmapUnlocked(b, m);
                return new String(out, StandardCharsets.UTF_8);
            } finally {
                core.put(b);
            }
        }

        void stop() {
            front.deactivate();
            gnttab.deactivate();
        }
    }

    private Hypervisor xen;
    private Dom a;
    private Dom b;

    @BeforeEach
    void boot() {
        xen = Machines.create(256 << 20, 16 << 20);
        a = new Dom(xen.hypercalls(xen.create("exporter", 8192, 16).domid()));
        b = new Dom(xen.hypercalls(xen.create("importer", 2048, 4).domid()));
        link(a, b);
    }

    static void link(Dom x, Dom y) {
        assertThat(x.file.txChSetup(y.hv.domid())).isZero();
        assertThat(y.file.rxChSetup(x.hv.domid())).isZero();
        assertThat(y.file.txChSetup(x.hv.domid())).isZero();
        assertThat(x.file.rxChSetup(y.hv.domid())).isZero();
    }

    @AfterEach
    void stop() {
        b.stop();
        a.stop();
    }

    private static HyperDmabuf.Event nextEvent(Dom d) {
        List<HyperDmabuf.Event> ev = d.front.readEvents(4096, 5000, true);
        assertThat(ev).isNotEmpty();
        return ev.get(0);
    }

    @Test
    void idsCarryTheExporterAndAFreshKey() {
        int fd = a.buffer("x");
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), "p".getBytes());
        assertThat(e.ret()).isZero();
        assertThat(e.hid().exporterDomid()).isEqualTo(a.hv.domid());
        assertThat(e.hid().id()).isEqualTo(a.hv.domid() << 24);
        assertThat(HyperDmabufId.parse(e.hid().toString())).isEqualTo(e.hid());
        assertThatThrownBy(() -> HyperDmabufId.parse("0x1:zz")).hasMessageContaining("not a hyper_dmabuf id");
        assertThat(a.file.unexport(e.hid(), 0)).isZero();
        long until = System.nanoTime() + 5_000_000_000L;
        while (!a.front.exportedIds().isEmpty() && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        int fd2 = a.buffer("y");
        HyperDmabufFile.Export again = a.file.exportRemote(fd2, b.hv.domid(), null);
        assertThat(again.hid().id()).as("the freed id comes back first").isEqualTo(e.hid().id());
        assertThat(again.hid()).as("with a new key").isNotEqualTo(e.hid());
    }

    @Test
    void theImporterReadsTheExportersPagesAndSeesLaterWrites() throws Exception {
        int fd = a.buffer("frame-1");
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), "display:0".getBytes());
        HyperDmabuf.Event ev = nextEvent(b);
        assertThat(ev.type()).isEqualTo(HyperDmabuf.HYPER_DMABUF_NEW_IMPORT);
        assertThat(ev.hid()).isEqualTo(e.hid());
        assertThat(new String(ev.priv())).isEqualTo("display:0");
        int bfd = b.file.exportFd(e.hid(), 0);
        assertThat(bfd).isPositive();
        assertThat(b.read(bfd, 7)).isEqualTo("frame-1");
        a.proc.mmap(fd, 0, 4096).write(0, "frame-2".getBytes());
        assertThat(b.read(bfd, 7)).as("the same pages, no copy").isEqualTo("frame-2");
        // queries on both sides
        assertThat(a.file.query(e.hid(), HyperDmabuf.QUERY_TYPE, null)).isEqualTo(HyperDmabuf.EXPORTED);
        assertThat(b.file.query(e.hid(), HyperDmabuf.QUERY_TYPE, null)).isEqualTo(HyperDmabuf.IMPORTED);
        assertThat(a.file.query(e.hid(), HyperDmabuf.QUERY_IMPORTER, null)).isEqualTo(b.hv.domid());
        assertThat(b.file.query(e.hid(), HyperDmabuf.QUERY_EXPORTER, null)).isEqualTo(a.hv.domid());
        assertThat(b.file.query(e.hid(), HyperDmabuf.QUERY_SIZE, null)).isEqualTo(4 * 4096);
        assertThat(a.file.query(e.hid(), HyperDmabuf.QUERY_BUSY, null)).isEqualTo(1);
        assertThat(a.file.query(e.hid(), HyperDmabuf.QUERY_DELAYED_UNEXPORTED, null)).as("the driver's quirk").isEqualTo(1);
        assertThat(b.file.query(e.hid(), HyperDmabuf.QUERY_DELAYED_UNEXPORTED, null)).isEqualTo(EINVAL);
        byte[] priv = new byte[9];
        assertThat(b.file.query(e.hid(), HyperDmabuf.QUERY_PRIV_INFO, priv)).isZero();
        assertThat(new String(priv)).isEqualTo("display:0");
        assertThat(a.file.query(e.hid(), 0x99, null)).isEqualTo(EINVAL);
        // a wrong key is not the same buffer
        int[] k = e.hid().rngKey();
        k[0] ^= 1;
        HyperDmabufId forged = new HyperDmabufId(e.hid().id(), k);
        assertThat(b.file.exportFd(forged, 0)).isEqualTo(-2);
        assertThat(b.file.query(forged, HyperDmabuf.QUERY_TYPE, null)).isEqualTo(-2);
        b.proc.close(bfd);
        assertThat(a.file.query(e.hid(), HyperDmabuf.QUERY_BUSY, null)).as("RELEASE reached the exporter").isZero();
    }

    @Test
    void reExportingTheSameBufferKeepsTheIdAndUpdatesThePrivateData() {
        int fd = a.buffer("x");
        HyperDmabufFile.Export one = a.file.exportRemote(fd, b.hv.domid(), "v1".getBytes());
        nextEvent(b);
        HyperDmabufFile.Export two = a.file.exportRemote(fd, b.hv.domid(), new byte[300]);
        assertThat(two.hid()).isEqualTo(one.hid());
        HyperDmabuf.Event ev = nextEvent(b);
        assertThat(ev.priv()).as("truncated to 192 bytes").hasSize(HyperDmabuf.MAX_SIZE_PRIV_DATA);
        assertThat(b.file.query(one.hid(), HyperDmabuf.QUERY_PRIV_INFO_SIZE, null)).isEqualTo(192);
    }

    @Test
    void theImportersOperationsAreReplayedOnTheOriginal() {
        int fd = a.buffer("x");
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), null);
        nextEvent(b);
        int bfd = b.file.exportFd(e.hid(), 0);
        DmaBuf local = b.proc.get(bfd);
        DmaBuf original = a.proc.get(fd);
        int before = original.attachments().size();
        DmaBufAttachment att = b.core.attach(local, DeviceNode.platform("vdisplay", null), null, null);
        assertThat(original.attachments()).as("shadow attach on the exporter").hasSize(before + 1);
        var sgt = b.core.mapAttachmentUnlocked(att, org.peerdma.dma.DmaDirection.TO_DEVICE);
        b.core.unmapAttachmentUnlocked(att, sgt, org.peerdma.dma.DmaDirection.TO_DEVICE);
        b.core.detach(att);
        assertThat(original.attachments()).as("shadow detach").hasSize(before);
        a.core.put(original);
        b.core.put(local);
        b.proc.close(bfd);
    }

    @Test
    void unexportWhileImportedKeepsThePagesUntilTheImporterReleases() throws Exception {
        int fd = a.buffer("x");
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), null);
        nextEvent(b);
        int handles = b.hv.grantHandles().size(); // the rx ring's mapping
        int bfd = b.file.exportFd(e.hid(), 0);
        int grants = a.gnttab.inUse();
        assertThat(a.file.unexport(e.hid(), 0)).isZero();
        long until = System.nanoTime() + 5_000_000_000L;
        while (b.file.query(e.hid(), HyperDmabuf.QUERY_UNEXPORTED, null) != 1 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(b.file.query(e.hid(), HyperDmabuf.QUERY_UNEXPORTED, null)).isEqualTo(1);
        // as in the driver: the pages stay shared until the last remote user releases them; the importer's
        // fd still reads the exporter's bytes, but no new EXPORT_FD of that id is handed out
        assertThat(b.read(bfd, 1)).isEqualTo("x");
        assertThat(b.file.exportFd(e.hid(), 0)).isNegative();
        assertThat(a.front.exportedIds()).as("kept while the importer holds it").contains(e.hid());
        b.proc.close(bfd); // RELEASE: the exporter cleans up now
        while (!a.front.exportedIds().isEmpty() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(a.front.exportedIds()).isEmpty();
        while (a.gnttab.inUse() > grants - 4 - 2 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(a.gnttab.inUse()).as("data, level-2 and top refs ended").isEqualTo(grants - 4 - 2);
        assertThat(b.front.importedIds()).isEmpty();
        assertThat(b.hv.grantHandles()).as("the data pages unmapped").hasSize(handles);
        assertThat(a.file.unexport(e.hid(), 0)).isEqualTo(-2);
    }

    @Test
    void errorsAndTheEventQueue() {
        int fd = a.buffer("x");
        assertThat(a.file.exportRemote(fd, a.hv.domid(), null).ret()).as("to itself").isEqualTo(EINVAL);
        assertThat(a.file.exportRemote(999, b.hv.domid(), null).ret()).isEqualTo(-9);
        Dom c = new Dom(xen.hypercalls(xen.create("nochannel", 64, 1).domid()));
        assertThat(a.file.exportRemote(fd, c.hv.domid(), null).ret()).as("no tx channel").isEqualTo(EINVAL);
        assertThat(c.file.rxChSetup(a.hv.domid())).as("a never set up tx to c").isEqualTo(-2);
        assertThat(a.file.txChSetup(c.hv.domid())).isZero();
        int grants = a.gnttab.inUse();
        assertThat(a.file.exportRemote(fd, c.hv.domid(), null).ret()).as("c never bound its rx channel")
                .isEqualTo(-107);
        assertThat(a.gnttab.inUse()).as("nothing left shared").isEqualTo(grants);
        assertThat(a.front.exportedIds()).isEmpty();
        assertThat(a.file.txChSetup(a.hv.domid())).isEqualTo(EINVAL);
        assertThatThrownBy(() -> b.front.readEvents(4096, 0, false)).hasMessageContaining("EPERM");
        List<HyperDmabufId> ids = new ArrayList<>();
        for (int i = 0; i < 33; i++) {
            ids.add(a.file.exportRemote(a.buffer("e" + i), b.hv.domid(), ("p" + i).getBytes()).hid());
        }
        long until = System.nanoTime() + 5_000_000_000L;
        while (b.front.importedIds().size() < 33 && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        assertThat(b.front.readEvents(10, 0, true)).as("a buffer smaller than one event").isEmpty();
        List<HyperDmabuf.Event> ev = b.front.readEvents(1 << 16, 0, true);
        assertThat(ev).hasSize(HyperDmabuf.MAX_DEPTH_EVENT_QUEUE);
        assertThat(ev.get(0).hid()).as("the oldest was dropped").isEqualTo(ids.get(1));
        assertThat(b.front.poll()).isFalse();
        c.stop();
    }

    private static void waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (!c.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(c.getAsBoolean()).isTrue();
    }

    @Test
    void theImporterCrashesWhileHoldingABuffer() throws Exception {
        int fd = a.buffer("x");
        DmaBuf original = a.proc.get(fd);
        int attachments = original.attachments().size();
        int grants = a.gnttab.inUse();
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), null);
        nextEvent(b);
        int bfd = b.file.exportFd(e.hid(), 0);
        DmaBuf local = b.proc.get(bfd);
        b.core.attach(local, DeviceNode.platform("vdisplay", null), null, null);
        assertThat(original.attachments()).hasSize(attachments + 2); // the export's own and the shadow
        xen.crash(b.hv.domid());
        waitFor(() -> a.front.exportedIds().isEmpty());
        assertThat(original.attachments()).as("shadow state cleaned").hasSize(attachments);
        waitFor(() -> a.gnttab.inUse() < grants);
        assertThat(a.gnttab.inUse()).as("every grant to the dead importer ended, the ring's too").isEqualTo(grants - 1);
        a.core.put(original);
    }

    @Test
    void theExporterCrashesWhileImported() throws Exception {
        int fd = a.buffer("last");
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), null);
        nextEvent(b);
        int bfd = b.file.exportFd(e.hid(), 0);
        assertThat(b.read(bfd, 4)).isEqualTo("last");
        int id = a.hv.domid();
        xen.crash(id);
        waitFor(() -> b.file.query(e.hid(), HyperDmabuf.QUERY_UNEXPORTED, null) == 1);
        assertThatThrownBy(() -> b.read(bfd, 4)).as("an error, not stale bytes").hasMessageContaining("unexported");
        b.proc.close(bfd);
        assertThat(b.front.importedIds()).isEmpty();
        assertThat(b.hv.grantHandles()).as("data pages and the ring unmapped").isEmpty();
        assertThat(xen.info(id)).as("nothing holds the dead exporter's frames").isEmpty();
    }

    @Test
    void idsRunOutAfterAThousandExports() {
        Dom big = new Dom(xen.hypercalls(xen.create("many", 4096, 8).domid()));
        link(big, b);
        List<Integer> fds = new ArrayList<>();
        for (int i = 0; i < HyperDmabuf.HYPER_DMABUF_ID_MAX; i++) {
            int fd = big.dumb.create(big.proc, 16, 16, 32); // one page
            fds.add(fd);
            HyperDmabufFile.Export e = big.file.exportRemote(fd, b.hv.domid(), null);
            assertThat(e.ret()).as("export %d", i).isZero();
            assertThat(e.hid().count()).isEqualTo(i);
        }
        int grants = big.gnttab.inUse();
        int extra = big.dumb.create(big.proc, 16, 16, 32);
        HyperDmabufFile.Export none = big.file.exportRemote(extra, b.hv.domid(), null);
        assertThat(none.ret()).isEqualTo(-12);
        assertThat(none.hid()).isEqualTo(HyperDmabufId.INVALID);
        assertThat(big.gnttab.inUse()).as("nothing shared for the refused one").isEqualTo(grants);
        big.stop();
    }

    @Test
    void aBufferOfMoreThan1024PagesGoesBehindTwoLevel2Pages() {
        int fd = a.dumb.create(a.proc, 1024, 1100, 32); // pitch 4096: 1100 pages
        var m = a.proc.mmap(fd, 0, 1100L * 4096);
        m.write(0, "first".getBytes());
        m.write(1099L * 4096, "last".getBytes());
        long grants = a.gnttab.grantsMade();
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), null);
        assertThat(e.ret()).isZero();
        assertThat(a.gnttab.grantsMade() - grants).as("1100 data + 2 level-2 + 1 top").isEqualTo(1103);
        nextEvent(b);
        assertThat(b.file.query(e.hid(), HyperDmabuf.QUERY_SIZE, null)).isEqualTo(1100L * 4096);
        int bfd = b.file.exportFd(e.hid(), 0);
        DmaBuf local = b.proc.get(bfd);
        BufMap v = b.core.vmapUnlocked(local);
        byte[] first = new byte[5];
        byte[] last = new byte[4];
        v.read(0, first);
        v.read(1099L * 4096, last);
        b.core.vunmapUnlocked(local, v);
        b.core.put(local);
        assertThat(new String(first)).isEqualTo("first");
        assertThat(new String(last)).isEqualTo("last");
        assertThatThrownBy(() -> {
            DmaBuf l2 = b.proc.get(bfd);
            BufMap w = b.core.vmapUnlocked(l2);
            try {
                w.put(0, (byte) 1);
            } finally {
                b.core.vunmapUnlocked(l2, w);
                b.core.put(l2);
            }
        }).as("the Xen backend shares read-only").isInstanceOf(java.nio.ReadOnlyBufferException.class);
        b.proc.close(bfd);
    }
}
