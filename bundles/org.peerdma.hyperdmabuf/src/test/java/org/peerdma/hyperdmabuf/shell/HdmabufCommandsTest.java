package org.peerdma.hyperdmabuf.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.hyperdmabuf.internal.FakeHub;
import org.peerdma.hyperdmabuf.internal.TestDomain;
import org.peerdma.xen.gntdev.DumbBuffers;

/** The hdmabuf: commands of two domains over the fake transport, and what they answer to bad arguments. */
class HdmabufCommandsTest {
    private TestDomain a;
    private TestDomain b;
    private HdmabufCommands sa;
    private HdmabufCommands sb;

    /** Dumb buffers of a domain's own pages, as gntdev makes them (pitch 64-byte aligned, size in pages). */
    static final class Dumb implements DumbBuffers {
        private final TestDomain d;

        Dumb(TestDomain d) {
            this.d = d;
        }

        @Override
        public int create(FdTable proc, int width, int height, int bpp) {
            if (width <= 0 || height <= 0 || bpp != 32) {
                return Errno.EINVAL.negative();
            }
            long size = (long) DumbBuffers.pitch(width, bpp) * height;
            int pages = (int) ((size + 4095) / 4096);
            TestDomain.Pages p = new TestDomain.Pages(d.mem, pages, 0);
            DmaBuf buf = d.core.export(new ExportInfo("dumb", p, (long) pages * 4096, p, null));
            return proc.fd(buf, 0);
        }

        @Override
        public long[] gfns(FdTable proc, int fd) {
            throw new UnsupportedOperationException();
        }
    }

    private static HdmabufCommands shell(TestDomain d, boolean gntdev) {
        HdmabufCommands c = new HdmabufCommands();
        c.core = d.core;
        c.drv = d.front;
        c.dumb = gntdev ? new Dumb(d) : null;
        c.activate();
        return c;
    }

    @BeforeEach
    void boot() {
        FakeHub hub = new FakeHub("fake");
        FakeHub alt = new FakeHub("alt");
        a = new TestDomain(1, hub, alt);
        b = new TestDomain(2, hub, alt);
        sa = shell(a, true);
        sb = shell(b, true);
    }

    @AfterEach
    void stop() {
        sb.deactivate();
        sa.deactivate();
        b.stop();
        a.stop();
    }

    private static KernelException kex(Runnable r) {
        try {
            r.run();
        } catch (KernelException e) {
            return e;
        }
        throw new AssertionError("no KernelException");
    }

    private static String group(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        assertThat(m.find()).as("'%s' in '%s'", regex, s).isTrue();
        return m.group(1);
    }

