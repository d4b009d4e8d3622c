package org.peerdma.dmabuf.shell.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.dmabuf.drivers.internal.ShellTestGpu;
import org.peerdma.dmabuf.importers.internal.ImportersImpl;
import org.peerdma.dmaheap.internal.ShellTestHeaps;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.p2pdma.internal.DeviceDmaImpl;
import org.peerdma.p2pdma.internal.P2pdmaImpl;
import org.peerdma.pci.imports.internal.TopologyIOImpl;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.pci.internal.TestCmdline;
import org.peerdma.udmabuf.internal.ShellTestUdmabuf;

/**
 * The dmabuf: commands on the sample machine with every driver model, called directly and through
 * Gogo: what they do, and that every wrong argument (missing, extra, a word for a number, negative,
 * past 32 or 64 bits, naming nothing) is an errno with a message, never a Java exception.
 */
class DmaBufCommandsTest {
    static final long MB = 1 << 20;
    private DmaBufCoreImpl core;
    private PciCoreImpl pci;
    private DmaBufCommands cmds;
    private DmaApi dma;
    private PhysMemory ram;
    private P2pdmaImpl p2p;

    @BeforeEach
    void setUp() {
        pci = TestCmdline.core("");
        pci.load(new TopologyIOImpl().sample());
        dma = TestDma.api();
        ram = TestDma.ram();
        var zone = TestZone.zone();
        p2p = P2pdmaImpl.standalone(pci, zone, dma, "newest", 200);
        core = new DmaBufCoreImpl();
        cmds = new DmaBufCommands(core, pci, ShellTestHeaps.heaps(core, ram, dma, 4, 64),
                ShellTestUdmabuf.udmabuf(core, ram, dma, 1024, 64), ShellTestGpu.gpu(core, ram, p2p, p2p, dma),
                new ImportersImpl(core, DeviceDmaImpl.standalone(pci, p2p, dma, ram, zone)));
    }

    @AfterEach
    void tearDown() {
        cmds.deactivate();
        assertThat(core.buffers()).as("the shell's process exit closed everything").isEmpty();
    }

    private static KernelException kex(Runnable r) {
        try {
            r.run();
        } catch (KernelException e) {
            return e;
        }
        throw new AssertionError("no KernelException");
    }

    private static Errno errno(Runnable r) {
        return kex(r).errno();
    }

