package org.peerdma.mm.dmirror.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peerdma.mm.vm.Vm.*;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.mm.dmirror.Dmirror;
import org.peerdma.mm.dmirror.Dmirror.Cmd;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.VmFile;
import org.peerdma.mm.vm.internal.HmmImpl;
import org.peerdma.mm.vm.internal.ProcessesImpl;

/** tools/testing/selftests/mm/hmm-tests.c (reference B4) against the dmirror device. */
class HmmTestsTest {
    static final long P = PAGE_SIZE;
    static final int NPAGES = 16;

    private PhysMemory ram;
    private ZoneDevice zone;
    private ProcessesImpl procs;
    private Mm mm;
    private DmirrorDevicesImpl devs;
    private Dmirror d0;
    private Dmirror d1;

    @BeforeEach
    void boot() {
        ram = TestDma.ram();
        zone = TestZone.zone();
        procs = new ProcessesImpl(ram, zone);
        mm = procs.create("hmm-tests");
        devs = new DmirrorDevicesImpl(zone, new HmmImpl(), procs);
        d0 = devs.create("hmm_dmirror0", 0x100_0000_0000L, 64);
        d1 = devs.create("hmm_dmirror1", 0x110_0000_0000L, 64);
    }

    @AfterEach
    void invariants() {
        d0.release(mm);
        d1.release(mm);
        mm.mmput();
        var huge = procs.hugepages();
        assertThat(huge.free()).as("every huge page back in the pool").isEqualTo(huge.total());
        assertThat(huge.reserved()).isZero();
        procs.deactivate();
        assertThat(ram.used()).as("RAM map empty").isZero();
        assertThat(d0.freePages()).as("device 0 memory all free").isEqualTo(d0.totalPages());
        assertThat(d1.freePages()).isEqualTo(d1.totalPages());
        devs.destroy(d0);
        devs.destroy(d1);
    }

