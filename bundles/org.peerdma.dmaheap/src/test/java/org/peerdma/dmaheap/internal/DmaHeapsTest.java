package org.peerdma.dmaheap.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;

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
import org.peerdma.dmaheap.DmaHeaps;
import org.peerdma.dmaheap.DmaHeaps.AllocationData;
import org.peerdma.errno.Errno;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;

/** dma-heap.c's ioctl checks, the system and CMA heaps' layouts and limits, and teardown. */
class DmaHeapsTest {
    static final long PAGE = 4096;
    private DmaBufCoreImpl core;
    private DmaHeapsImpl heaps;
    private final org.peerdma.dma.PhysMemory ram = org.peerdma.dma.internal.TestDma.ram();
    private FdTable proc;

    static HeapConfig config(int cmaMb, int totalramMb) {
        return new HeapConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return HeapConfig.class;
            }

            @Override
            public int cma__mb() {
                return cmaMb;
            }

            @Override
            public String cma__name() {
                return "reserved";
            }

            @Override
            public int totalram__mb() {
                return totalramMb;
            }
        };
    }

    @BeforeEach
    void setUp() {
        core = new DmaBufCoreImpl();
        heaps = new DmaHeapsImpl();
        heaps.dmabuf = core;
        heaps.ram = ram;
        heaps.activate(config(4, 8));
        proc = core.fdTable("heap-test");
    }

    private static AllocationData data(long len) {
        return new AllocationData(len, 0, DmaHeaps.O_RDWR | DmaHeaps.O_CLOEXEC, 0);
    }

    @Test
    void listsTheSystemHeapAndTheCmaArea() {
        assertThat(heaps.heaps()).containsExactly("system", "reserved");
        DmaHeapsImpl noCma = new DmaHeapsImpl();
        noCma.dmabuf = core;
        noCma.ram = ram;
        noCma.activate(config(0, 8));
        assertThat(noCma.heaps()).containsExactly("system");
        assertThat(noCma.alloc(proc, "reserved", data(PAGE))).isEqualTo(Errno.ENOENT.negative());
    }

    @Test
    void allocationChecksAsDmaHeapIoctlAllocate() {
        assertThat(heaps.alloc(proc, "system", new AllocationData(PAGE, 3, 0, 0))).as("fd must be 0")
                .isEqualTo(Errno.EINVAL.negative());
        assertThat(heaps.alloc(proc, "system", new AllocationData(PAGE, 0, 0x800 /* O_NONBLOCK */, 0)))
                .isEqualTo(Errno.EINVAL.negative());
        assertThat(heaps.alloc(proc, "system", new AllocationData(PAGE, 0, 0, 1))).as("no heap flags defined")
                .isEqualTo(Errno.EINVAL.negative());
        assertThat(heaps.alloc(proc, "system", data(0))).isEqualTo(Errno.EINVAL.negative());
        assertThat(heaps.alloc(proc, "system", data(-1L))).as("PAGE_ALIGN(U64_MAX) wraps to 0")
                .isEqualTo(Errno.EINVAL.negative());
        assertThat(heaps.alloc(proc, "system", data(9L << 20))).as("more than totalram")
                .isEqualTo(Errno.ENOMEM.negative());
        assertThat(heaps.alloc(proc, "nosuch", data(PAGE))).isEqualTo(Errno.ENOENT.negative());
        assertThat(heaps.ioctl(proc, "system", DmaHeaps.DMA_HEAP_IOCTL_ALLOC + 1, data(PAGE)))
                .as("_IOC_NR past the table").isEqualTo(Errno.EINVAL.negative());
        assertThat(heaps.ioctl(proc, "system", DmaHeaps.DMA_HEAP_IOCTL_ALLOC, "junk")).isEqualTo(Errno.EFAULT.negative());
        assertThat(core.buffers()).as("nothing leaked by refused calls").isEmpty();

        int fd = heaps.ioctl(proc, "system", DmaHeaps.DMA_HEAP_IOCTL_ALLOC, data(100));
        assertThat(fd).isGreaterThanOrEqualTo(0);
        DmaBuf buf = proc.get(fd);
        assertThat(buf.size()).as("rounded up to a page").isEqualTo(PAGE);
        assertThat(buf.exporter()).isEqualTo("system");
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
    }

    @Test
    void systemHeapUsesLargestOrdersFirstAndReturnsMemoryOnClose() {
        long len = (256 + 16 + 3) * PAGE; // one order-8, one order-4, three order-0 chunks
        int fd = heaps.alloc(proc, "system", data(len));
        DmaBuf buf = proc.get(fd);
        HeapBuffer hb = (HeapBuffer) buf.priv();
        assertThat(hb.chunks()).extracting(c -> c.mem().capacity() / (int) PAGE).containsExactly(256, 16, 1, 1, 1);
        // CPU writes through one mapping are seen through another: one memory
        BufMap m = proc.mmap(fd, 0, len, true);
        m.put(257 * PAGE + 7, (byte) 0x5a);
        buf.resv().lock();
        BufMap v = core.vmap(buf);
        buf.resv().unlock();
        assertThat(v.get(257 * PAGE + 7)).isEqualTo((byte) 0x5a);
        buf.resv().lock();
        core.vunmap(buf, v);
        buf.resv().unlock();
        // the rest of totalram (8 MiB) is all that can still be had
        long left = (8L << 20) - len;
        assertThat(heaps.alloc(proc, "system", data(left + PAGE))).isEqualTo(Errno.ENOMEM.negative());
        int fd2 = heaps.alloc(proc, "system", data(left));
        assertThat(fd2).isGreaterThanOrEqualTo(0);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(proc.close(fd2)).isZero();
        assertThat(core.buffers()).isEmpty();
        int fd3 = heaps.alloc(proc, "system", data(8L << 20));
        assertThat(fd3).as("all of totalram again once freed").isGreaterThanOrEqualTo(0);
        assertThat(proc.close(fd3)).isZero();
    }

    @Test
    void cmaHeapIsContiguousAlignedAndFragments() {
        long area = 4L << 20;
        int a = heaps.alloc(proc, "reserved", data(PAGE));
        int b = heaps.alloc(proc, "reserved", data(3 * PAGE)); // order 2: aligned to 4 pages
        DmaBuf ba = proc.get(a);
        DmaBuf bb = proc.get(b);
        long base = DmaHeapsImpl.CMA_END - area;
        assertThat(((HeapBuffer) ba.priv()).chunks()).singleElement().extracting(HeapBuffer.Chunk::phys).isEqualTo(base);
        assertThat(((HeapBuffer) bb.priv()).chunks()).singleElement().extracting(HeapBuffer.Chunk::phys)
                .isEqualTo(base + 4 * PAGE);
        assertThat(heaps.cmaUsage()).containsExactly(4 * PAGE, area);
        // 4 MiB area, 16 KiB at its start in use: a 4 MiB request cannot be placed; -ENOMEM, no state changed
        assertThat(heaps.alloc(proc, "reserved", data(area))).isEqualTo(Errno.ENOMEM.negative());
        assertThat(heaps.cmaUsage()).containsExactly(4 * PAGE, area);
        core.put(ba);
        core.put(bb);
        assertThat(proc.close(a)).isZero();
        assertThat(proc.close(b)).isZero();
        assertThat(heaps.cmaUsage()).containsExactly(0L, area);
        int whole = heaps.alloc(proc, "reserved", data(area));
        assertThat(whole).as("the whole area once freed").isGreaterThanOrEqualTo(0);
        assertThat(proc.close(whole)).isZero();
        assertThat(heaps.cmaUsage()).containsExactly(0L, area);
    }

    @Test
    void devicesMapHeapBuffersThroughTheDmaApi() {
        int fd = heaps.alloc(proc, "system", data(17 * PAGE));
        DmaBuf buf = proc.get(fd);
        MachineDTO mdto = new MachineDTO();
        DeviceDTO nicDto = new DeviceDTO();
        nicDto.bdf = "0000:00:01.0";
        mdto.devices.add(nicDto);
        PciCoreImpl pci = new PciCoreImpl();
        pci.load(mdto);
        DeviceNode nic = DeviceNode.of(pci.get(Bdf.parse("00:01.0")));
        DmaBufAttachment at = core.attach(buf, nic, null, null);
        assertThatThrownBy(() -> core.mapAttachmentUnlocked(at, DmaDirection.BIDIRECTIONAL))
                .hasMessageContaining("DMA ops");
        heaps.dma = TestDma.api();
        SgTable sgt = core.mapAttachmentUnlocked(at, DmaDirection.BIDIRECTIONAL);
        HeapBuffer hb = (HeapBuffer) buf.priv();
        assertThat(sgt.entries()).hasSize(2); // order-4 chunk + one page
        assertThat(sgt.entries().get(0).dmaAddress()).isEqualTo(TestDma.IOVA_BASE + hb.chunks().get(0).phys());
        assertThat(sgt.entries().get(0).dmaLength()).isEqualTo(16 * PAGE);
        core.unmapAttachmentUnlocked(at, sgt, DmaDirection.BIDIRECTIONAL);
        assertThat(heaps.dma.mappings(pci.get(Bdf.parse("00:01.0")))).isEmpty();
        core.detach(at);
        core.put(buf);
        assertThat(proc.close(fd)).isZero();
        assertThat(core.buffers()).isEmpty();
    }
}
