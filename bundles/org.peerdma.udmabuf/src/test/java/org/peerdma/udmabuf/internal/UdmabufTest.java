package org.peerdma.udmabuf.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.errno.Errno;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.internal.PciCoreImpl;
import org.peerdma.udmabuf.Memfd;
import org.peerdma.udmabuf.Udmabuf;

/** tools/testing/selftests/drivers/dma-buf/udmabuf.c re-expressed (reference §B3), plus UD-2/UD-3. */
class UdmabufTest {
    static final int PAGE = 4096;
    private UdmabufImpl udmabuf;
    private FdTable proc;
    private DmaBufCore core;

    static UdmabufConfig config(int list, int sizeMb) {
        return new UdmabufConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return UdmabufConfig.class;
            }

            @Override
            public int list__limit() {
                return list;
            }

            @Override
            public int size__limit__mb() {
                return sizeMb;
            }
        };
    }

    @BeforeEach
    void setUp() {
        core = new DmaBufCoreImpl();
        udmabuf = new UdmabufImpl();
        udmabuf.dmabuf = core;
        udmabuf.ram = TestDma.ram();
        udmabuf.configure(config(1024, 64));
        proc = core.fdTable("selftest");
    }

    /** memfd_create(MFD_ALLOW_SEALING [| flags]) + F_SEAL_SHRINK + ftruncate(size). */
    private int memfd(long size, int flags, byte fill) {
        Memfd m = Memfd.create("udmabuf-test", Memfd.MFD_ALLOW_SEALING | flags);
        assertThat(m.ftruncate(size)).isZero();
        assertThat(m.addSeals(Memfd.F_SEAL_SHRINK)).isZero();
        if (fill != 0) {
            byte[] b = new byte[(int) Math.min(size, 1 << 20)];
            Arrays.fill(b, fill);
            for (long off = 0; off < size; off += b.length) {
                m.write(off, b);
            }
        }
        return proc.install(m);
    }

    @Test
    void selftests1to4() {
        int fd = memfd(4 * PAGE, 0, (byte) 0);
        assertThat(udmabuf.create(proc, fd, 0, PAGE / 2, PAGE)).as("1: unaligned offset").isEqualTo(-22);
        assertThat(udmabuf.create(proc, fd, 0, 0, PAGE / 2)).as("2: unaligned size").isEqualTo(-22);
        assertThat(udmabuf.create(proc, 0, 0, 0, PAGE)).as("3: not a memfd").isEqualTo(Errno.EBADFD.negative());
        int fill = memfd(4 * PAGE, 0, (byte) 'a');
        int buf = udmabuf.create(proc, fill, 0, 0, 4 * PAGE);
        assertThat(buf).as("4: create").isGreaterThanOrEqualTo(0);
        assertThat(proc.llseek(buf, 0, DmaBufCore.SEEK_END)).isEqualTo(4 * PAGE);
        assertThat(proc.mmap(buf, 0, 4 * PAGE).get(3 * PAGE + 5)).isEqualTo((byte) 'a');
    }

    /** Tests 5-7: pages of the udmabuf are the memfd's pages: rewriting the memfd shows through. */
    private void compareListAgainstMemfd(long memfdSize, int flags, long chunk, boolean mapBeforeWrite) {
        int fd = memfd(memfdSize, flags, mapBeforeWrite ? 0 : (byte) 'a');
        List<Udmabuf.Item> items = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            items.add(new Udmabuf.Item(fd, i * (memfdSize / 4), chunk));
        }
        int buf = udmabuf.createList(proc, Udmabuf.UDMABUF_FLAGS_CLOEXEC, items);
        assertThat(buf).isGreaterThanOrEqualTo(0);
        BufMap map = proc.mmap(buf, 0, 4 * chunk);
        Memfd m = (Memfd) proc.file(fd);
        byte[] b = new byte[(int) Math.min(memfdSize, 1 << 20)];
        Arrays.fill(b, (byte) 'b');
        for (long off = 0; off < memfdSize; off += b.length) {
            m.write(off, b);
        }
        m.write(memfdSize / 4 + 7, new byte[] {'x'}); // a marker in item 1, page 0
        for (int i = 0; i < 4; i++) {
            for (long j = 0; j < chunk; j += PAGE) {
                long inBuf = i * chunk + j;
                long inMemfd = i * (memfdSize / 4) + j;
                assertThat(map.get(inBuf + 7)).isEqualTo(m.read(inMemfd + 7, 1)[0]);
            }
        }
        assertThat(map.get(chunk + 7)).isEqualTo((byte) 'x');
    }

    @Test
    void selftest5ListOfFourItemsIsCoherentWithTheMemfd() {
        compareListAgainstMemfd(1024L * PAGE, 0, 4 * PAGE, false);
    }

    @Test
    void selftest6HugetlbScaledDown() {
        // the selftest uses 1024 huge pages; 16 (32 MiB) keep the same layout within a unit test
        compareListAgainstMemfd(16L * Memfd.HPAGE_SIZE, Memfd.MFD_HUGETLB, 2L * Memfd.HPAGE_SIZE / 4, false);
    }

    @Test
    void selftest7CreatedAndMappedBeforeTheMemfdIsWritten() {
        compareListAgainstMemfd(16L * Memfd.HPAGE_SIZE, Memfd.MFD_HUGETLB, 2L * Memfd.HPAGE_SIZE / 4, true);
    }

    @Test
    void limitsAndSeals() {
        int fd = memfd(256L * PAGE, 0, (byte) 0);
        List<Udmabuf.Item> many = new ArrayList<>();
        for (int i = 0; i < 1025; i++) {
            many.add(new Udmabuf.Item(fd, 0, PAGE));
        }
        assertThat(udmabuf.createList(proc, 0, many)).as("1025 items").isEqualTo(-22);
        assertThat(udmabuf.createList(proc, 0, many.subList(0, 1024))).isGreaterThanOrEqualTo(0);
        udmabuf.configure(config(1024, 1)); // size_limit_mb=1, writable while loaded
        assertThat(udmabuf.create(proc, fd, 0, 0, (1 << 20) + PAGE)).as("over the size limit").isEqualTo(-22);
        assertThat(udmabuf.create(proc, fd, 0, 0, 1 << 20)).isGreaterThanOrEqualTo(0);
        assertThat(udmabuf.create(proc, fd, 0, 0, 0)).as("0 bytes").isEqualTo(-22);
        Memfd noShrink = Memfd.create("x", Memfd.MFD_ALLOW_SEALING);
        noShrink.ftruncate(4 * PAGE);
        assertThat(udmabuf.create(proc, proc.install(noShrink), 0, 0, PAGE)).as("no F_SEAL_SHRINK").isEqualTo(-22);
        for (int denied : new int[] {Memfd.F_SEAL_WRITE, Memfd.F_SEAL_FUTURE_WRITE}) {
            Memfd sealed = Memfd.create("y", Memfd.MFD_ALLOW_SEALING);
            sealed.ftruncate(4 * PAGE);
            sealed.addSeals(Memfd.F_SEAL_SHRINK | denied);
            assertThat(udmabuf.create(proc, proc.install(sealed), 0, 0, PAGE)).isEqualTo(-22);
        }
        Memfd unsealable = Memfd.create("z", 0);
        assertThat(unsealable.addSeals(Memfd.F_SEAL_SHRINK)).isEqualTo(Errno.EPERM.negative());
        assertThat(udmabuf.create(proc, proc.install("/tmp/regular-file"), 0, 0, PAGE)).isEqualTo(-77);
        assertThat(udmabuf.create(proc, fd, 0, 255L * PAGE, 2 * PAGE)).as("past the end").isEqualTo(-22);
        assertThat(udmabuf.ioctl(proc, 0x1234, null)).isEqualTo(Errno.ENOTTY.negative());
        assertThat(udmabuf.ioctl(proc, Udmabuf.UDMABUF_CREATE, new Udmabuf.Item(fd, 0, PAGE))).isPositive();
        assertThat(udmabuf.ioctl(proc, Udmabuf.UDMABUF_CREATE_LIST, "bogus")).isEqualTo(Errno.EFAULT.negative());
        // a shrink against the seal is refused
        assertThat(((Memfd) proc.file(fd)).ftruncate(PAGE)).isEqualTo(Errno.EPERM.negative());
    }

    @Test
    void mmapCpuAccessAndDmaMapping() {
        int fd = memfd(8L * PAGE, 0, (byte) 'q');
        int bfd = udmabuf.create(proc, fd, 0, 2L * PAGE, 4L * PAGE);
        assertThatThrownBy(() -> proc.mmap(bfd, 0, PAGE, false)).hasMessageContaining("shared");
        DmaBuf buf = proc.get(bfd);
        assertThat(core.endCpuAccess(buf, DmaDirection.FROM_DEVICE)).as("end before begin").isEqualTo(-22);
        assertThat(core.beginCpuAccess(buf, DmaDirection.FROM_DEVICE)).isZero();
        assertThat(core.endCpuAccess(buf, DmaDirection.FROM_DEVICE)).isZero();
        buf.resv().lock();
        BufMap v = core.vmap(buf);
        buf.resv().unlock();
        v.put(0, (byte) 'Z');
        assertThat(((Memfd) proc.file(fd)).read(2L * PAGE, 1)[0]).isEqualTo((byte) 'Z'); // same memory
        buf.resv().lock();
        core.vunmap(buf, v);
        buf.resv().unlock();
        // DMA mapping for a NIC goes through the DMA API, one entry per page
        MachineDTO mdto = new MachineDTO();
        DeviceDTO nicDto = new DeviceDTO();
        nicDto.bdf = "0000:00:01.0";
        mdto.devices.add(nicDto);
        PciCoreImpl pci = new PciCoreImpl();
        pci.load(mdto);
        DeviceNode nic = DeviceNode.of(pci.get(Bdf.parse("00:01.0")));
        DmaBufAttachment a = core.attach(buf, nic, null, null);
        assertThatThrownBy(() -> core.mapAttachmentUnlocked(a, DmaDirection.TO_DEVICE)).hasMessageContaining("DMA ops");
        udmabuf.dma = TestDma.api();
        SgTable sgt = core.mapAttachmentUnlocked(a, DmaDirection.TO_DEVICE);
        assertThat(sgt.entries()).hasSize(4);
        Memfd m = (Memfd) proc.file(fd);
        // the first entry's address leads back to the memfd's page 2 itself: write through it, read the file
        long phys = sgt.entries().get(0).dmaAddress() - TestDma.IOVA_BASE;
        assertThat(udmabuf.ram.ownerOf(phys)).startsWith("udmabuf");
        udmabuf.ram.write(phys, java.nio.ByteBuffer.wrap("via-phys".getBytes()));
        assertThat(new String(m.read(2 * 4096, 8))).isEqualTo("via-phys");
        core.unmapAttachmentUnlocked(a, sgt, DmaDirection.TO_DEVICE);
        assertThat(udmabuf.dma.mappings(pci.get(Bdf.parse("00:01.0")))).isEmpty();
        core.detach(a);
        core.put(buf);
        assertThat(proc.close(bfd)).isZero();
        assertThat(core.buffers()).isEmpty();
        assertThat(udmabuf.ram.used()).as("pinned frames released with the buffer").isZero();
    }
}