    @Test
    void aHeapBufferAttachedMappedReadByItsDeviceFencedAndClosed() {
        long fd = cmds.heapalloc("system", "64K");
        assertThat(cmds.write(fd, 0L, "hello")).isEqualTo("5 bytes written at 0");
        assertThat(cmds.read(fd, 0L, 5L)).isEqualTo("hello");
        assertThat(cmds.bufs()).contains("system").containsPattern("65536 +\\d+ +0 +0 " + fd);
        long nic = cmds.attach(fd, "05:00.0", "nic");
        assertThat(cmds.map(nic)).startsWith("attachment " + nic + " mapped BIDIRECTIONAL, 1 segment(s)");
        assertThat(cmds.map(nic, "to_device")).as("the cached BIDIRECTIONAL mapping serves it")
                .startsWith("attachment " + nic + " mapped BIDIRECTIONAL");
        assertThat(cmds.show(fd)).contains("attachment " + nic + " 0000:05:00.0 dynamic peer2peer=true mapped BIDIRECTIONAL");
        assertThat(cmds.devread(nic, 0L, 5L)).startsWith("hello" + System.lineSeparator() + "  via ");
        assertThat(cmds.devwrite(nic, 1L, "ELL")).startsWith("3 bytes written by 0000:05:00.0 at 1");
        assertThat(cmds.read(fd, 0L, 5L)).isEqualTo("hELLo");
        assertThat(cmds.devread(nic, 65536L, 0L)).as("nothing at the end").endsWith("(nothing transferred)");
        assertThat(cmds.unmap(nic)).isEqualTo("attachment " + nic + " unmapped");
        assertThat(cmds.unmap(nic)).isEqualTo("attachment " + nic + " was not mapped");
        assertThat(cmds.map(nic, "FROM_DEVICE")).contains("mapped FROM_DEVICE");
        // the system heap sets no cache_sgt_mapping: another direction is a second mapping, not EBUSY
        assertThat(cmds.map(nic, "to_device")).as("one attachment, two directions")
                .startsWith("attachment " + nic + " mapped TO_DEVICE, 1 segment(s)");
        assertThat(cmds.show(fd)).contains("mapped FROM_DEVICE,TO_DEVICE");
        assertThat(cmds.devread(nic, 0L, 5L)).as("a read through the TO_DEVICE one").startsWith("hELLo");
        assertThat(cmds.unmap(nic)).isEqualTo("attachment " + nic + " unmapped");
        assertThat(cmds.map(nic, "FROM_DEVICE")).contains("mapped FROM_DEVICE");
        assertThat(cmds.show(fd)).contains("mapped FROM_DEVICE");
        long nvme = cmds.attach(fd, "07:00.0", "nvme");
        assertThat(cmds.show(fd)).contains("attachment " + nvme + " 0000:07:00.0 static peer2peer=false");
        long f = cmds.fence(fd);
        assertThat(cmds.show(fd)).contains("fence " + f + " WRITE status 0");
        assertThat(cmds.wait(fd, "read", 0L)).isEqualTo("timed out after 0 ms");
        assertThat(cmds.wait(fd, "bookkeep", 10L)).as("a WRITE fence is bookkeep too").isEqualTo("timed out after 10 ms");
        assertThat(cmds.signal(f, -5L)).isEqualTo("fence " + f + " signalled (status -5)");
        assertThat(cmds.signal(f)).isEqualTo("fence " + f + " was already signalled");
        assertThat(cmds.signal(f, -22L)).as("no error set after the fact").isEqualTo("fence " + f + " was already signalled");
        assertThat(cmds.show(fd)).contains("fence " + f + " WRITE status -5");
        assertThat(cmds.wait(fd, "kernel", 1000L)).isEqualTo("signalled");
        assertThat(cmds.detach(nvme)).isEqualTo("attachment " + nvme + " detached");
        assertThat(cmds.close(fd)).isEqualTo("fd " + fd + " closed");
        assertThat(errno(() -> cmds.map(nic))).as("detached with its fd").isEqualTo(Errno.EINVAL);
        assertThat(cmds.heaps()).startsWith("system reserved" + System.lineSeparator() + "cma: 0 of 4194304 bytes");
    }

