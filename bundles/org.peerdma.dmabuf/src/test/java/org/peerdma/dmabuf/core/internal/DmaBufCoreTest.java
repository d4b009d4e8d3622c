package org.peerdma.dmabuf.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.ImporterOps;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.fence.DmaFence;
import org.peerdma.dmabuf.fence.FenceOps;
import org.peerdma.dmabuf.resv.DmaResvUsage;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.DeviceNode;

/** The dma-buf core's rules (reference §A4 DB-1..DB-11). */
class DmaBufCoreTest {
    /** A system-memory exporter: one direct buffer, every op recorded. */
    static class SysExporter implements DmaBufOps {
        final ByteBuffer mem;
        final List<String> log = new ArrayList<>();
        boolean pinning;
        boolean mapFails;
        int attachResult;
        int pinResult;

        SysExporter(int size) {
            mem = ByteBuffer.allocateDirect(size);
        }

        @Override
        public int attach(DmaBuf buf, DmaBufAttachment a) {
            log.add("attach " + a.device().name());
            return attachResult;
        }

        @Override
        public void detach(DmaBuf buf, DmaBufAttachment a) {
            log.add("detach");
        }

        @Override
        public boolean hasPin() {
            return pinning;
        }

        @Override
        public int pin(DmaBufAttachment a) {
            log.add("pin");
            return pinResult;
        }

        @Override
        public void unpin(DmaBufAttachment a) {
            log.add("unpin");
        }

        @Override
        public SgTable mapDmaBuf(DmaBufAttachment a, DmaDirection dir) {
            log.add("map " + dir);
            return mapFails ? null : new SgTable(List.of(new SgEntry(0x10_0000_0000L, mem.capacity(), 0x10_0000_0000L,
                    mem.capacity())));
        }

        @Override
        public void unmapDmaBuf(DmaBufAttachment a, SgTable sgt, DmaDirection dir) {
            log.add("unmap " + dir);
        }

        @Override
        public void release(DmaBuf buf) {
            log.add("release");
        }

        @Override
        public int beginCpuAccess(DmaBuf buf, DmaDirection dir) {
            log.add("begin " + dir);
            return 0;
        }

        @Override
        public int endCpuAccess(DmaBuf buf, DmaDirection dir) {
            log.add("end " + dir);
            return 0;
        }

        @Override
        public boolean hasMmap() {
            return true;
        }

        @Override
        public BufMap mmap(DmaBuf buf, long pgoff, long length, boolean shared) {
            return BufMap.of(List.of(mem)).slice(pgoff << 12, length);
        }

        @Override
        public boolean hasVmap() {
            return true;
        }

        @Override
        public BufMap vmap(DmaBuf buf) {
            log.add("vmap");
            return BufMap.of(List.of(mem));
        }

        @Override
        public void vunmap(DmaBuf buf, BufMap map) {
            log.add("vunmap");
        }
    }

    static final FenceOps FOPS = new FenceOps() {
        @Override
        public String driverName(DmaFence f) {
            return "test";
        }

        @Override
        public String timelineName(DmaFence f) {
            return "test";
        }
    };

    private DmaBufCoreImpl core;
    private SysExporter exp;
    private DmaBuf buf;
    private final DeviceNode nic = DeviceNode.platform("nic0", null);

    @BeforeEach
    void setUp() {
        core = new DmaBufCoreImpl();
        exp = new SysExporter(4 * 4096);
        buf = core.export(new ExportInfo("sys", exp, 4 * 4096, "priv", null));
    }

    private static Errno errno(Runnable r) {
        try {
            r.run();
        } catch (KernelException ex) {
            return ex.errno();
        }
        throw new AssertionError("no error");
    }