    private long anon(int prot) {
        return mm.mmap(0, NPAGES * P, prot, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    }

    private static byte[] pattern(int seed) {
        byte[] b = new byte[(int) (NPAGES * P)];
        for (int i = 0; i < b.length; i += 4) {
            int v = i / 4 + seed;
            b[i] = (byte) v;
            b[i + 1] = (byte) (v >> 8);
            b[i + 2] = (byte) (v >> 16);
            b[i + 3] = (byte) (v >> 24);
        }
        return b;
    }

    @Test
    void anonRead() {
        long a = anon(PROT_READ | PROT_WRITE);
        byte[] data = pattern(0);
        java.util.Arrays.fill(data, 0, (int) (2 * P), (byte) 0); // page 0 pte_none, page 1 the zero page
        mm.write(a + 2 * P, java.util.Arrays.copyOfRange(data, (int) (2 * P), data.length));
        mm.mprotect(a, NPAGES * P, PROT_READ);
        byte[] val = new byte[4];
        assertThat(mm.read(a + P, val)).isEqualTo(4);
        assertThat(val).containsOnly(0);
        assertThat(mm.pte(a + P).zero()).as("a read fault maps the zero page").isTrue();
        assertThat(mm.pte(a).present()).isFalse();
        long rss = mm.rssPages();
        Cmd c = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, c)).isZero();
        assertThat(c.cpages).isEqualTo(NPAGES);
        assertThat(c.faults).isEqualTo(1);
        assertThat(c.ptr).isEqualTo(data);
        assertThat(mm.pte(a).zero()).as("the device's read fault maps the zero page too").isTrue();
        assertThat(mm.rssPages()).as("no memory spent on pages nobody wrote").isEqualTo(rss);
    }

    @Test
    void aWriteAfterTheZeroPageGetsItsOwnPage() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.read(a, new byte[8]);
        long zero = mm.pte(a).pfn();
        assertThat(zero).isEqualTo(mm.zeroPfn());
        Cmd w = new Cmd(a, 1, pattern(5));
        assertThat(d0.write(mm, w)).isZero();
        assertThat(mm.pte(a).pfn()).isNotEqualTo(zero);
        assertThat(mm.pte(a).writable()).isTrue();
        byte[] back = new byte[(int) P];
        mm.read(a, back);
        assertThat(back).isEqualTo(java.util.Arrays.copyOf(pattern(5), (int) P));
        long b = anon(PROT_READ | PROT_WRITE);
        byte[] z = new byte[(int) P];
        mm.read(b, z);
        assertThat(z).as("the zero page stayed zero").containsOnly(0);
        assertThat(d0.migrateToDev(mm, new Cmd(b, 1, null))).as("the zero page migrates as an empty page").isZero();
        assertThat(d0.migrateToSys(mm, new Cmd(b, 1, null))).isZero();
        mm.read(b, z);
        assertThat(z).containsOnly(0);
    }

    @Test
    void anonReadProt() {
        long a = anon(PROT_NONE);
        Cmd c = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, c)).isEqualTo(-14);
        assertThat(c.ptr).containsOnly(0);
    }

    @Test
    void anonWriteAndWriteProt() {
        long a = anon(PROT_READ | PROT_WRITE);
        byte[] data = pattern(7);
        Cmd c = new Cmd(a, NPAGES, data.clone());
        assertThat(d0.write(mm, c)).isZero();
        assertThat(c.faults).isEqualTo(1);
        byte[] cpu = new byte[data.length];
        mm.read(a, cpu);
        assertThat(cpu).as("the CPU sees what the device wrote").isEqualTo(data);

        long ro = anon(PROT_READ);
        Cmd one = new Cmd(ro, 1, new byte[(int) P]);
        assertThat(d0.read(mm, one)).isZero();
        Cmd w = new Cmd(ro, NPAGES, pattern(3));
        assertThat(d0.write(mm, w)).isEqualTo(-1); // -EPERM
        byte[] back = new byte[(int) (NPAGES * P)];
        mm.read(ro, back);
        assertThat(back).as("nothing written").containsOnly(0);
        assertThat(mm.mprotect(ro, NPAGES * P, PROT_READ | PROT_WRITE)).isZero();
        assertThat(d0.write(mm, w)).isZero();
        mm.read(ro, back);
        assertThat(back).isEqualTo(pattern(3));
    }

    @Test
    void fileReadAndWrite() {
        VmFile f = procs.file("hmm-file", NPAGES * P);
        long a = mm.mmap(0, NPAGES * P, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
        f.page(3).put(0, (byte) 0x34);
        Cmd r = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, r)).isZero();
        assertThat(r.ptr[(int) (3 * P)]).isEqualTo((byte) 0x34);
        Cmd w = new Cmd(a, NPAGES, pattern(9));
        assertThat(d0.write(mm, w)).isZero();
        assertThat(f.page(5).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0)).as("the file holds the device's write").isEqualTo(5 * (int) P / 4 + 9);
        mm.munmap(a, NPAGES * P);
        f.release();
    }

    @Test
    void migrateAndFaultBackAndMigrateAgain() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(1));
        long rss = mm.rssPages();
        Cmd m = new Cmd(a, NPAGES, null);
        assertThat(d0.migrateToDev(mm, m)).isZero();
        assertThat(m.cpages).isEqualTo(NPAGES);
        assertThat(mm.rssPages()).as("device-private pages are anonymous memory too").isEqualTo(rss);
        assertThat(mm.pte(a).devicePrivate()).isTrue();
        Cmd r = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, r)).isZero();
        assertThat(r.ptr).as("the mirror reads its own device memory").isEqualTo(pattern(1));
        // the CPU faults half of it back
        byte[] half = new byte[(int) (NPAGES / 2 * P)];
        mm.read(a, half);
        assertThat(half).isEqualTo(java.util.Arrays.copyOf(pattern(1), half.length));
        assertThat(mm.pte(a).devicePrivate()).isFalse();
        assertThat(mm.pte(a + (NPAGES - 1) * P).devicePrivate()).isTrue();
        Cmd again = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.migrateToDev(mm, again)).as("hmm.migrate_fault: the half back in RAM moves again").isZero();
        assertThat(again.cpages).as("read back from the mirror: all of it").isEqualTo(NPAGES);
        assertThat(again.ptr).as("the migrated data comes back").isEqualTo(pattern(1));
        Cmd back = new Cmd(a, NPAGES, null);
        assertThat(d0.migrateToSys(mm, back)).isZero();
        assertThat(back.cpages).isEqualTo(NPAGES);
        byte[] all = new byte[(int) (NPAGES * P)];
        mm.read(a, all);
        assertThat(all).isEqualTo(pattern(1));
    }

    @Test
    void migrateMultipleRoundTripsKeepTheData() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(42));
        for (int i = 0; i < 10; i++) {
            assertThat(d0.migrateToDev(mm, new Cmd(a, NPAGES, null))).isZero();
            assertThat(d0.migrateToSys(mm, new Cmd(a, NPAGES, null))).isZero();
        }
        byte[] all = new byte[(int) (NPAGES * P)];
        mm.read(a, all);
        assertThat(all).isEqualTo(pattern(42));
    }

    @Test
    void migrateSharedAndMixedRanges() {
        long s = mm.mmap(0, NPAGES * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, null, 0);
        mm.write(s, new byte[(int) (NPAGES * P)]);
        assertThat(d0.migrateToDev(mm, new Cmd(s, NPAGES, null))).as("MAP_SHARED anonymous").isEqualTo(-2);
        long none = anon(PROT_NONE);
        assertThat(d0.migrateToDev(mm, new Cmd(none, NPAGES, null))).as("PROT_NONE").isEqualTo(-22);
        long a = anon(PROT_READ | PROT_WRITE);
        mm.munmap(a, P);
        assertThat(d0.migrateToDev(mm, new Cmd(a, NPAGES, null))).as("a hole").isEqualTo(-22);
        assertThat(d1.migrateToDev(mm, new Cmd(a + P, 4, null))).isZero();
        assertThat(d0.migrateToDev(mm, new Cmd(a + P, 4, null))).as("pages of device 1").isEqualTo(-2);
        assertThat(d1.migrateToSys(mm, new Cmd(a + P, 4, null))).isZero();
    }

    /** hmm2.snapshot: the same seven pages and the same answers. */
    @Test
    void snapshot() {
        long p = mm.mmap(0, 7 * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        assertThat(mm.munmap(p + P, P)).isZero(); // page 1: a hole
        assertThat(mm.mprotect(p + 2 * P, P, PROT_READ)).isZero(); // page 2: the zero page
        byte[] v = new byte[4];
        mm.read(p + 2 * P, v);
        assertThat(mm.mprotect(p + 3 * P, P, PROT_READ | PROT_WRITE)).isZero(); // page 3: read-only
        mm.write(p + 3 * P, new byte[] {3});
        assertThat(mm.mprotect(p + 3 * P, P, PROT_READ)).isZero();
        assertThat(mm.mprotect(p + 4 * P, 3 * P, PROT_READ | PROT_WRITE)).isZero(); // pages 4-6 read-write
        mm.write(p + 4 * P, new byte[] {3});
        assertThat(d0.migrateToDev(mm, new Cmd(p + 5 * P, 1, null))).isZero(); // page 5 on device 0
        assertThat(d1.migrateToDev(mm, new Cmd(p + 6 * P, 1, null))).isZero(); // page 6 on device 1
        Cmd snap = new Cmd(p, 7, new byte[7]);
        assertThat(d0.snapshot(mm, snap)).isZero();
        assertThat(snap.cpages).isEqualTo(7);
        assertThat(snap.ptr).containsExactly(Dmirror.PROT_ERROR, Dmirror.PROT_ERROR,
                (byte) (Dmirror.PROT_ZERO | Dmirror.PROT_READ), Dmirror.PROT_READ, Dmirror.PROT_WRITE,
                (byte) (Dmirror.PROT_DEV_PRIVATE_LOCAL | Dmirror.PROT_WRITE), Dmirror.PROT_NONE);
        assertThat(d0.migrateToSys(mm, new Cmd(p + 5 * P, 1, null))).isZero();
        assertThat(d1.migrateToSys(mm, new Cmd(p + 6 * P, 1, null))).isZero();
    }

    /** hmm2.double_map. */
    @Test
    void doubleMap() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(9));
        mm.mprotect(a, NPAGES * P, PROT_READ);
        for (Dmirror d : new Dmirror[] {d0, d1}) {
            Cmd r = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
            assertThat(d.read(mm, r)).isZero();
            assertThat(r.faults).isEqualTo(1);
            assertThat(r.ptr).isEqualTo(pattern(9));
        }
        assertThat(d1.migrateToDev(mm, new Cmd(a, NPAGES, null))).isZero();
        Cmd r = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, r)).as("device 0 faults the pages back from device 1").isZero();
        assertThat(r.faults).isEqualTo(1);
        assertThat(r.ptr).isEqualTo(pattern(9));
        assertThat(mm.pte(a).devicePrivate()).isFalse();
    }

    @Test
    void aPeerReachesDeviceMemoryInPlaceWhenAllowedElseItMigratesToRam() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, "devmem".getBytes());
        assertThat(d0.migrateToDev(mm, new Cmd(a, NPAGES, null))).isZero();
        org.peerdma.mm.vm.Hmm hmm = new HmmImpl();
        org.peerdma.mm.vm.Hmm.Range r = new org.peerdma.mm.vm.Hmm.Range();
        r.start = a;
        r.end = a + P;
        r.hmmPfns = new long[1];
        r.pas = new long[1];
        r.defaultFlags = HMM_PFN_REQ_FAULT;
        r.device = d1;
        r.devPrivateOwner = d1.owner();
        d0.allowPeer(d1, true);
        mm.mmapLock().readLock().lock();
        try {
            assertThat(hmm.rangeFault(mm, r)).isZero();
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        assertThat(r.hmmPfns[0] & HMM_PFN_P2PDMA).as("reached in place").isNotZero();
        assertThat(r.pas[0]).isEqualTo(mm.pte(a).pfn() << PAGE_SHIFT);
        assertThat(mm.pte(a).devicePrivate()).isTrue();
        assertThat(d0.peerMappings()).isEqualTo(1);
        ((org.peerdma.mm.vm.DevmemP2p) d0).p2pUnmap(mm.pte(a).pfn(), d1);
        // the exporter refuses now: migrate to RAM and retry
        d0.allowPeer(d1, false);
        r.start = a + P;
        r.end = a + 2 * P;
        r.hmmPfns = new long[1]; // the P2PDMA bit is sticky in -> out: a fresh request
        mm.mmapLock().readLock().lock();
        try {
            assertThat(hmm.rangeFault(mm, r)).isZero();
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        assertThat(r.hmmPfns[0] & HMM_PFN_P2PDMA).isZero();
        assertThat(mm.pte(a + P).devicePrivate()).as("migrated back to system memory").isFalse();
        assertThat(d0.peerMappings()).isZero();
    }

    /** anon_teardown: a device read racing a munmap either completes with the right data or fails cleanly. */
    @Test
    void anonTeardownRacingTheDevice() throws Exception {
        int ok = 0;
        int failed = 0;
        for (int round = 0; round < 100; round++) {
            long a = anon(PROT_READ | PROT_WRITE);
            byte[] data = pattern(round);
            mm.write(a, data);
            Cmd c = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
            int[] ret = new int[1];
            Thread dev = new Thread(() -> ret[0] = d0.read(mm, c));
            dev.start();
            if (round % 2 == 0) {
                Thread.onSpinWait();
            }
            assertThat(mm.munmap(a, NPAGES * P)).isZero();
            dev.join(5000);
            assertThat(dev.isAlive()).isFalse();
            if (ret[0] == 0) {
                assertThat(c.ptr).as("round %d: a completed read has the right bytes", round).isEqualTo(data);
                ok++;
            } else {
                assertThat(ret[0]).as("round %d", round).isEqualTo(-14);
                failed++;
            }
        }
        assertThat(ok + failed).isEqualTo(100);
    }

    /** migrate_release: the device goes while it holds process pages; they come back, CPU faults work. */
    @Test
    void migrateRelease() {
        Dmirror d2 = devs.create("hmm_dmirror2", 0x130_0000_0000L, 32);
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(5));
        assertThat(d2.migrateToDev(mm, new Cmd(a, NPAGES, null))).isZero();
        devs.destroy(d2);
        assertThat(mm.pte(a).devicePrivate()).isFalse();
        byte[] back = new byte[(int) (NPAGES * P)];
        assertThat(mm.read(a, back)).isEqualTo((int) (NPAGES * P));
        assertThat(back).isEqualTo(pattern(5));
    }

    @Test
    void exclusiveAccessIsRevokedByTheCpu() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(11));
        Cmd c = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.exclusive(mm, c)).isZero();
        assertThat(c.cpages).isEqualTo(NPAGES);
        assertThat(c.ptr).as("what the device got").isEqualTo(pattern(11));
        assertThat(d0.checkExclusive(mm, c)).as("still exclusive: -EPERM").isEqualTo(-1);
        assertThat(mm.pte(a).present()).as("not the CPU's while exclusive").isFalse();
        Cmd r = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, r)).isZero();
        assertThat(r.ptr).isEqualTo(pattern(11));
        mm.write(a + 3 * P, "cpu".getBytes()); // the CPU takes page 3 back
        assertThat(d0.checkExclusive(mm, c)).as("the other pages still are").isEqualTo(-1);
        assertThat(mm.pte(a + 3 * P).present()).isTrue();
        assertThat(d0.read(mm, r)).as("the device refaults").isZero();
        assertThat(new String(r.ptr, (int) (3 * P), 3)).isEqualTo("cpu");
        mm.read(a, new byte[(int) (NPAGES * P)]); // the CPU touches every page: access revoked
        assertThat(d0.checkExclusive(mm, c)).isZero();
    }

    @Test
    void exclusiveThenMprotectReadOnlyRefusesDeviceWrites() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, new byte[1]);
        assertThat(d0.exclusive(mm, new Cmd(a, NPAGES, null))).isZero();
        assertThat(mm.mprotect(a, NPAGES * P, PROT_READ)).isZero();
        assertThat(d0.write(mm, new Cmd(a, NPAGES, pattern(2)))).isEqualTo(-1); // -EPERM
        long ro = anon(PROT_READ);
        assertThat(d0.exclusive(mm, new Cmd(ro, 1, null))).as("not writable").isEqualTo(-14);
    }

    /** anon_write_child / anon_write_shared: a private mapping is copy-on-write for the child, a shared one is not. */
    @Test
    void anonWriteChildAndShared() {
        long priv = anon(PROT_READ | PROT_WRITE);
        long shared = mm.mmap(0, NPAGES * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, null, 0);
        mm.write(priv, pattern(1));
        mm.write(shared, pattern(1));
        Mm child = mm.fork("child");
        try {
            assertThat(child.pte(priv).pfn()).as("shared until written").isEqualTo(mm.pte(priv).pfn());
            assertThat(d0.write(child, new Cmd(priv, NPAGES, pattern(2)))).isZero();
            assertThat(d0.write(child, new Cmd(shared, NPAGES, pattern(3)))).isZero();
            byte[] got = new byte[(int) (NPAGES * P)];
            mm.read(priv, got);
            assertThat(got).as("the parent keeps its private data").isEqualTo(pattern(1));
            child.read(priv, got);
            assertThat(got).isEqualTo(pattern(2));
            mm.read(shared, got);
            assertThat(got).as("a shared mapping is shared with the child").isEqualTo(pattern(3));
            // the parent writes its private copy: the page is its alone again once the child copied
            assertThat(mm.write(priv, "p".getBytes())).isEqualTo(1);
        } finally {
            d0.release(child);
            child.mmput();
        }
    }

    /** exclusive_cow: a fork takes exclusive pages back, and copy-on-write keeps working. */
    @Test
    void exclusiveCow() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(4));
        Cmd c = new Cmd(a, NPAGES, null);
        assertThat(d0.exclusive(mm, c)).isZero();
        Mm child = mm.fork("child");
        try {
            assertThat(d0.checkExclusive(mm, c)).as("fork restored the pages to the CPU").isZero();
            assertThat(child.write(a, "child".getBytes())).isEqualTo(5);
            byte[] got = new byte[5];
            mm.read(a, got);
            assertThat(got).isEqualTo(java.util.Arrays.copyOf(pattern(4), 5));
        } finally {
            d0.release(child);
            child.mmput();
        }
    }

    /** hmm.mixedmap: the device file's own pages (vm_insert_page, VM_MIXEDMAP) are walked; private: read-only. */
    @Test
    void mixedmap() {
        long a = d0.mmap(mm, P, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        assertThat(a).isPositive();
        assertThat(mm.findVma(a).flags() & VM_MIXEDMAP).isNotZero();
        Cmd snap = new Cmd(a, 1, new byte[1]);
        assertThat(d0.snapshot(mm, snap)).isZero();
        assertThat(snap.ptr[0]).isEqualTo(Dmirror.PROT_READ);
        long inserted = mm.pte(a).pfn();
        assertThat(mm.write(a, "private".getBytes())).isEqualTo(7);
        assertThat(mm.pte(a).pfn()).as("a private write copies the driver's page").isNotEqualTo(inserted);
        assertThat(d0.snapshot(mm, snap)).isZero();
        assertThat(snap.ptr[0]).isEqualTo(Dmirror.PROT_WRITE);
        long shared = d0.mmap(mm, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED);
        Cmd two = new Cmd(shared, 2, new byte[2]);
        assertThat(d0.snapshot(mm, two)).isZero();
        assertThat(two.ptr).containsOnly(Dmirror.PROT_WRITE);
        assertThat(mm.munmap(a, P)).isZero();
        assertThat(mm.munmap(shared, 2 * P)).isZero();
    }

    private static final long TWOMEG = PMD_SIZE;

    /** hmm.anon_write_huge: a device write through a transparent huge page, one fault. */
    @Test
    void anonWriteHuge() {
        long buf = mm.mmap(0, 2 * TWOMEG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        long map = (buf + TWOMEG - 1) & -TWOMEG;
        assertThat(mm.madvise(map, TWOMEG, MADV_HUGEPAGE)).isZero();
        int npages = (int) (TWOMEG / P);
        byte[] data = new byte[(int) TWOMEG];
        for (int i = 0; i < data.length; i += 4) {
            java.nio.ByteBuffer.wrap(data, i, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(i / 4);
        }
        Cmd w = new Cmd(map, npages, data.clone());
        assertThat(d0.write(mm, w)).isZero();
        assertThat(w.cpages).isEqualTo(npages);
        assertThat(w.faults).isEqualTo(1);
        byte[] cpu = new byte[data.length];
        mm.read(map, cpu);
        assertThat(cpu).isEqualTo(data);
        assertThat(mm.pte(map).order()).as("one PMD maps it").isEqualTo(HPAGE_PMD_ORDER);
        assertThat(mm.pte(map + TWOMEG - P).pfn() - mm.pte(map).pfn()).as("physically contiguous").isEqualTo(511);
        Cmd snap = new Cmd(map, npages, new byte[npages]);
        assertThat(d0.snapshot(mm, snap)).isZero();
        assertThat(snap.ptr).containsOnly((byte) (Dmirror.PROT_WRITE | Dmirror.PROT_PMD));
        // munmap of one page splits the PMD: the rest is mapped by pages from then on
        assertThat(mm.munmap(map + TWOMEG - P, P)).isZero();
        Cmd rest = new Cmd(map, npages - 1, new byte[npages - 1]);
        assertThat(d0.snapshot(mm, rest)).isZero();
        assertThat(rest.ptr).containsOnly(Dmirror.PROT_WRITE);
        assertThat(mm.madvise(map + 1, P, MADV_HUGEPAGE)).as("unaligned").isEqualTo(-22);
        assertThat(mm.madvise(map, P, 99)).isEqualTo(-22);
        assertThat(mm.munmap(buf, 2 * TWOMEG)).isZero();
    }

    /** A THP in a range being migrated is split first; its pages move one by one, the rest stays. */
    @Test
    void migratingPartOfAHugePageSplitsIt() {
        long buf = mm.mmap(0, 2 * TWOMEG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        long map = (buf + TWOMEG - 1) & -TWOMEG;
        mm.madvise(map, TWOMEG, MADV_HUGEPAGE);
        mm.write(map, pattern(4));
        assertThat(mm.pte(map).order()).isEqualTo(HPAGE_PMD_ORDER);
        assertThat(d0.migrateToDev(mm, new Cmd(map, NPAGES, null))).isZero();
        assertThat(mm.pte(map).devicePrivate()).isTrue();
        assertThat(mm.pte(map + NPAGES * P).order()).as("split").isZero();
        assertThat(d0.migrateToSys(mm, new Cmd(map, NPAGES, null))).isZero();
        byte[] back = new byte[(int) (NPAGES * P)];
        mm.read(map, back);
        assertThat(back).isEqualTo(pattern(4));
        assertThat(mm.munmap(buf, 2 * TWOMEG)).isZero();
    }

    /** hmm.anon_write_hugetlbfs and hmm.compound: hugetlb pages from the pool, reported with the PMD order. */
    @Test
    void hugetlbWriteAndCompound() {
        assertThat(mm.mmap(0, TWOMEG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, null, 0))
                .as("no huge pages in the pool (nr_hugepages = 0)").isEqualTo(-12);
        assertThat(procs.setNrHugepages(2)).isEqualTo(2);
        long a = mm.mmap(0, TWOMEG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, null, 0);
        assertThat(a & (TWOMEG - 1)).as("huge-page aligned").isZero();
        assertThat(procs.hugepages()).isEqualTo(new org.peerdma.mm.vm.MmProcesses.Hugepages(2, 2, 1));
        assertThat(mm.mmap(0, 2 * TWOMEG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, null, 0))
                .as("only one unreserved page left").isEqualTo(-12);
        int npages = (int) (TWOMEG / P);
        byte[] data = new byte[(int) TWOMEG];
        new java.util.Random(1).nextBytes(data);
        Cmd w = new Cmd(a, npages, data.clone());
        assertThat(d0.write(mm, w)).isZero();
        assertThat(w.faults).isEqualTo(1);
        byte[] cpu = new byte[data.length];
        mm.read(a, cpu);
        assertThat(cpu).isEqualTo(data);
        assertThat(procs.hugepages()).isEqualTo(new org.peerdma.mm.vm.MmProcesses.Hugepages(2, 1, 0));
        Cmd snap = new Cmd(a, npages, new byte[npages]);
        assertThat(d0.snapshot(mm, snap)).isZero();
        assertThat(snap.ptr).containsOnly((byte) (Dmirror.PROT_WRITE | Dmirror.PROT_PMD));
        assertThat(mm.mprotect(a, TWOMEG, PROT_READ)).isZero();
        assertThat(d0.snapshot(mm, snap)).isZero();
        assertThat(snap.ptr).as("hugetlb is never split").containsOnly((byte) (Dmirror.PROT_READ | Dmirror.PROT_PMD));
        assertThat(mm.mprotect(a, P, PROT_READ | PROT_WRITE)).as("not on a huge-page boundary").isEqualTo(-22);
        assertThat(mm.munmap(a, P)).isEqualTo(-22);
        assertThat(d0.migrateToDev(mm, new Cmd(a, 1, null))).as("migrate_vma_setup refuses hugetlb").isEqualTo(-22);
        assertThat(mm.rssPages()).as("hugetlb pages are not RSS").isZero();
        assertThat(mm.munmap(a, TWOMEG)).isZero();
        assertThat(procs.hugepages()).as("back in the pool").isEqualTo(new org.peerdma.mm.vm.MmProcesses.Hugepages(2, 2, 0));
    }

    /** After fork a private hugetlb page is copied whole on write; a THP is split and one page copied. */
    @Test
    void hugePagesAfterFork() {
        procs.setNrHugepages(2);
        long h = mm.mmap(0, TWOMEG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, null, 0);
        mm.write(h, "parent".getBytes());
        long buf = mm.mmap(0, 2 * TWOMEG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        long t = (buf + TWOMEG - 1) & -TWOMEG;
        mm.madvise(t, TWOMEG, MADV_HUGEPAGE);
        mm.write(t, "parent".getBytes());
        Mm child = mm.fork("child");
        try {
            assertThat(child.pte(h).order()).isEqualTo(HPAGE_PMD_ORDER);
            assertThat(child.write(h, "child!".getBytes())).isEqualTo(6);
            assertThat(child.pte(h).pfn()).as("a copy of the whole huge page").isNotEqualTo(mm.pte(h).pfn());
            assertThat(child.pte(h).order()).isEqualTo(HPAGE_PMD_ORDER);
            assertThat(procs.hugepages().free()).isZero();
            assertThat(child.write(t, "child!".getBytes())).isEqualTo(6);
            assertThat(child.pte(t).order()).as("the THP was split for the copy").isZero();
            assertThat(mm.pte(t + P).order()).as("the parent's mapping is whole").isEqualTo(HPAGE_PMD_ORDER);
            byte[] got = new byte[6];
            mm.read(h, got);
            assertThat(new String(got)).isEqualTo("parent");
            mm.read(t, got);
            assertThat(new String(got)).isEqualTo("parent");
            child.read(t + 6, got);
            assertThat(got).containsOnly(0);
        } finally {
            child.mmput();
        }
        assertThat(procs.hugepages().free()).isEqualTo(1);
        assertThat(mm.write(h, "again".getBytes())).as("the last mapper writes in place").isEqualTo(5);
        assertThat(procs.hugepages().free()).isEqualTo(1);
    }

    /** hmm.migrate_file_private: a MAP_PRIVATE file mapping, written (so its pages are anonymous copies), migrates. */
    @Test
    void migrateFilePrivate() {
        VmFile f = procs.file("hmm-private", NPAGES * P);
        long a = mm.mmap(0, NPAGES * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
        mm.write(a, pattern(11));
        Cmd m = new Cmd(a, NPAGES, null);
        assertThat(d0.migrateToDev(mm, m)).isZero();
        assertThat(m.cpages).isEqualTo(NPAGES);
        Cmd r = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, r)).isZero();
        assertThat(r.ptr).isEqualTo(pattern(11));
        byte[] cpu = new byte[(int) (NPAGES * P)];
        mm.read(a, cpu);
        assertThat(cpu).as("faulted back").isEqualTo(pattern(11));
        byte[] file = new byte[(int) P];
        f.page(0).get(file);
        assertThat(file).as("the file never saw the private writes").containsOnly(0);
        mm.munmap(a, NPAGES * P);
        f.release();
    }

    /**
     * hmm.hmm_cow_in_device: pages on the device when the process forks; the parent's writes bring
     * them back to system memory and give it its own copies.
     */
    @Test
    void cowInDevice() {
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, java.util.Arrays.copyOf(pattern(2), (int) (4 * P)));
        assertThat(d0.migrateToDev(mm, new Cmd(a, 4, null))).isZero();
        Mm child = mm.fork("child");
        try {
            assertThat(mm.pte(a).writable()).as("a COW mapping: the device-private entry is read-only").isFalse();
            mm.write(a, java.util.Arrays.copyOf(pattern(2), (int) (4 * P)));
            Cmd snap = new Cmd(a, 4, new byte[4]);
            assertThat(d0.snapshot(mm, snap)).isZero();
            assertThat(snap.ptr).containsOnly(Dmirror.PROT_WRITE);
            byte[] childView = new byte[(int) (4 * P)];
            child.read(a, childView);
            assertThat(childView).isEqualTo(java.util.Arrays.copyOf(pattern(2), (int) (4 * P)));
        } finally {
            d0.release(child);
            child.mmput();
        }
    }

    /** hmm.anon_read_multiple: each round a fresh mapping, read by the device with one fault. */
    @Test
    void anonReadMultiple() {
        for (int round = 0; round < 2; round++) {
            long a = anon(PROT_READ | PROT_WRITE);
            mm.write(a, pattern(round));
            mm.mprotect(a, NPAGES * P, PROT_READ);
            Cmd c = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
            assertThat(d0.read(mm, c)).isZero();
            assertThat(c.faults).isEqualTo(1);
            assertThat(c.ptr).isEqualTo(pattern(round));
            mm.munmap(a, NPAGES * P);
        }
    }

    /**
     * Migrations back and forth while the CPU keeps reading and writing the same pages: no deadlock
     * between faults, migrate_to_ram and the driver's migrations, and every write is still there on
     * the next read. (A smoke test: the window it guards is narrow, so the deterministic check that
     * CPU accesses wait on migration entries is MigrateTest.cpuAccessWaitsForAMigrationInProgress.)
     */
    @Test
    void noCpuWriteIsLostToAConcurrentMigration() throws Exception {
        int pages = 8;
        long a = mm.mmap(0, pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, new byte[(int) (pages * P)]);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger moves = new java.util.concurrent.atomic.AtomicInteger();
        Thread mover = new Thread(() -> {
            try {
                writing.await();
            } catch (InterruptedException ex) {
                return;
            }
            for (int i = 0; i < 500 && problems.isEmpty(); i++) {
                int r1 = d0.migrateToDev(mm, new Cmd(a, pages, null));
                int r2 = d0.migrateToSys(mm, new Cmd(a, pages, null));
                if (r1 != 0 && r1 != -2 || r2 != 0) {
                    problems.add("migration failed: " + r1 + " " + r2);
                }
                moves.incrementAndGet();
            }
            stop.set(true);
        }, "mover");
        mover.start();
        int n = 0;
        int overlapping = 0; // rounds during which at least one migration went on: the race really ran
        while (!stop.get() && problems.isEmpty()) {
            n++;
            int movesBefore = moves.get();
            writing.countDown();
            for (int pg = 0; pg < pages; pg++) {
                // what the previous round wrote must still be there (a lost write shows up here)
                byte[] back = new byte[4];
                if (mm.read(a + pg * P + 64, back) != 4) {
                    problems.add("page " + pg + " round " + n + ": read failed");
                }
                int want = n == 1 ? 0 : (n - 1) * 100 + pg;
                if (java.nio.ByteBuffer.wrap(back).getInt() != want) {
                    problems.add("page " + pg + " round " + n + ": expected " + want + " read "
                            + java.nio.ByteBuffer.wrap(back).getInt());
                }
                int w = mm.write(a + pg * P + 64, java.nio.ByteBuffer.allocate(4).putInt(n * 100 + pg).array());
                if (w != 4) {
                    problems.add("page " + pg + " round " + n + ": write returned " + w);
                }
            }
            if (moves.get() != movesBefore) {
                overlapping++;
            }
        }
        mover.join();
        assertThat(problems).isEmpty();
        assertThat(overlapping).as("writer rounds that overlapped a migration (of %d rounds)", n).isGreaterThanOrEqualTo(20);
        byte[] last = new byte[4];
        mm.read(a + 64, last);
        assertThat(java.nio.ByteBuffer.wrap(last).getInt()).isEqualTo(n * 100);
        d0.migrateToSys(mm, new Cmd(a, pages, null));
    }

    /** The OOM reaper takes a mirrored range: dmirror's non-blocking invalidate drops its mirror, the next read faults. */
    @Test
    void oomReapDropsTheMirror() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(6));
        Cmd r = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, r)).isZero();
        assertThat(mm.oomReap()).isZero();
        Cmd again = new Cmd(a, NPAGES, new byte[(int) (NPAGES * P)]);
        assertThat(d0.read(mm, again)).isZero();
        assertThat(again.faults).as("the mirror was dropped").isEqualTo(1);
        assertThat(again.ptr).as("the memory is gone: the zero page now").containsOnly(0);
    }

    /**
     * After a fault the walk goes on from the faulting page (hmm_vma_walk->last), so pages before it
     * are not looked at again (a peer mapping is taken once); the sticky bits survive every kind of
     * output (page, hole, error).
     */
    @Test
    void theWalkRestartsWhereItFaultedAndKeepsTheStickyBits() {
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, new byte[1]);
        mm.write(a + 2 * P, new byte[1]);
        assertThat(d0.migrateToDev(mm, new Cmd(a, 1, null))).isZero();
        assertThat(d0.migrateToDev(mm, new Cmd(a + 2 * P, 1, null))).isZero();
        d0.allowPeer(d1, true);
        org.peerdma.mm.vm.Hmm hmm = new HmmImpl();
        org.peerdma.mm.vm.Hmm.Range r = new org.peerdma.mm.vm.Hmm.Range();
        r.start = a;
        r.end = a + 3 * P;
        r.hmmPfns = new long[] {0, HMM_PFN_DMA_MAPPED, 0};
        r.pas = new long[3];
        r.defaultFlags = HMM_PFN_REQ_FAULT;
        r.device = d1;
        mm.mmapLock().readLock().lock();
        try {
            assertThat(hmm.rangeFault(mm, r)).isZero();
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        assertThat(d0.peerMappings()).as("each device page mapped for the peer once").isEqualTo(2);
        assertThat(r.hmmPfns[1] & (HMM_PFN_VALID | HMM_PFN_DMA_MAPPED)).isEqualTo(HMM_PFN_VALID | HMM_PFN_DMA_MAPPED);
        ((org.peerdma.mm.vm.DevmemP2p) d0).p2pUnmap(mm.pte(a).pfn(), d1);
        ((org.peerdma.mm.vm.DevmemP2p) d0).p2pUnmap(mm.pte(a + 2 * P).pfn(), d1);
        assertThat(d0.peerMappings()).isZero();
        // holes and errors keep them too
        org.peerdma.mm.vm.Hmm.Range h = new org.peerdma.mm.vm.Hmm.Range();
        h.start = a + 3 * P;
        h.end = a + 5 * P;
        h.hmmPfns = new long[] {HMM_PFN_P2PDMA, HMM_PFN_P2PDMA_BUS};
        mm.munmap(a + 4 * P, P);
        mm.mmapLock().readLock().lock();
        try {
            assertThat(hmm.rangeFault(mm, h)).isZero();
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        assertThat(h.hmmPfns).containsExactly(HMM_PFN_P2PDMA, HMM_PFN_ERROR | HMM_PFN_P2PDMA_BUS);
        d0.migrateToSys(mm, new Cmd(a, 3, null));
    }

    /** Removing a device evicts its pages from every process that maps them, a forked child included. */
    @Test
    void removingADeviceEvictsItsPagesFromForkedChildrenToo() {
        Dmirror d2 = devs.create("hmm_dmirror2", 0x120_0000_0000L, 16);
        long a = anon(PROT_READ | PROT_WRITE);
        mm.write(a, pattern(8));
        assertThat(d2.migrateToDev(mm, new Cmd(a, NPAGES, null))).isZero();
        Mm child = mm.fork("child");
        try {
            devs.destroy(d2); // would wait for ever if the child's references were left
            byte[] got = new byte[(int) (NPAGES * P)];
            child.read(a, got);
            assertThat(got).isEqualTo(pattern(8));
            mm.read(a, got);
            assertThat(got).isEqualTo(pattern(8));
            assertThat(child.pte(a).devicePrivate()).isFalse();
        } finally {
            child.mmput();
        }
    }

    /**
     * The OOM reaper runs in the middle of a migration to the device (it only needs mmap_lock for
     * reading): the device must not keep in its mirror a page the reaper sent back to the driver, or
     * it would read another process's data once that page is reused.
     */
    @Test
    void aReapDuringAMigrationLeavesNoStalePageInTheMirror() throws Exception {
        long b = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        byte[] mine = new byte[(int) P];
        java.util.Arrays.fill(mine, (byte) 'V');
        mm.write(b, mine); // page 0 present, page 1 empty
        boolean[] once = {false};
        org.peerdma.mm.vm.MmuInterval trap = mm.insertNotifier(0, 0x8000_0000_0000L, (sub, st, en, ev, bl, cur) -> {
            sub.setSeq(cur);
            if (ev.equals("migrate") && !once[0] && st == b + P) { // migrate_vma_pages filling the empty pte
                once[0] = true;
                Thread t = new Thread(() -> mm.oomReap());
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return true;
        });
        d0.migrateToDev(mm, new Cmd(b, 2, new byte[(int) (2 * P)]));
        assertThat(once[0]).isTrue();
        Mm other = procs.create("other");
        try {
            long o = other.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
            byte[] secret = new byte[(int) P];
            java.util.Arrays.fill(secret, (byte) 'S');
            other.write(o, secret);
            assertThat(d0.migrateToDev(other, new Cmd(o, 1, null))).isZero(); // reuses freed device pages
            Cmd r = new Cmd(b, 1, new byte[(int) P]);
            assertThat(d0.read(mm, r)).isZero();
            assertThat(r.ptr).as("never the other process's bytes").doesNotContain((byte) 'S');
            d0.migrateToSys(other, new Cmd(o, 1, null));
        } finally {
            d0.release(other);
            other.mmput();
        }
        trap.remove();
    }
}
