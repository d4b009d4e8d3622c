package org.peerdma.xen.displ.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.KernelException;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.xen.displ.DisplBack;
import org.peerdma.xen.gntdev.internal.DumbBuffersImpl;
import org.peerdma.xen.gntdev.internal.GntdevImpl;
import org.peerdma.xen.gntdev.internal.PageDirectoryImpl;
import org.peerdma.xen.gnttab.internal.GrantTableImpl;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/** The PV display pair: a guest frontend rendering, the dom0 backend reading the same pages. */
class DisplTest {
    static final int W = 96;
    static final int H = 40;

    private Hypervisor xen;
    private Hypercalls g;
    private GrantTableImpl gGnttab;
    private GrantTableImpl d0Gnttab;
    private DomainPagesImpl gPages;
    private DmaBufCoreImpl gCore;
    private DisplFrontImpl front;
    private DisplBackImpl back;

    @BeforeEach
    void boot() {
        xen = Machines.create(64 << 20, 16 << 20);
        Hypercalls d0 = xen.hypercalls(0);
        g = xen.hypercalls(xen.create("fe", 1024, 4).domid());
        gGnttab = new GrantTableImpl(g, 20);
        d0Gnttab = new GrantTableImpl(d0, 20);
        gPages = new DomainPagesImpl(g);
        gCore = new DmaBufCoreImpl();
        DmaBufCoreImpl d0Core = new DmaBufCoreImpl();
        front = new DisplFrontImpl(g, new DumbBuffersImpl(gCore, gPages), new PageDirectoryImpl(g, gGnttab, gPages), gCore);
        GntdevImpl d0Gntdev = new GntdevImpl(d0, d0Gnttab, d0Core, null, null);
        back = new DisplBackImpl(d0, d0Gntdev, new PageDirectoryImpl(d0, d0Gnttab, new DomainPagesImpl(d0)), d0Core);
    }

    @AfterEach
    void stop() {
        gGnttab.deactivate();
        d0Gnttab.deactivate();
    }

    /** The frontend's test pattern, as the backend must see it. */
    static int expected(int n, int x, int y) {
        int sx = (n * 8) % (W - 16 + 1);
        int sy = (H - 16) / 2;
        if (x >= sx && x < sx + 16 && y >= sy && y < sy + 16) {
            return 0xffffffff;
        }
        return 0xff000000 | ((x + n * 4) & 0xff) << 16 | ((y + n * 2) & 0xff) << 8 | ((n * 16) & 0xff);
    }

    private static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (!c.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(c.getAsBoolean()).isTrue();
    }

    @Test
    void framesRenderedInTheGuestAreReadByDom0FromTheSamePagesAndWrittenAsPng(@TempDir Path tmp) throws Exception {
        front.connect(0, W, H);
        front.render(1);
        DisplBack.Status s = back.attach(g.domid());
        assertThat(s.width()).isEqualTo(W);
        int[] px = back.pixels(g.domid());
        assertThat(px[5 * W + 7]).isEqualTo(expected(1, 7, 5));
        front.render(2); // drawn into the shared pages: the backend's existing import sees it, no copy
        await(() -> back.status(g.domid()).frame() == 2);
        assertThat(back.status(g.domid()).events()).isEqualTo(1);
        px = back.pixels(g.domid());
        for (int[] p : new int[][] {{0, 0}, {W - 1, H - 1}, {20, 20}, {17, 13}}) {
            assertThat(px[p[1] * W + p[0]]).as("pixel %s", java.util.Arrays.toString(p)).isEqualTo(expected(2, p[0], p[1]));
        }
        Path png = tmp.resolve("frame.png");
        back.writePng(g.domid(), png);
        for (var bad : java.util.Map.of(tmp.resolve("no/such/dir/x.png"), "ENOENT", tmp, "EISDIR",
                png.resolve("x.png"), "ENOTDIR").entrySet()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> back.writePng(g.domid(), bad.getKey()))
                    .isInstanceOf(KernelException.class).hasMessageStartingWith(bad.getValue() + ": ");
        }
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(W);
        assertThat(img.getHeight()).isEqualTo(H);
        assertThat(img.getRGB(17, 13)).isEqualTo(expected(2, 17, 13));
        assertThat(Files.size(png)).isPositive();
        // tear down: the frontend leaves, the backend detaches, nothing stays
        front.disconnect();
        back.detach(g.domid());
        await(() -> gGnttab.inUse() == 0);
        assertThat(gPages.usedPages()).isZero();
        assertThat(gCore.buffers()).isEmpty();
    }

    @Test
    void aCrashedFrontendIsReportedLostAndItsFramesAreReclaimed() throws Exception {
        long free0 = xen.freeFrames();
        front.connect(0, W, H);
        front.render(3);
        back.attach(g.domid());
        int id = g.domid();
        xen.crash(id);
        await(() -> back.status(id).lost());
        assertThat(back.status(id).why()).contains("gone");
        assertThatThrownBy(() -> back.pixels(id)).hasMessageContaining("ENODEV").hasMessageContaining("lost");
        assertThat(xen.info(id)).as("dom0 let go of the frames, so the domain is dead").isEmpty();
        assertThat(xen.freeFrames()).isEqualTo(free0 + 1024);
        back.detach(id);
        assertThat(back.list()).isEmpty();
        assertThat(xen.info(id).map(i -> i.state())).isNotEqualTo(java.util.Optional.of(DomainState.CRASHED));
    }

    @Test
    void badRequestsAreRefusedWithNothingTaken() {
        assertThatThrownBy(() -> back.attach(g.domid())).hasMessageContaining("ENOENT").hasMessageContaining("not published");
        assertThatThrownBy(() -> back.attach(77)).hasMessageContaining("ENOENT");
        assertThatThrownBy(() -> front.render(1)).hasMessageContaining("not connected");
        assertThatThrownBy(() -> front.connect(0, 0, 10)).hasMessageContaining("EINVAL");
        front.connect(0, W, H);
        assertThatThrownBy(() -> front.connect(0, W, H)).hasMessageContaining("EBUSY");
        back.attach(g.domid());
        assertThatThrownBy(() -> back.attach(g.domid())).hasMessageContaining("EBUSY");
        assertThatThrownBy(() -> back.status(55)).hasMessageContaining("ENOENT");
        g.xsWrite("/local/domain/" + g.domid() + "/device/vdispl/0/width", "wide");
        back.detach(g.domid());
        assertThatThrownBy(() -> back.attach(g.domid())).hasMessageContaining("not a number");
        front.disconnect();
        assertThat(gCore.buffers()).isEmpty();
    }
}