    @Test
    void exportChecksMandatoryOps() {
        assertThat(errno(() -> core.export(new ExportInfo("x", exp, 4096, null, null)))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.export(new ExportInfo("x", null, 4096, "p", null)))).isEqualTo(Errno.EINVAL);
        SysExporter half = new SysExporter(4096) {
            @Override
            public boolean hasPin() {
                return true;
            }

            @Override
            public boolean hasUnpin() {
                return false;
            }
        };
        assertThatThrownBy(() -> core.export(new ExportInfo("x", half, 4096, "p", null)))
                .hasMessageContaining("pin and unpin");
        assertThat(errno(() -> core.export(new ExportInfo("x", exp, 0, "p", null)))).isEqualTo(Errno.EINVAL);
        assertThat(core.buffers()).containsExactly(buf);
    }

    @Test
    void fdsAndReferences() {
        FdTable p = core.fdTable("proc1");
        assertThat(p.fd(null, 0)).isEqualTo(-22);
        int fd = p.fd(buf, 0);
        assertThat(errno(() -> p.get(99))).isEqualTo(Errno.EBADF);
        int other = p.openOther("/etc/passwd");
        assertThat(errno(() -> p.get(other))).isEqualTo(Errno.EINVAL);
        DmaBuf again = p.get(fd);
        assertThat(again).isSameAs(buf);
        assertThat(buf.refcount()).isEqualTo(2);
        assertThat(p.close(fd)).isZero();
        assertThat(p.close(fd)).isEqualTo(-9);
        assertThat(exp.log).doesNotContain("release");
        core.put(again);
        assertThat(exp.log).containsExactly("release");
        assertThat(core.buffers()).isEmpty();
        assertThat(errno(() -> core.put(buf))).isEqualTo(Errno.EINVAL);
    }

    @Test
    void fileSemantics() {
        FdTable p = core.fdTable("proc1");
        int fd = p.fd(buf, 0);
        assertThat(p.llseek(fd, 0, DmaBufCore.SEEK_END)).isEqualTo(4 * 4096);
        assertThat(p.llseek(fd, 0, DmaBufCore.SEEK_SET)).isZero();
        assertThat(p.llseek(fd, 1, DmaBufCore.SEEK_SET)).isEqualTo(-22);
        assertThat(p.llseek(fd, 0, DmaBufCore.SEEK_CUR)).isEqualTo(-22);
        assertThat(p.llseek(77, 0, DmaBufCore.SEEK_SET)).isEqualTo(-9);
        assertThat(errno(() -> p.mmap(fd, 3, 2 * 4096))).isEqualTo(Errno.EINVAL);
        BufMap user = p.mmap(fd, 1, 4096);
        user.putInt(0, 0x5eedf00d);
        // the same bytes through the kernel mapping: no copy
        buf.resv().lock();
        BufMap k = core.vmap(buf);
        assertThat(k.getInt(4096)).isEqualTo(0x5eedf00d);
        core.vunmap(buf, k);
        buf.resv().unlock();

        assertThat(p.ioctl(fd, DmaBufCore.DMA_BUF_IOCTL_SYNC, 8L)).isEqualTo(-22); // flags outside RW|END
        assertThat(p.ioctl(fd, DmaBufCore.DMA_BUF_IOCTL_SYNC, 0L)).isEqualTo(-22); // no direction
        assertThat(p.ioctl(fd, DmaBufCore.DMA_BUF_IOCTL_SYNC, DmaBufCore.DMA_BUF_SYNC_READ)).isZero();
        assertThat(p.ioctl(fd, DmaBufCore.DMA_BUF_IOCTL_SYNC, DmaBufCore.DMA_BUF_SYNC_END
                | DmaBufCore.DMA_BUF_SYNC_WRITE)).isZero();
        assertThat(exp.log).containsSubsequence("begin FROM_DEVICE", "end TO_DEVICE");
        assertThat(p.ioctl(fd, DmaBufCore.DMA_BUF_SET_NAME, "frame-0")).isZero();
        assertThat(buf.name()).isEqualTo("frame-0");
        assertThat(p.ioctl(fd, DmaBufCore.DMA_BUF_SET_NAME, "x".repeat(31))).isZero();
        assertThat(p.ioctl(fd, DmaBufCore.DMA_BUF_SET_NAME, "x".repeat(32))).isEqualTo(-22);
        assertThat(p.ioctl(fd, 0x1234, null)).isEqualTo(Errno.ENOTTY.negative());
    }

    @Test
    void attachP2pFlagAndExporterVeto() {
        assertThat(errno(() -> core.attach(null, nic, null, null))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> core.attach(buf, null, null, null))).isEqualTo(Errno.EINVAL);
        DmaBufAttachment stat = core.attach(buf, nic, null, null);
        assertThat(stat.dynamic()).isFalse();
        assertThat(stat.peer2peer()).isFalse();
        ImporterOps p2p = new ImporterOps() {
            @Override
            public boolean allowPeer2peer() {
                return true;
            }

            @Override
            public void moveNotify(DmaBufAttachment a) {
                exp.log.add("move_notify " + a.device().name());
            }
        };
        DmaBufAttachment dyn = core.attach(buf, DeviceNode.platform("gpu1", null), p2p, null);
        assertThat(dyn.dynamic()).isTrue();
        assertThat(dyn.peer2peer()).isTrue();
        assertThat(buf.attachments()).hasSize(2);
        exp.attachResult = Errno.ENODEV.negative();
        assertThat(errno(() -> core.attach(buf, nic, null, null))).isEqualTo(Errno.ENODEV);
        assertThat(buf.attachments()).hasSize(2);
        buf.resv().lock();
        core.moveNotify(buf);
        buf.resv().unlock();
        assertThat(exp.log).contains("move_notify gpu1").doesNotContain("move_notify nic0");
        core.detach(stat);
        core.detach(dyn);
        assertThat(buf.attachments()).isEmpty();
    }

    @Test
    void mappingNeedsTheLockPinsForStaticImportersAndWaitsForKernelFences() throws Exception {
        exp.pinning = true;
        DmaBufAttachment stat = core.attach(buf, nic, null, null);
        assertThatThrownBy(() -> core.mapAttachment(stat, DmaDirection.TO_DEVICE))
                .hasMessageContaining("dma_resv_assert_held");
        // a kernel fence (e.g. a migration) the static importer must wait for
        DmaFence move = new DmaFence(FOPS, new Object(), DmaFence.contextAlloc(1), 1);
        buf.resv().lock();
        buf.resv().reserveFences(1);
        buf.resv().addFence(move, DmaResvUsage.KERNEL);
        buf.resv().unlock();
        Thread signaler = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            move.signal();
        });
        signaler.start();
        SgTable sgt = core.mapAttachmentUnlocked(stat, DmaDirection.TO_DEVICE);
        assertThat(move.isSignaled()).isTrue(); // the map waited for it
        assertThat(exp.log).containsSubsequence("pin", "map TO_DEVICE");
        core.unmapAttachmentUnlocked(stat, sgt, DmaDirection.TO_DEVICE);
        assertThat(exp.log).containsSubsequence("unmap TO_DEVICE", "unpin");
        assertThatThrownBy(() -> core.unmapAttachmentUnlocked(stat, sgt, DmaDirection.TO_DEVICE))
                .hasMessageContaining("does not hold this mapping");
        // a failing map is ENOMEM and undoes the pin
        exp.mapFails = true;
        exp.log.clear();
        assertThat(errno(() -> core.mapAttachmentUnlocked(stat, DmaDirection.TO_DEVICE))).isEqualTo(Errno.ENOMEM);
        assertThat(exp.log).containsExactly("pin", "map TO_DEVICE", "unpin");
        // pin errors come back; EBUSY is also a WARN
        exp.mapFails = false;
        exp.pinResult = Errno.EBUSY.negative();
        assertThat(errno(() -> core.mapAttachmentUnlocked(stat, DmaDirection.TO_DEVICE))).isEqualTo(Errno.EBUSY);
        assertThat(core.warnings()).anyMatch(w -> w.contains("-EBUSY from pin"));
        // static pin/unpin calls are WARNs; without ops pin returns 0
        buf.resv().lock();
        exp.pinResult = 0;
        assertThat(core.pin(stat)).isZero();
        assertThat(core.warnings()).anyMatch(w -> w.contains("dma_buf_pin on a static attachment"));
        core.unpin(stat);
        buf.resv().unlock();
    }

    @Test
    void dynamicImportersDoNotPinOrWait() {
        exp.pinning = true;
        DmaFence busy = new DmaFence(FOPS, new Object(), DmaFence.contextAlloc(1), 1);
        buf.resv().lock();
        buf.resv().reserveFences(1);
        buf.resv().addFence(busy, DmaResvUsage.KERNEL);
        DmaBufAttachment dyn = core.attach(buf, nic, new ImporterOps() {
            @Override
            public boolean allowPeer2peer() {
                return false;
            }

            @Override
            public void moveNotify(DmaBufAttachment a) {
            }
        }, null);
        SgTable sgt = core.mapAttachment(dyn, DmaDirection.FROM_DEVICE);
        assertThat(exp.log).doesNotContain("pin");
        core.unmapAttachment(dyn, sgt, DmaDirection.FROM_DEVICE);
        buf.resv().unlock();
        busy.signal();
    }

    @Test
    void cpuAccessWaitsForTheRightFences() {
        DmaFence reader = new DmaFence(FOPS, new Object(), DmaFence.contextAlloc(1), 1);
        buf.resv().lock();
        buf.resv().reserveFences(1);
        buf.resv().addFence(reader, DmaResvUsage.READ);
        buf.resv().unlock();
        assertThat(core.beginCpuAccess(null, DmaDirection.FROM_DEVICE)).isEqualTo(-22);
        // a CPU read waits only for writers: the READ fence does not block it
        assertThat(core.beginCpuAccess(buf, DmaDirection.FROM_DEVICE)).isZero();
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(30);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            reader.signal();
        });
        t.start();
        // a CPU write waits for readers too
        assertThat(core.beginCpuAccess(buf, DmaDirection.TO_DEVICE)).isZero();
        assertThat(reader.isSignaled()).isTrue();
    }

    @Test
    void vmapIsCounted() {
        buf.resv().lock();
        BufMap a = core.vmap(buf);
        BufMap b = core.vmap(buf);
        assertThat(b).isSameAs(a);
        assertThat(buf.vmapCount()).isEqualTo(2);
        assertThatThrownBy(() -> core.vunmap(buf, BufMap.of(List.of(ByteBuffer.allocateDirect(4))))).hasMessageContaining("different map");
        core.vunmap(buf, a);
        assertThat(exp.log).doesNotContain("vunmap");
        core.vunmap(buf, a);
        assertThat(exp.log).containsSubsequence("vmap", "vunmap");
        assertThatThrownBy(() -> core.vunmap(buf, a)).hasMessageContaining("vmap count 0");
        buf.resv().unlock();
        assertThatThrownBy(() -> core.vmap(buf)).hasMessageContaining("dma_resv_assert_held");
        // releasing with a vmap held is a BUG; with attachments a WARN
        buf.resv().lock();
        core.vmap(buf);
        buf.resv().unlock();
        assertThatThrownBy(() -> core.put(buf)).hasMessageContaining("BUG");
    }

    @Test
    void bufMapSpansSegmentsWithoutCopying() {
        ByteBuffer p0 = ByteBuffer.allocateDirect(4096);
        ByteBuffer p1 = ByteBuffer.allocateDirect(4096);
        BufMap m = BufMap.of(List.of(p0, p1));
        assertThat(m.size()).isEqualTo(8192);
        assertThat(m.contiguous()).isFalse();
        m.putInt(4094, 0x11223344); // straddles the two pages
        assertThat(p0.get(4094)).isEqualTo((byte) 0x44);
        assertThat(p1.get(1)).isEqualTo((byte) 0x11);
        assertThat(m.getInt(4094)).isEqualTo(0x11223344);
        BufMap tail = m.slice(4096, 4096);
        p1.put(100, (byte) 7);
        assertThat(tail.get(100)).isEqualTo((byte) 7);
        assertThat(errno(() -> m.get(8192))).isEqualTo(Errno.EFAULT);
        assertThat(errno(() -> m.slice(8000, 400))).isEqualTo(Errno.EFAULT);
    }

    @Test
    void aReadPastWhatOneCopyCanHoldIsEnomemNeverALengthCutTo32Bits() {
        SysExporter small = new SysExporter(4096);
        DmaBuf huge = core.export(new ExportInfo("huge", small, 5L << 30, "priv", null)); // 5 GiB, as hyper_dmabuf allows
        // 4294967301 is 5 in 32 bits; 3 GiB is negative; just past the JVM's largest array
        for (long len : new long[] {4_294_967_301L, 3L << 30, Integer.MAX_VALUE - 7L, Integer.MAX_VALUE, 5L << 30}) {
            KernelException e = org.assertj.core.api.Assertions.catchThrowableOfType(KernelException.class,
                    () -> core.readBytes(huge, 0, len));
            assertThat(e).as("%d bytes", len).isNotNull();
            assertThat(e.errno()).as("kvmalloc refuses more than INT_MAX").isEqualTo(Errno.ENOMEM);
        }
        assertThat(small.log).as("refused before anything is mapped").doesNotContain("vmap");
        assertThat(errno(() -> core.readBytes(huge, 1, 5L << 30))).as("a range outside the buffer stays EINVAL")
                .isEqualTo(Errno.EINVAL);
        assertThat(core.readBytes(huge, 4000, 5)).hasSize(5);
        core.put(huge);
    }

    @Test
    void releaseWithAttachmentsWarns() {
        core.attach(buf, nic, null, null);
        core.put(buf);
        assertThat(core.warnings()).anyMatch(w -> w.contains("released with 1 attachment"));
        assertThat(exp.log).contains("release");
    }
}