    private static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!c.getAsBoolean()) {
            assertThat(System.nanoTime()).as("timed out").isLessThan(end);
            Thread.sleep(2);
        }
    }

    private void link() {
        assertThat(sa.tx(2)).isEqualTo("TX_CH_SETUP d2: ok");
        assertThat(sb.rx(1)).isEqualTo("RX_CH_SETUP d1: ok");
        assertThat(sb.tx(1)).isEqualTo("TX_CH_SETUP d1: ok");
        assertThat(sa.rx(2)).isEqualTo("RX_CH_SETUP d2: ok");
    }

    @Test
    void aBufferGoesFromOneDomainsShellToTheOthers() throws Exception {
        link();
        String fd = group(sa.dumb(64, 64), "fd (\\d+)");
        assertThat(sa.write(Long.parseLong(fd), 0, "hello")).isEqualTo("5 bytes at 0");
        String hid = group(sa.export(Long.parseLong(fd), 2, "for", "dom0"), "^hid (0x1000000:[0-9a-f]{24})$");
        StringBuilder events = new StringBuilder();
        await(() -> events.append(sb.events()).indexOf(hid) >= 0);
        assertThat(events.toString()).contains("NEW_IMPORT " + hid + " priv 'for dom0'");
        assertThat(sb.query(hid, "type")).isEqualTo("2");
        assertThat(sb.query(hid, "priv")).isEqualTo("for dom0");
        assertThat(sb.query(hid, "priv_size")).isEqualTo("8");
        assertThat(sb.query(hid, "SIZE")).isEqualTo(String.valueOf(64 * 64 * 4));
        String ifd = group(sb.importfd(hid), "fd (\\d+)");
        assertThat(sb.read(Long.parseLong(ifd), 0, 5)).isEqualTo("hello");
        assertThat(sa.query(hid, "busy")).isEqualTo("1");
        assertThat(sa.query(hid, "importer")).isEqualTo("2");
        assertThat(sa.query(hid, "delayed_unexported")).as("the driver's quirk").isEqualTo("1");
        assertThat(sa.status()).startsWith("fds [" + fd + "]; fake: d1").contains(hid + "->d2 active=1");
        assertThat(sa.unexport(hid)).isEqualTo("UNEXPORT: ok");
        await(() -> sb.query(hid, "unexported").equals("1"));
        assertThat(sb.read(Long.parseLong(ifd), 0, 5)).as("still shared until the last release, as in the driver")
                .isEqualTo("hello");
        assertThat(kex(() -> sb.importfd(hid)).errno()).as("but no new EXPORT_FD").isEqualTo(Errno.EINVAL);
        assertThat(sb.close(Long.parseLong(ifd))).isEqualTo("fd " + ifd + " closed");
        await(() -> a.front.exportedIds().isEmpty());
        assertThat(sb.events()).isEqualTo("no events");
        assertThat(sa.backend()).isEqualTo("backend fake (available: alt, fake)");
        assertThat(sa.backend("alt")).isEqualTo("backend alt");
        assertThat(sa.close(Long.parseLong(fd))).isEqualTo("fd " + fd + " closed");
    }

    @Test
    void everyErrorIsAKernelExceptionWithTheIoctlsErrno() {
        assertThat(kex(() -> sa.tx(1)).getMessage()).isEqualTo("EINVAL: TX_CH_SETUP d1 failed: EINVAL (Invalid argument)");
        assertThat(kex(() -> sa.rx(2)).errno()).as("d2 published no ring to d1").isEqualTo(Errno.ENOENT);
        assertThat(kex(() -> sa.tx(4_294_967_298L)).getMessage())
                .isEqualTo("EINVAL: domain 4294967298 is out of range (a 32-bit int)");
        assertThat(kex(() -> shell(a, false).dumb(64, 64)).errno()).isEqualTo(Errno.ENODEV);
        assertThat(kex(() -> sa.dumb(0, 64)).getMessage()).isEqualTo("EINVAL: CREATE_DUMB failed: EINVAL (Invalid argument)");
        assertThat(kex(() -> sa.dumb(-1L << 33, 64)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.write(99, 0, "x")).errno()).isEqualTo(Errno.EBADF);
        assertThat(kex(() -> sa.write(-1, 0, "x")).errno()).isEqualTo(Errno.EBADF);
        assertThat(kex(() -> sa.read(1L << 40, 0, 1)).errno()).isEqualTo(Errno.EBADF);
        int fd = Integer.parseInt(group(sa.dumb(16, 1), "fd (\\d+)"));
        assertThat(kex(() -> sa.write(fd, 4095, "xy")).getMessage()).isEqualTo(
                "EINVAL: 2 bytes at 4095 is outside the 4096-byte buffer");
        assertThat(kex(() -> sa.write(fd, -1, "x")).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.read(fd, 0, -1)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.read(fd, 0, Long.MAX_VALUE)).errno()).as("refused before allocating").isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.read(fd, Long.MAX_VALUE, 1)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.export(99, 2)).getMessage()).isEqualTo("EBADF: EXPORT_REMOTE failed: EBADF (Bad file descriptor)");
        assertThat(kex(() -> sa.export(fd, 1)).errno()).as("to itself").isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.export(fd, 2)).errno()).as("no channel").isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.export(fd, 1L << 32)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sb.importfd("nonsense")).getMessage())
                .isEqualTo("EINVAL: 'nonsense' is not a hyper_dmabuf id (0xID:24 hex digits of key)");
        String unknown = "0x1000000:000000000000000000000001";
        assertThat(kex(() -> sb.importfd(unknown)).getMessage()).isEqualTo("ENOENT: EXPORT_FD failed: ENOENT (No such file or directory)");
        assertThat(kex(() -> sa.unexport(unknown)).errno()).isEqualTo(Errno.ENOENT);
        assertThat(kex(() -> sa.unexport(unknown, 1L << 31)).getMessage())
                .isEqualTo("EINVAL: delay 2147483648 is out of range (a 32-bit int)");
        assertThat(kex(() -> sa.query(unknown, "colour")).getMessage()).isEqualTo(
                "EINVAL: query item 'colour': one of type exporter importer size busy unexported delayed_unexported "
                        + "priv_size priv");
        assertThat(kex(() -> sa.query(unknown, "type")).errno()).isEqualTo(Errno.ENOENT);
        assertThat(kex(() -> sa.query("0x1:1", "type")).errno()).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> sa.close(99)).getMessage()).isEqualTo("EBADF: fd 99 is not open in this shell");
        assertThat(kex(() -> sa.close((1L << 32) + fd)).errno()).as("not the same as fd %d", fd).isEqualTo(Errno.EBADF);
        assertThat(kex(() -> sa.backend("nope")).getMessage()).isEqualTo("ENOENT: no backend 'nope' (available: alt, fake)");
        link();
        String hid = group(sa.export(fd, 2), "hid (\\S+)");
        assertThat(kex(() -> sa.backend("alt")).getMessage()).isEqualTo("EBUSY: buffers are exported or imported through "
                + "backend fake: unexport and release them before switching to alt");
        assertThat(sa.unexport(hid, 0)).isEqualTo("UNEXPORT: ok");
        assertThat(sa.close(fd)).isEqualTo("fd " + fd + " closed");
    }

    @Test
    void leavingTheShellUnexportsWhatItExportedAndClosesItsFds() throws Exception {
        link();
        long fd = Long.parseLong(group(sa.dumb(8, 8), "fd (\\d+)"));
        sa.export(fd, 2);
        assertThat(a.front.exportedIds()).hasSize(1);
        sa.deactivate();
        await(() -> a.front.exportedIds().isEmpty());
        assertThat(a.core.buffers()).as("the shell's fds closed").isEmpty();
        sa = shell(a, true);
    }

    @Test
    void gogoNumbersBeyondThirtyTwoBitsAreRefusedNotCut() throws Exception {
        ThreadIOImpl tio = new ThreadIOImpl();
        tio.start();
        CommandProcessorImpl proc = new CommandProcessorImpl(tio);
        try {
            for (String f : new String[] {"tx", "close", "dumb"}) {
                proc.addCommand("hdmabuf", sa, f);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CommandSession s = proc.createSession(new ByteArrayInputStream(new byte[0]), out, out);
            // 4294967298 is 2 in 32 bits: an int parameter would set up the channel to d2
            assertThatThrownBy(() -> s.execute("hdmabuf:tx 4294967298")).isInstanceOf(KernelException.class)
                    .hasMessage("EINVAL: domain 4294967298 is out of range (a 32-bit int)");
            assertThat(a.bknd().txReady(2)).isFalse();
            assertThat(s.execute("hdmabuf:tx 2")).isEqualTo("TX_CH_SETUP d2: ok");
            long fd = Long.parseLong(group((String) s.execute("hdmabuf:dumb 8 8"), "fd (\\d+)"));
            long alias = (1L << 32) + fd;
            assertThatThrownBy(() -> s.execute("hdmabuf:close " + alias)).as("not fd %d", fd)
                    .isInstanceOf(KernelException.class).hasMessage("EBADF: fd " + alias + " is not open in this shell");
            assertThat(s.execute("hdmabuf:close " + fd)).isEqualTo("fd " + fd + " closed");
        } finally {
            proc.stop();
            tio.stop();
        }
    }
}