    @Test
    void udmabufChecksItsSizeBeforeTouchingAPage() {
        long fd = cmds.udmabuf("8K", "x");
        assertThat(cmds.read(fd, 8190L, 2L)).isEqualTo("xx");
        long zero = cmds.udmabuf("4096");
        assertThat(cmds.read(zero, 0L, 1L)).isEqualTo("\0");
        // filling the memfd first would write every byte of it before UDMABUF_CREATE refused the size
        KernelException big = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> kex(() -> cmds.udmabuf("1T", "x")));
        assertThat(big.getMessage()).isEqualTo("EINVAL: UDMABUF_CREATE failed: EINVAL (Invalid argument)");
        assertThat(errno(() -> cmds.udmabuf("65M"))).as("size_limit_mb 64").isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.udmabuf("4097", "y"))).as("not a page multiple").isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> cmds.udmabuf("-4096")).getMessage()).isEqualTo(
                "EINVAL: ftruncate of the memfd failed: EINVAL (Invalid argument)");
        assertThat(kex(() -> cmds.udmabuf("lots")).getMessage()).isEqualTo(
                "EINVAL: 'lots' is not a size (bytes, 0x.., or K/M/G/T)");
        assertThat(errno(() -> cmds.udmabuf("99999999999999999999"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.udmabuf("9999999999T"))).as("overflows 64 bits").isEqualTo(Errno.EINVAL);
        assertThat(core.buffers()).hasSize(2);
    }

    @Test
    void aFailedFillClosesTheNewUdmabufInsteadOfLeakingIt() {
        FdTable shell = core.fdTable("gogo"); // the shell's process
        org.peerdma.udmabuf.Udmabuf real = ShellTestUdmabuf.udmabuf(core, ram, dma, 1024, 64);
        // UDMABUF_CREATE succeeds, then the memfd refuses the fill (as a write seal would make it)
        org.peerdma.udmabuf.Udmabuf sealing = new org.peerdma.udmabuf.Udmabuf() {
            @Override
            public int create(FdTable files, int memfd, int flags, long offset, long size) {
                int fd = real.create(files, memfd, flags, offset, size);
                ((org.peerdma.udmabuf.Memfd) files.file(memfd)).addSeals(org.peerdma.udmabuf.Memfd.F_SEAL_WRITE);
                return fd;
            }

            @Override
            public int createList(FdTable files, int flags, List<org.peerdma.udmabuf.Udmabuf.Item> items) {
                return real.createList(files, flags, items);
            }

            @Override
            public int ioctl(FdTable files, long cmd, Object arg) {
                return real.ioctl(files, cmd, arg);
            }
        };
        DmaBufCommands c = new DmaBufCommands(core, pci, null, sealing, null, null);
        try {
            int open = shell.count();
            assertThat(kex(() -> c.udmabuf("8K", "x")).getMessage())
                    .isEqualTo("EPERM: write to the memfd failed: EPERM (Operation not permitted)");
            assertThat(shell.count()).as("neither the memfd nor the udmabuf left open").isEqualTo(open);
            assertThat(core.buffers()).as("the udmabuf was released").isEmpty();
            assertThat(c.bufs()).doesNotContain("udmabuf");
        } finally {
            c.deactivate();
        }
    }

    @Test
    void lengthsPastWhatOneCopyCanHoldAreEnomemNeverCutTo32Bits() {
        cmds.gpuprobe("03:00.0", "1", "8G");
        long fd = cmds.gpualloc("03:00.0", "5G"); // past 4 GiB, as a hyper_dmabuf import may be
        long nic = cmds.attach(fd, "05:00.0");
        // 4294967301 is 5 in 32 bits, 3 GiB negative in 32 bits: kvmalloc refuses more than INT_MAX (ENOMEM)
        for (long len : new long[] {4_294_967_301L, 3L << 30, Integer.MAX_VALUE, 5L << 30}) {
            KernelException r = kex(() -> cmds.read(fd, 0L, len));
            assertThat(r.errno()).as("read of %d bytes", len).isEqualTo(Errno.ENOMEM);
            assertThat(r.getMessage()).contains("cannot allocate a copy of " + len + " bytes");
            assertThat(kex(() -> cmds.devread(nic, 0L, len)).errno()).as("devread of %d bytes", len).isEqualTo(Errno.ENOMEM);
        }
        assertThat(cmds.show(fd)).as("nothing was mapped for the refused reads").doesNotContain("mapped");
        assertThat(errno(() -> cmds.read(fd, 1L, 5L << 30))).as("outside the buffer is still EINVAL").isEqualTo(Errno.EINVAL);
        assertThat(cmds.write(fd, (5L << 30) - 2, "hi")).isEqualTo("2 bytes written at " + ((5L << 30) - 2));
        assertThat(cmds.read(fd, (5L << 30) - 2, 2L)).isEqualTo("hi");
    }

    @Test
    void gpuBuffersAndTheExportersReport() {
        assertThat(cmds.gpuprobe("03:00.0")).isEqualTo("0000:03:00.0: 268435456 bytes of BAR 1 as VRAM");
        assertThat(kex(() -> cmds.gpuprobe("03:00.0")).getMessage()).startsWith("EBUSY: probe of 0000:03:00.0 BAR 1 failed");
        assertThat(errno(() -> cmds.gpuprobe("04:00.0", "7"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.gpuprobe("04:00.0", "-1"))).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> cmds.gpuprobe("04:00.0", "one")).getMessage())
                .isEqualTo("EINVAL: BAR index 'one' is not a number (0-5)");
        assertThat(errno(() -> cmds.gpuprobe("04:00.0", "99999999999"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.gpuprobe("04:00.0", "1", "-1"))).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> cmds.gpuprobe("99:00.0")).getMessage()).startsWith("ENODEV: no PCI device 0000:99:00.0");
        assertThat(kex(() -> cmds.gpuprobe("gpu0")).getMessage()).startsWith("EINVAL: 'gpu0' is not a PCI address");
        long fd = cmds.gpualloc("03:00.0", "1M");
        assertThat(errno(() -> cmds.gpualloc("03:00.0", "0"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.gpualloc("03:00.0", "-1M"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.gpualloc("03:00.0", "1T"))).isEqualTo(Errno.ENOMEM);
        assertThat(errno(() -> cmds.gpualloc("05:00.0", "1M"))).as("not a probed GPU").isEqualTo(Errno.ENODEV);
        long nic = cmds.attach(fd, "05:00.0");
        cmds.map(nic);
        assertThat(cmds.show(fd)).contains("amdgpu-like").contains("why:");
        assertThat(cmds.devwrite(nic, 0L, "vram")).contains("via");
        assertThat(cmds.read(fd, 0L, 4L)).isEqualTo("vram");
    }

    @Test
    void modulesThatAreNotLoadedAreEnodevNamingTheModule() {
        DmaBufCommands bare = new DmaBufCommands(core, pci, null, null, null, null);
        try {
            assertThat(kex(bare::heaps).getMessage()).isEqualTo("ENODEV: module dma_heap is not loaded (modprobe dma_heap)");
            assertThat(errno(() -> bare.heapalloc("system", "4K"))).isEqualTo(Errno.ENODEV);
            assertThat(kex(() -> bare.udmabuf("4K")).getMessage()).contains("module udmabuf is not loaded");
            assertThat(kex(() -> bare.gpuprobe("03:00.0")).getMessage()).contains("module gpu_exporter is not loaded");
            assertThat(errno(() -> bare.gpualloc("03:00.0", "1M"))).isEqualTo(Errno.ENODEV);
            assertThat(kex(() -> bare.attach(3L, "05:00.0")).getMessage()).contains("module dmabuf_importers is not loaded");
        } finally {
            bare.deactivate();
        }
    }

    @Test
    void everyWrongArgumentOfADirectCallIsAnErrno() {
        long fd = cmds.heapalloc("system", "4K");
        long alias = (1L << 32) + fd;
        for (long bad : new long[] {99, -1, alias, Long.MIN_VALUE, Long.MAX_VALUE}) {
            assertThat(errno(() -> cmds.show(bad))).as("show %d", bad).isEqualTo(Errno.EBADF);
            assertThat(errno(() -> cmds.read(bad, 0L, 1L))).isEqualTo(Errno.EBADF);
            assertThat(errno(() -> cmds.write(bad, 0L, "x"))).isEqualTo(Errno.EBADF);
            assertThat(errno(() -> cmds.attach(bad, "05:00.0"))).isEqualTo(Errno.EBADF);
            assertThat(errno(() -> cmds.fence(bad))).isEqualTo(Errno.EBADF);
            assertThat(errno(() -> cmds.wait(bad, "read", 0L))).isEqualTo(Errno.EBADF);
            assertThat(errno(() -> cmds.close(bad))).isEqualTo(Errno.EBADF);
            assertThat(errno(() -> cmds.map(bad))).isEqualTo(Errno.EINVAL);
            assertThat(errno(() -> cmds.unmap(bad))).isEqualTo(Errno.EINVAL);
            assertThat(errno(() -> cmds.detach(bad))).isEqualTo(Errno.EINVAL);
            assertThat(errno(() -> cmds.devread(bad, 0L, 1L))).isEqualTo(Errno.EINVAL);
            assertThat(errno(() -> cmds.devwrite(bad, 0L, "x"))).isEqualTo(Errno.EINVAL);
            assertThat(errno(() -> cmds.signal(bad))).isEqualTo(Errno.EINVAL);
        }
        assertThat(kex(() -> cmds.show(alias)).getMessage()).contains("fd " + alias + " is not a dma-buf open in the shell");
        // offsets and lengths: negative, past the end, wrapping around 64 bits
        for (long[] r : new long[][] {{-1, 1}, {0, -1}, {4096, 1}, {4095, 2}, {0, Long.MAX_VALUE}, {Long.MAX_VALUE, 1},
            {Long.MIN_VALUE, 1}, {1, Long.MAX_VALUE}}) {
            assertThat(errno(() -> cmds.read(fd, r[0], r[1]))).as("read %d bytes at %d", r[1], r[0]).isEqualTo(Errno.EINVAL);
        }
        assertThat(cmds.read(fd, 4096L, 0L)).isEmpty();
        assertThat(kex(() -> cmds.write(fd, 4094L, "abc")).getMessage())
                .isEqualTo("EINVAL: 3 bytes at 4094 is outside the 4096-byte buffer");
        assertThat(errno(() -> cmds.write(fd, -1L, "a"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.write(fd, Long.MAX_VALUE, "a"))).isEqualTo(Errno.EINVAL);
        long nic = cmds.attach(fd, "05:00.0");
        for (long[] r : new long[][] {{0, -1}, {-1, 1}, {0, 1L << 40}, {4096, 1}, {1, Long.MAX_VALUE}}) {
            KernelException e = kex(() -> cmds.devread(nic, r[0], r[1]));
            assertThat(e.errno()).as("devread %d bytes at %d", r[1], r[0]).isEqualTo(Errno.EINVAL);
        }
        assertThat(errno(() -> cmds.devwrite(nic, 4095L, "ab"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.devwrite(nic, -2L, "ab"))).isEqualTo(Errno.EINVAL);
        // names that name nothing
        assertThat(kex(() -> cmds.attach(fd, "05:00.0", "gpu")).getMessage())
                .isEqualTo("EINVAL: importer kind 'gpu': nic or nvme");
        assertThat(errno(() -> cmds.attach(fd, "zz:zz.z"))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.attach(fd, "0000:5f:00.0"))).isEqualTo(Errno.ENODEV);
        assertThat(kex(() -> cmds.map(nic, "sideways")).getMessage())
                .isEqualTo("EINVAL: direction 'sideways': bidirectional, to_device or from_device");
        assertThat(errno(() -> cmds.map(nic, "none"))).as("DMA_NONE").isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> cmds.fence(fd, "often")).getMessage())
                .isEqualTo("EINVAL: usage 'often': kernel, write, read or bookkeep");
        assertThat(errno(() -> cmds.wait(fd, "often", 0L))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> cmds.heapalloc("nosuch", "4K"))).isEqualTo(Errno.ENOENT);
        assertThat(kex(() -> cmds.heapalloc("system", "-1")).getMessage()).as("PAGE_ALIGN(U64_MAX) is 0")
                .isEqualTo("EINVAL: DMA_HEAP_IOCTL_ALLOC on /dev/dma_heap/system failed: EINVAL (Invalid argument)");
        assertThat(errno(() -> cmds.heapalloc("system", "65M"))).as("more than totalram").isEqualTo(Errno.ENOMEM);
        assertThat(errno(() -> cmds.heapalloc("system", "1e3"))).isEqualTo(Errno.EINVAL);
        // fences: errors must be errnos, timeouts must fit
        long f = cmds.fence(fd, "kernel");
        for (long e : new long[] {0, 5, -4096, Long.MIN_VALUE, 1L << 32}) {
            assertThat(errno(() -> cmds.signal(f, e))).as("error %d", e).isEqualTo(Errno.EINVAL);
        }
        assertThat(kex(() -> cmds.signal(f, 5L)).getMessage())
                .isEqualTo("EINVAL: fence error 5 is not a negative errno (-1..-4095)");
        for (long ms : new long[] {-1, 1L << 31, Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertThat(kex(() -> cmds.wait(fd, "read", ms)).getMessage()).as("%d ms", ms)
                    .startsWith("EINVAL: timeout " + ms + " ms is outside 0..2147483647");
        }
        assertThat(cmds.signal(f, -4095L)).isEqualTo("fence " + f + " signalled (status -4095)");
        assertThat(errno(() -> cmds.close(fd + 1))).isEqualTo(Errno.EBADF);
    }

    @Test
    void leavingTheShellSignalsItsFencesDetachesAndCloses() {
        long fd = cmds.heapalloc("system", "4K");
        long a = cmds.attach(fd, "05:00.0");
        cmds.map(a);
        long f = cmds.fence(fd);
        FdTable other = core.fdTable("other");
        DmaBuf b = core.buffers().get(0);
        core.get(b);
        int ofd = other.fd(b, 0);
        cmds.deactivate();
        assertThat(b.attachments()).isEmpty();
        assertThat(b.resv().waitTimeout(org.peerdma.dmabuf.resv.DmaResvUsage.BOOKKEEP, false, 0))
                .as("fence %d signalled", f).isPositive();
        assertThat(b.refcount()).as("only the other process holds it").isEqualTo(1);
        other.close(ofd);
    }

    // ================================================================ through Gogo

    private CommandSession gogo(CommandProcessorImpl proc) {
        for (String fn : DmaBufCommands.USAGE.keySet()) {
            proc.addCommand("dmabuf", cmds, fn);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        return proc.createSession(new ByteArrayInputStream(new byte[0]), out, out);
    }

    /** The outcome of a statement: its value as text, or "ERRNO: message"; anything else fails the test. */
    private static String run(CommandSession s, String statement) {
        try {
            return String.valueOf(s.execute(statement));
        } catch (KernelException e) {
            return e.getMessage();
        } catch (Exception e) {
            throw new AssertionError("'" + statement + "' threw " + e, e);
        }
    }

    @Test
    void gogoNeverThrowsAnythingButAnErrnoForAnyArguments() throws Exception {
        ThreadIOImpl tio = new ThreadIOImpl();
        tio.start();
        CommandProcessorImpl proc = new CommandProcessorImpl(tio);
        try {
            CommandSession s = gogo(proc);
            assertThat(run(s, "fd = dmabuf:heapalloc system 4K")).isEqualTo("3");
            assertThat(run(s, "a = dmabuf:attach $fd 05:00.0")).isEqualTo("1");
            assertThat(run(s, "f = dmabuf:fence $fd")).isEqualTo("2");
            List<String> argLists = List.of("", "x", "x y", "x y z", "x y z w v u", "-1", "-1 -1", "-1 -1 -1",
                    "99999999999999999999", "99999999999999999999 0 1", "4294967299 0 1", "3 -1 -1", "3 0 -1",
                    "3 99999999999999999999 1", "1 0 4294967296", "3.5 0 1", "0x3 zero 1", "$fd $fd $fd $fd", "null",
                    "null null", "null null null", "$fd null", "$fd 0 null", "$a null null", "$fd 05:00.0 nic null");
            List<String> outcomes = new ArrayList<>();
            for (String fn : DmaBufCommands.USAGE.keySet()) {
                for (String args : argLists) {
                    String out = run(s, "dmabuf:" + fn + " " + args);
                    outcomes.add(fn + " " + args + " -> " + out);
                    if (out.startsWith("E")) {
                        assertThat(out).as("%s %s", fn, args).matches("E[A-Z]+: .+");
                    }
                }
            }
            assertThat(outcomes).filteredOn(o -> o.contains("4294967299")).as("fd 4294967299 is not fd 3")
                    .allMatch(o -> o.contains("-> E"));
            assertThat(run(s, "dmabuf:show $fd")).as("fd 3 still open").startsWith("fd 3: ");
        } finally {
            proc.stop();
            tio.stop();
        }
    }

    @Test
    void gogosNullWordAndExtraWordsAreEinvalWithTheUsageNeverIgnored() throws Exception {
        ThreadIOImpl tio = new ThreadIOImpl();
        tio.start();
        CommandProcessorImpl proc = new CommandProcessorImpl(tio);
        try {
            CommandSession s = gogo(proc);
            assertThat(run(s, "fd = dmabuf:heapalloc system 4K")).isEqualTo("3");
            assertThat(run(s, "a = dmabuf:attach $fd 05:00.0")).isEqualTo("1");
            assertThat(run(s, "f = dmabuf:fence $fd")).isEqualTo("2");
            // Gogo's word null reaches a String parameter as a Java null (a NullPointerException before)
            assertThat(run(s, "dmabuf:write $fd 0 null"))
                    .isEqualTo("EINVAL: wrong arguments for write (TEXT is null): usage: dmabuf:write FD OFFSET TEXT");
            String[][] nulls = {{"heapalloc", "null 4K"}, {"heapalloc", "system null"}, {"udmabuf", "null"},
                {"udmabuf", "4K null"}, {"gpuprobe", "null"}, {"gpuprobe", "03:00.0 null"}, {"gpualloc", "null 1M"},
                {"gpualloc", "03:00.0 null"}, {"attach", "$fd null"}, {"attach", "$fd 05:00.0 null"}, {"map", "$a null"},
                {"devwrite", "$a 0 null"}, {"fence", "$fd null"}, {"wait", "$fd null 0"}, {"signal", "$f null"},
                {"show", "null"}, {"read", "$fd null 1"}};
            for (String[] c : nulls) {
                assertThat(run(s, "dmabuf:" + c[0] + " " + c[1])).as("%s %s", c[0], c[1])
                        .startsWith("EINVAL: wrong arguments for " + c[0]).endsWith("usage: " + DmaBufCommands.USAGE.get(c[0]));
            }
            // words past a command's optional ones land in its varargs array: refused, not ignored
            String[][] extra = {{"map", "$a to_device extra"}, {"attach", "$fd 05:00.0 nic x"}, {"signal", "$f -5 -6"},
                {"fence", "$fd write x"}, {"gpuprobe", "03:00.0 1 1M x"}, {"udmabuf", "4K x y"}};
            for (String[] c : extra) {
                assertThat(run(s, "dmabuf:" + c[0] + " " + c[1])).as("%s %s", c[0], c[1])
                        .isEqualTo("EINVAL: wrong arguments for " + c[0] + " (1 too many): usage: "
                                + DmaBufCommands.USAGE.get(c[0]));
            }
            String shown = run(s, "dmabuf:show $fd");
            assertThat(shown).as("nothing was done by a refused command").doesNotContain("mapped")
                    .containsOnlyOnce("attachment ").containsOnlyOnce("fence ").contains("fence 2 WRITE status 0");
            assertThat(run(s, "dmabuf:bufs")).doesNotContain("udmabuf");
            assertThat(core.buffers()).hasSize(1);
        } finally {
            proc.stop();
            tio.stop();
        }
    }

    @Test
    void theUsageTableHasAFixedOrder() {
        assertThat(DmaBufCommands.USAGE.keySet()).as("the same order in every JVM, so a failing sweep reproduces")
                .startsWith("bufs", "show", "heaps", "heapalloc").endsWith("signal", "wait").hasSize(19);
    }

    @Test
    void gogoUsageAndArgumentErrorsNameTheCommand() throws Exception {
        ThreadIOImpl tio = new ThreadIOImpl();
        tio.start();
        CommandProcessorImpl proc = new CommandProcessorImpl(tio);
        try {
            CommandSession s = gogo(proc);
            // Object.wait(), wait(long) and wait(long, int) are public methods Gogo would find by the name
            assertThat(run(s, "dmabuf:wait")).isEqualTo("EINVAL: wrong arguments for wait (missing 3): usage: "
                    + DmaBufCommands.WAIT_USAGE);
            assertThat(run(s, "dmabuf:wait 5")).startsWith("EINVAL: wrong arguments for wait (missing 2)");
            assertThat(run(s, "dmabuf:wait 5 100")).startsWith("EINVAL: wrong arguments for wait (missing 1)");
            assertThat(run(s, "wait")).as("unscoped").startsWith("EINVAL: wrong arguments for wait");
            for (var e : DmaBufCommands.USAGE.entrySet()) {
                if (e.getKey().equals("bufs") || e.getKey().equals("heaps")) {
                    assertThat(run(s, "dmabuf:" + e.getKey() + " extra"))
                            .isEqualTo("EINVAL: wrong arguments for " + e.getKey() + " (1 too many): usage: " + e.getValue());
                    continue;
                }
                assertThat(run(s, "dmabuf:" + e.getKey())).as(e.getKey())
                        .startsWith("EINVAL: wrong arguments for " + e.getKey() + " (missing ")
                        .endsWith("usage: " + e.getValue());
            }
            assertThat(run(s, "dmabuf:attach 1")).as("what the script runner's users see")
                    .isEqualTo("EINVAL: wrong arguments for attach (missing 1): usage: dmabuf:attach FD BDF [nic|nvme]");
            assertThat(run(s, "dmabuf:read abc 0 4")).isEqualTo("EINVAL: wrong arguments for read: FD 'abc' is not a number "
                    + "(64 bits at most): usage: dmabuf:read FD OFFSET BYTES");
            assertThat(run(s, "dmabuf:read 3 0 99999999999999999999")).startsWith(
                    "EINVAL: wrong arguments for read: BYTES '99999999999999999999' is not a number");
            assertThat(run(s, "fd = dmabuf:heapalloc system 4K")).isEqualTo("3");
            assertThat(run(s, "dmabuf:write $fd 0 hi")).isEqualTo("2 bytes written at 0");
            assertThat(run(s, "dmabuf:read 0x3 0 2")).as("hexadecimal, read by _main").isEqualTo("hi");
            assertThat(run(s, "dmabuf:read 3 0 2")).isEqualTo("hi");
            // 4294967299 is 3 in 32 bits: an int parameter would have read fd 3
            assertThat(run(s, "dmabuf:read 4294967299 0 2")).startsWith("EBADF: fd 4294967299 is not a dma-buf open");
            assertThat(run(s, "dmabuf:close 4294967299")).startsWith("EBADF");
            assertThat(run(s, "a = dmabuf:attach $fd 05:00.0 nic")).isEqualTo("1");
            // 4294967296 is 0 in 32 bits: an int length would have read nothing and succeeded
            assertThat(run(s, "dmabuf:devread $a 0 4294967296")).isEqualTo(
                    "EINVAL: 4294967296 bytes at 0 is outside the 4096-byte buffer");
            assertThat(run(s, "dmabuf:devread $a 0 -1")).isEqualTo("EINVAL: length -1 is negative");
            assertThat(run(s, "dmabuf:read $fd 0 -1")).isEqualTo("EINVAL: length -1 is negative");
            assertThat(run(s, "dmabuf:read $fd -1 1")).startsWith("EINVAL: 1 bytes at -1 is outside");
            assertThat(run(s, "dmabuf:signal 1 -5")).as("attachment 1 is no fence").startsWith("EINVAL: no fence 1");
            assertThat(run(s, "f = dmabuf:fence $fd read")).isEqualTo("2");
            assertThat(run(s, "dmabuf:signal $f x")).startsWith("EINVAL: wrong arguments for signal: ERROR 'x'");
            assertThat(run(s, "dmabuf:wait $fd read 0")).isEqualTo("timed out after 0 ms");
            assertThat(run(s, "dmabuf:signal $f -5")).isEqualTo("fence 2 signalled (status -5)");
            assertThat(run(s, "dmabuf:wait $fd read 4294967296")).startsWith("EINVAL: timeout 4294967296 ms is outside");
            assertThat(run(s, "dmabuf:close $fd")).isEqualTo("fd 3 closed");
        } finally {
            proc.stop();
            tio.stop();
        }
    }
}
