package org.peerdma.hyperdmabuf.ivshmem;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.hyperdmabuf.HyperDmabuf;
import org.peerdma.hyperdmabuf.HyperDmabufFile;
import org.peerdma.hyperdmabuf.internal.HyperDmabufImpl;
import org.peerdma.hyperdmabuf.spi.HyperDmabufBackend;
import org.peerdma.hyperdmabuf.xen.XenBackend;
import org.peerdma.xen.gntdev.internal.DumbBuffersImpl;
import org.peerdma.xen.gnttab.internal.GrantTableImpl;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.mm.internal.DomainPagesImpl;

/** The same front end over the shared-memory backend, and swapping backends. */
class IvshmemBackendTest {
    static final class Dom {
        final Hypercalls hv;
        final GrantTableImpl gnttab;
        final DomainPagesImpl pages;
        final DmaBufCoreImpl core = new DmaBufCoreImpl();
        final DumbBuffersImpl dumb;
        final IvshmemBackend ivshmem;
        final HyperDmabufImpl front;
        final FdTable proc;
        final HyperDmabufFile file;

        Dom(Hypercalls hv) {
            this.hv = hv;
            gnttab = new GrantTableImpl(hv, 20);
            pages = new DomainPagesImpl(hv);
            dumb = new DumbBuffersImpl(core, pages);
            ivshmem = new IvshmemBackend(hv, "hyper_dmabuf");
            Map<String, HyperDmabufBackend> b = new LinkedHashMap<>();
            b.put("xen", new XenBackend(hv, gnttab, pages));
            b.put("ivshmem", ivshmem);
            front = new HyperDmabufImpl(core, b);
            proc = core.fdTable("app-d" + hv.domid());
            file = front.open(proc);
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
    }

    private Hypervisor xen;
    private Dom a;
    private Dom b;

    @BeforeEach
    void boot() {
        xen = Machines.create(128 << 20, 16 << 20);
        int ida = xen.create("exporter", 2048, 4).domid();
        int idb = xen.create("importer", 2048, 4).domid();
        xen.shmemCreate("hyper_dmabuf", 4 << 20, List.of(ida, idb));
        a = new Dom(xen.hypercalls(ida));
        b = new Dom(xen.hypercalls(idb));
    }

    @AfterEach
    void stop() {
        b.front.deactivate();
        a.front.deactivate();
        b.gnttab.deactivate();
        a.gnttab.deactivate();
    }

    private void link() {
        assertThat(a.file.txChSetup(b.hv.domid())).isZero();
        assertThat(b.file.rxChSetup(a.hv.domid())).isZero();
        assertThat(b.file.txChSetup(a.hv.domid())).isZero();
        assertThat(a.file.rxChSetup(b.hv.domid())).isZero();
    }

    private static void waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
        long until = System.nanoTime() + 5_000_000_000L;
        while (!c.getAsBoolean() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(c.getAsBoolean()).isTrue();
    }

    @Test
    void theSameFrontEndWorksOverSharedMemoryButTheBytesAreCopied() throws Exception {
        assertThat(a.front.backend()).isEqualTo("xen");
        assertThat(a.front.useBackend("ivshmem")).isZero();
        assertThat(b.front.useBackend("ivshmem")).isZero();
        assertThat(a.front.useBackend("kvmfs")).isEqualTo(-2);
        link();
        int fd = a.dumb.create(a.proc, 64, 64, 32); // 4 pages
        a.proc.mmap(fd, 0, 4096).write(0, "hello".getBytes());
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), "via ivshmem".getBytes());
        assertThat(e.ret()).isZero();
        List<HyperDmabuf.Event> ev = b.front.readEvents(4096, 5000, true);
        assertThat(new String(ev.get(0).priv())).isEqualTo("via ivshmem");
        int bfd = b.file.exportFd(e.hid(), 0);
        assertThat(bfd).isPositive();
        assertThat(b.read(bfd, 5)).isEqualTo("hello");
        assertThat(a.ivshmem.bytesCopied()).as("the pages were copied into the region").isEqualTo(4 * 4096);
        assertThat(a.gnttab.grantsMade()).as("no grants at all").isZero();
        a.proc.mmap(fd, 0, 4096).write(0, "world".getBytes());
        assertThat(b.read(bfd, 5)).as("a later write is not seen: the importer reads the copy").isEqualTo("hello");
        // swapping while shared is refused
        assertThat(a.front.useBackend("xen")).isEqualTo(-16);
        b.proc.close(bfd);
        assertThat(a.file.unexport(e.hid(), 0)).isZero();
        waitFor(() -> a.front.exportedIds().isEmpty());
        waitFor(() -> b.front.importedIds().isEmpty());
        assertThat(a.ivshmem.status()).contains("0 buffer pages used");
        assertThat(a.front.useBackend("xen")).as("nothing shared any more").isZero();
        assertThat(b.front.useBackend("xen")).isZero();
    }

    @Test
    void aCrashedImporterIsReportedByTheRegionAndItsCopyFreed() throws Exception {
        a.front.useBackend("ivshmem");
        b.front.useBackend("ivshmem");
        link();
        int fd = a.dumb.create(a.proc, 64, 64, 32);
        HyperDmabufFile.Export e = a.file.exportRemote(fd, b.hv.domid(), null);
        b.front.readEvents(4096, 5000, true);
        assertThat(b.file.exportFd(e.hid(), 0)).isPositive();
        assertThat(a.ivshmem.status()).as("4 data pages and their descriptor").contains("5 buffer pages used");
        xen.crash(b.hv.domid());
        waitFor(() -> a.front.exportedIds().isEmpty());
        assertThat(a.ivshmem.status()).contains("0 buffer pages used");
        assertThat(a.file.exportRemote(fd, b.hv.domid(), null).ret()).as("no channel to the dead domain").isEqualTo(-22);
    }
}
