package org.peerdma.dma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.PhysMemory.PhysRegion;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

class PhysMemoryImplTest {
    private final PhysMemoryImpl ram = new PhysMemoryImpl();

    private static Errno errno(Throwable t) {
        return ((KernelException) t).errno();
    }

    @Test
    void allocatesFirstFitAlignedAndReusesFreedRanges() {
        PhysRegion a = ram.allocate("a", 4096, 4096);
        PhysRegion b = ram.allocate("b", 1 << 20, 1 << 20);
        PhysRegion c = ram.allocate("c", 100, 4096);
        assertThat(a.phys()).isEqualTo(PhysMemory.RAM_START);
        assertThat(b.phys() % (1 << 20)).as("naturally aligned").isZero();
        assertThat(b.phys()).isGreaterThan(a.phys());
        assertThat(c.phys()).as("fills the gap below b").isEqualTo(a.phys() + 4096);
        assertThat(ram.used()).isEqualTo(4096 + (1 << 20) + 100);
        a.close();
        PhysRegion d = ram.allocate("d", 4096, 4096);
        assertThat(d.phys()).as("freed frame reused").isEqualTo(PhysMemory.RAM_START);
        assertThat(ram.regions()).extracting(PhysRegion::owner).containsExactly("d", "c", "b");
        assertThatThrownBy(a::close).hasMessageContaining("already released").satisfies(
                e -> assertThat(errno(e)).isEqualTo(Errno.EINVAL));
        for (PhysRegion r : new PhysRegion[] {b, c, d}) {
            r.close();
        }
        assertThat(ram.used()).isZero();
        assertThat(ram.regions()).isEmpty();
    }

    @Test
    void badArgumentsAreRefusedWithNothingTaken() {
        assertThatThrownBy(() -> ram.allocate("x", 0, 4096)).satisfies(e -> assertThat(errno(e)).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> ram.allocate("x", -1, 4096)).satisfies(e -> assertThat(errno(e)).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> ram.allocate("x", 1L << 31, 4096)).hasMessageContaining("2 GiB");
        assertThatThrownBy(() -> ram.allocate("x", 4096, 3000)).hasMessageContaining("power of two");
        assertThatThrownBy(() -> ram.allocate("x", 4096, 1L << 40)).as("no aligned room below RAM_END")
                .satisfies(e -> assertThat(errno(e)).isEqualTo(Errno.ENOMEM));
        assertThatThrownBy(() -> ram.adopt("x", ByteBuffer.allocate(0))).satisfies(
                e -> assertThat(errno(e)).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> ram.claim("x", 0x1001, ByteBuffer.allocate(4096))).hasMessageContaining("aligned");
        assertThat(ram.used()).isZero();
    }

    @Test
    void adoptingTheSameBufferGivesTheSameFrameUntilTheLastHolderCloses() {
        ByteBuffer page = ByteBuffer.allocateDirect(4096);
        PhysRegion one = ram.adopt("memfd page", page);
        PhysRegion two = ram.adopt("memfd page", page);
        assertThat(two.phys()).isEqualTo(one.phys());
        PhysRegion other = ram.adopt("memfd page", ByteBuffer.allocateDirect(4096));
        assertThat(other.phys()).isNotEqualTo(one.phys());
        one.close();
        assertThat(ram.ownerOf(two.phys())).as("still held once").isEqualTo("memfd page");
        two.close();
        assertThat(ram.ownerOf(two.phys())).isNull();
        assertThat(ram.adopt("again", page).phys()).as("a fresh adoption after release").isEqualTo(two.phys());
    }

    @Test
    void claimsAtFixedAddressesRefuseOverlaps() {
        PhysRegion cma = ram.claim("cma", 0x7c00_0000L, ByteBuffer.allocateDirect(8192));
        assertThatThrownBy(() -> ram.claim("late", 0x7c00_1000L, ByteBuffer.allocateDirect(4096)))
                .hasMessageContaining("overlaps").hasMessageContaining("cma")
                .satisfies(e -> assertThat(errno(e)).isEqualTo(Errno.EBUSY));
        PhysRegion next = ram.claim("next", 0x7c00_2000L, ByteBuffer.allocateDirect(4096));
        assertThat(ram.allocate("window", 4096, 4096).phys()).as("claims below the window do not move it")
                .isEqualTo(PhysMemory.RAM_START);
        cma.close();
        next.close();
    }

    @Test
    void readsAndWritesReachTheRegionsOwnMemoryAcrossAdjacentRegions() {
        ByteBuffer m0 = ByteBuffer.allocateDirect(4096);
        ByteBuffer m1 = ByteBuffer.allocateDirect(4096);
        PhysRegion r0 = ram.claim("lo", 0x10_0000L, m0);
        PhysRegion r1 = ram.claim("hi", 0x10_1000L, m1);
        ram.write(0x10_0ffeL, ByteBuffer.wrap(new byte[] {9, 8, 7, 6}));
        assertThat(m0.get(4094)).isEqualTo((byte) 9);
        assertThat(m0.get(4095)).isEqualTo((byte) 8);
        assertThat(m1.get(0)).isEqualTo((byte) 7);
        assertThat(m1.get(1)).isEqualTo((byte) 6);
        m1.put(2, (byte) 5);
        ByteBuffer got = ByteBuffer.allocate(5);
        ram.read(0x10_0ffeL, got);
        assertThat(got.array()).containsExactly(9, 8, 7, 6, 5);
        assertThat(r0.memory().get(4094)).isEqualTo((byte) 9);
        // past the end: EFAULT naming the address, nothing transferred
        ByteBuffer past = ByteBuffer.allocate(8);
        assertThatThrownBy(() -> ram.read(0x10_1ffcL, past)).hasMessageContaining("0x102000")
                .satisfies(e -> assertThat(errno(e)).isEqualTo(Errno.EFAULT));
        assertThat(past.position()).isZero();
        r1.close();
        assertThatThrownBy(() -> ram.write(0x10_1000L, ByteBuffer.allocate(1))).as("released: no RAM there")
                .satisfies(e -> assertThat(errno(e)).isEqualTo(Errno.EFAULT));
        r0.close();
    }
}
