package org.peerdma.mm.vm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.mm.vm.Vm.*;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.internal.TestDma;
import org.peerdma.mm.vm.Hmm;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.MmuInterval;
import org.peerdma.mm.vm.VmFile;

class MmTest {
    static final long P = PAGE_SIZE;
    private PhysMemory ram;
    private ProcessesImpl procs;
    private Mm mm;
    private final Hmm hmm = new HmmImpl();

    @BeforeEach
    void boot() {
        ram = TestDma.ram();
        procs = new ProcessesImpl(ram);
        mm = procs.create("test");
    }

    @AfterEach
    void invariants() {
        mm.mmput();
        assertThat(mm.rssPages()).isZero();
        procs.deactivate(); // the zero page goes too
        assertThat(ram.used()).as("every page back in the RAM map").isZero();
    }

    @Test
    void mmapMunmapMprotectWithTheSyscallsErrors() {
        assertThat(mm.mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, null, 0)).isEqualTo(-22);
        assertThat(mm.mmap(123, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, null, 0)).isEqualTo(-22);
        assertThat(mm.mmap(0, P, PROT_READ, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, null, 0)).isEqualTo(-22);
        assertThat(mm.mmap(0, P, PROT_READ, MAP_PRIVATE, null, 0)).as("a file mapping without a file").isEqualTo(-22);
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        assertThat(a).isPositive();
        assertThat(mm.write(a + P - 2, "hello".getBytes())).isEqualTo(5);
        byte[] back = new byte[5];
        assertThat(mm.read(a + P - 2, back)).isEqualTo(5);
        assertThat(new String(back)).isEqualTo("hello");
        assertThat(mm.rssPages()).isEqualTo(2);
        assertThat(mm.mprotect(a + P, P, PROT_READ)).isZero();
        assertThat(mm.vmas()).hasSize(3);
        assertThat(mm.write(a + P, "x".getBytes())).as("read-only now").isEqualTo(-13);
        assertThat(mm.read(a + P, new byte[1])).isEqualTo(1);
        assertThat(mm.mprotect(a, 8 * P, PROT_READ)).as("a hole in the range").isEqualTo(-12);
        assertThat(mm.mprotect(a + 1, P, PROT_READ)).isEqualTo(-22);
        assertThat(mm.munmap(a + P, P)).isZero();
        assertThat(mm.read(a + P, new byte[1])).as("unmapped").isEqualTo(-14);
        assertThat(mm.rssPages()).as("the page under the hole freed").isEqualTo(1);
        assertThat(mm.munmap(a, 0)).isEqualTo(-22);
        // ranges that run past the top of the address space, as the kernel answers them
        long huge = 0x7fffffffffffffffL;
        assertThat(mm.munmap(0x7effffff0000L, huge)).as("len > TASK_SIZE - start").isEqualTo(-22);
        assertThat(mm.munmap(-4096L, P)).as("start > TASK_SIZE").isEqualTo(-22);
        assertThat(mm.mprotect(0x7effffff0000L, huge, PROT_READ)).as("nothing mapped up there").isEqualTo(-12);
        assertThat(mm.mprotect(-4096L, 2 * P, PROT_READ)).as("end <= start").isEqualTo(-12);
        assertThat(mm.madvise(-4096L, 2 * P, org.peerdma.mm.vm.Vm.MADV_HUGEPAGE)).as("end < start").isEqualTo(-22);
        assertThat(mm.madvise(0x7effffff0000L, huge, org.peerdma.mm.vm.Vm.MADV_HUGEPAGE)).isEqualTo(-12);
        assertThat(mm.munmap(a, 16 * P)).as("holes are fine").isZero();
        assertThat(mm.vmas()).isEmpty();
    }

    @Test
    void fileMappingsSharedAndCopyOnWrite() {
        VmFile f = procs.file("data", 2 * P);
        f.page(0).put(0, (byte) 'F');
        long shared = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
        long priv = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
        byte[] b = new byte[1];
        mm.read(priv, b);
        assertThat(b[0]).isEqualTo((byte) 'F');
        assertThat(mm.pte(priv).pfn()).as("read: the file's own page").isEqualTo(f.pfn(0));
        mm.write(priv, "P".getBytes());
        assertThat(mm.pte(priv).pfn()).as("written: a private copy").isNotEqualTo(f.pfn(0));
        assertThat(f.page(0).get(0)).as("the file is untouched").isEqualTo((byte) 'F');
        mm.write(shared, "S".getBytes());
        assertThat(f.page(0).get(0)).as("a shared mapping writes the file").isEqualTo((byte) 'S');
        assertThat(mm.mmap(0, 3 * P, PROT_READ, MAP_SHARED, f, 0)).as("past the end of the file").isEqualTo(-22);
        mm.munmap(shared, 2 * P);
        mm.munmap(priv, 2 * P);
        f.release();
    }

    @Test
    void intervalNotifierSequenceProtocol() throws Exception {
        assertThatThrownBy(() -> mm.insertNotifier(0, 0, (s, a, b, e, bl, c) -> true)).hasMessageContaining("EOVERFLOW");
        assertThatThrownBy(() -> mm.insertNotifier(-P, 2 * P, (s, a, b, e, bl, c) -> true))
                .hasMessageContaining("EOVERFLOW");
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, new byte[(int) (4 * P)]);
        List<String> calls = new CopyOnWriteArrayList<>();
        MmuInterval sub = mm.insertNotifier(a, 2 * P, (s, st, en, ev, bl, cur) -> {
            calls.add(ev + " " + Long.toHexString(st - a) + "-" + Long.toHexString(en - a) + " odd=" + ((cur & 1) == 1));
            s.setSeq(cur);
            return true;
        });
        assertThat(mm.invalidateSeq() % 2).as("idle: even").isZero();
        assertThat(sub.seq()).as("new sub: global - 1").isEqualTo(mm.invalidateSeq() - 1);
        long seq = sub.readBegin();
        assertThat(sub.readRetry(seq)).isFalse();
        mm.munmap(a + 3 * P, P); // outside the interval: not called
        assertThat(calls).isEmpty();
        assertThat(sub.readRetry(seq)).isFalse();
        mm.mprotect(a, P, PROT_READ);
        assertThat(calls).containsExactly("protection 0-1000 odd=true");
        assertThat(sub.readRetry(seq)).isTrue();
        assertThat(mm.invalidateSeq() % 2).isZero();
        // read_begin waits while an invalidation covering the interval runs
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        MmuInterval slow = mm.insertNotifier(a + P, P, (s, st, en, ev, bl, cur) -> {
            s.setSeq(cur);
            inside.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true;
        });
        Thread unmapper = new Thread(() -> mm.munmap(a + P, P));
        unmapper.start();
        assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();
        MmuInterval late = mm.insertNotifier(a, P, (s, st, en, ev, bl, cur) -> true);
        assertThat(late.seq()).as("inserted during an invalidation: deferred, odd").isEqualTo(mm.invalidateSeq());
        long[] got = new long[1];
        Thread reader = new Thread(() -> got[0] = slow.readBegin());
        reader.start();
        reader.join(100);
        assertThat(reader.isAlive()).as("read_begin waits for the invalidation to end").isTrue();
        release.countDown();
        reader.join(5000);
        unmapper.join(5000);
        assertThat(got[0] % 2).as("the sequence it got was set by the invalidation").isEqualTo(1);
        assertThat(slow.readRetry(got[0])).isFalse();
        sub.remove();
        slow.remove();
        late.remove();
        mm.munmap(a, 4 * P);
    }

    @Test
    void hmmRangeFaultFlagsAndErrors() {
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        long ro = mm.mmap(0, 2 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        MmuInterval sub = mm.insertNotifier(a, 4 * P, (s, st, en, ev, bl, cur) -> {
            s.setSeq(cur);
            return true;
        });
        Hmm.Range r = new Hmm.Range();
        r.notifier = sub;
        r.start = a;
        r.end = a + 4 * P;
        r.hmmPfns = new long[4];
        assertThatThrownBy(() -> hmm.rangeFault(mm, r)).hasMessageContaining("mmap_lock");
        mm.mmapLock().readLock().lock();
        try {
            // nothing requested: holes
            r.notifierSeq = sub.readBegin();
            assertThat(hmm.rangeFault(mm, r)).isZero();
            assertThat(r.hmmPfns).containsOnly(0L);
            // per-page requests: only page 2, for writing
            r.pfnFlagsMask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
            r.hmmPfns = new long[] {0, 0, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE, 0};
            assertThat(hmm.rangeFault(mm, r)).isZero();
            assertThat(r.hmmPfns[0]).isZero();
            assertThat(r.hmmPfns[2] & (HMM_PFN_VALID | HMM_PFN_WRITE)).isEqualTo(HMM_PFN_VALID | HMM_PFN_WRITE);
            assertThat(hmmPfnToPfn(r.hmmPfns[2])).isEqualTo(mm.pte(a + 2 * P).pfn());
            // default flags: everything faulted in
            r.defaultFlags = HMM_PFN_REQ_FAULT;
            r.pfnFlagsMask = 0;
            assertThat(hmm.rangeFault(mm, r)).isZero();
            for (long v : r.hmmPfns) {
                assertThat(v & HMM_PFN_VALID).isNotZero();
            }
            assertThat(hmmPfnToPfn(r.hmmPfns[1])).as("a read fault maps the zero page").isEqualTo(mm.zeroPfn());
            assertThat(r.hmmPfns[1] & HMM_PFN_WRITE).isZero();
            // write requests: the zero page is replaced (a write fault), and the pfn is the page itself:
            // what the CPU writes, the frame holds
            r.defaultFlags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
            assertThat(hmm.rangeFault(mm, r)).as("replacing a mapped page invalidates: retry").isEqualTo(-16);
            int tries = 1;
            int ret;
            do { // the driver's loop: a new sequence after each -EBUSY
                r.notifierSeq = sub.readBegin();
                ret = hmm.rangeFault(mm, r);
                tries++;
            } while (ret == -16);
            assertThat(ret).isZero();
            assertThat(tries).as("three zero pages replaced (page 2 was written already): three -EBUSY, then 0").isEqualTo(4);
            assertThat(hmmPfnToPfn(r.hmmPfns[1])).isNotEqualTo(mm.zeroPfn());
            mm.write(a + P, "mirror".getBytes());
            ByteBuffer got = ByteBuffer.allocate(6);
            ram.read(hmmPfnToPfn(r.hmmPfns[1]) << PAGE_SHIFT, got);
            assertThat(new String(got.array())).isEqualTo("mirror");
            // a write request on a read-only vma
            Hmm.Range w = new Hmm.Range();
            w.start = ro;
            w.end = ro + P;
            w.hmmPfns = new long[1];
            w.defaultFlags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
            assertThat(hmm.rangeFault(mm, w)).isEqualTo(-1);
            // no vma: -EFAULT when requested, HMM_PFN_ERROR otherwise
            Hmm.Range none = new Hmm.Range();
            none.start = 0x1000_0000L;
            none.end = none.start + P;
            none.hmmPfns = new long[1];
            assertThat(hmm.rangeFault(mm, none)).isZero();
            assertThat(none.hmmPfns[0]).isEqualTo(HMM_PFN_ERROR);
            none.defaultFlags = HMM_PFN_REQ_FAULT;
            assertThat(hmm.rangeFault(mm, none)).isEqualTo(-14);
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        // an invalidation since the sequence was taken: -EBUSY, retry with a new one
        long seq = sub.readBegin();
        mm.munmap(a + 3 * P, P);
        mm.mmapLock().readLock().lock();
        try {
            r.notifierSeq = seq;
            r.end = a + 3 * P;
            assertThat(hmm.rangeFault(mm, r)).isEqualTo(-16);
            r.notifierSeq = sub.readBegin();
            assertThat(hmm.rangeFault(mm, r)).isZero();
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        sub.remove();
        mm.munmap(a, 4 * P);
        mm.munmap(ro, 2 * P);
    }

    @Test
    void specialMappingsAndExit() {
        long s = mm.mmapSpecial(0, 2 * P, PROT_READ | PROT_WRITE, (m, v, addr, write) -> m.insertPfn(v, addr, 0xabcde, true));
        assertThat(mm.handleFault(s, false)).isZero();
        assertThat(mm.pte(s).special()).isTrue();
        assertThat(mm.pte(s).pfn()).isEqualTo(0xabcde);
        assertThat(mm.read(s, new byte[1])).as("device memory without CPU access").isEqualTo(-14);
        mm.mmapLock().readLock().lock();
        try {
            Hmm.Range r = new Hmm.Range();
            r.start = s;
            r.end = s + P;
            r.hmmPfns = new long[1];
            assertThat(hmm.rangeFault(mm, r)).isZero();
            assertThat(r.hmmPfns[0]).as("VM_PFNMAP: an error entry").isEqualTo(HMM_PFN_ERROR);
            r.defaultFlags = HMM_PFN_REQ_FAULT;
            assertThat(hmm.rangeFault(mm, r)).isEqualTo(-14);
        } finally {
            mm.mmapLock().readLock().unlock();
        }
        long a = mm.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, "x".getBytes());
        mm.mmget();
        mm.mmput();
        assertThat(mm.rssPages()).as("still a user").isEqualTo(1);
        // the @AfterEach mmput is the last: exit_mmap frees everything
    }

    /** The module unloads with processes alive: they are torn down, nothing stays allocated; mmput after is an error. */
    @Test
    void unloadingTearsDownLiveProcesses() {
        long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, new byte[(int) (4 * P)]);
        Mm child = mm.fork("child");
        procs.setNrHugepages(1);
        long h = child.mmap(0, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, null, 0);
        child.write(h, new byte[] {1});
        assertThat(ram.used()).isPositive();
        procs.deactivate();
        assertThat(ram.used()).as("pages, the hugetlb pool and the zero page all back").isZero();
        assertThat(child.users()).isZero();
        assertThatThrownBy(child::mmput).hasMessageContaining("exited already");
        procs.activate(); // for the teardown
        mm = procs.create("test");
    }

    /**
     * The OOM reaper frees private memory with non-blocking notifiers: a driver that would have to
     * sleep refuses (-EAGAIN, its range left, the sequence moved on anyway); once it can, the pages go.
     */
    @Test
    void oomReaperUsesNonBlockingNotifiers() {
        long priv = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        long shared = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, null, 0);
        mm.write(priv, new byte[(int) (4 * P)]);
        mm.write(shared, "kept".getBytes());
        java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        MmuInterval sub = mm.insertNotifier(priv, 4 * P, (s, st, en, ev, blockable, cur) -> {
            calls.add(ev + (blockable ? "" : " nonblock"));
            if (!blockable && busy.get()) {
                return false; // our lock is held: we cannot wait here
            }
            s.setSeq(cur);
            return true;
        });
        long seq = sub.readBegin();
        assertThat(mm.oomReap()).isEqualTo(-11);
        assertThat(calls).containsExactly("unmap nonblock");
        assertThat(mm.pte(priv).present()).as("the refused vma is left").isTrue();
        assertThat(mm.invalidateSeq() % 2).as("the invalidation ended").isZero();
        busy.set(false);
        assertThat(mm.oomReap()).isZero();
        assertThat(sub.readRetry(seq)).isTrue();
        assertThat(mm.pte(priv).present()).as("reaped").isFalse();
        assertThat(mm.rssPages()).as("only the shared page is left").isEqualTo(1);
        assertThat(mm.vmas()).as("the vmas stay").hasSize(2);
        byte[] k = new byte[4];
        mm.read(shared, k);
        assertThat(new String(k)).isEqualTo("kept");
        mm.mmapLock().writeLock().lock();
        try {
            Thread t = new Thread(() -> calls.add("reap " + mm.oomReap()));
            t.start();
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        } finally {
            mm.mmapLock().writeLock().unlock();
        }
        assertThat(calls).contains("reap -11"); // mmap_read_trylock failed
        sub.remove();
    }

    /** A shared file page read while read-only, then written after mprotect: made writable in place (wp_page_shared). */
    @Test
    void aSharedFilePageBecomesWritableAfterMprotect() {
        var f = procs.file("shared", P);
        long a = mm.mmap(0, P, PROT_READ, MAP_SHARED, f, 0);
        mm.read(a, new byte[1]);
        assertThat(mm.pte(a).writable()).isFalse();
        assertThat(mm.mprotect(a, P, PROT_READ | PROT_WRITE)).isZero();
        assertThat(mm.write(a, "w".getBytes())).isEqualTo(1);
        assertThat(mm.pte(a).pfn()).as("the file's own page, no copy").isEqualTo(f.pfn(0));
        byte[] b = new byte[1];
        f.page(0).get(b);
        assertThat(new String(b)).isEqualTo("w");
        mm.munmap(a, P);
        f.release();
    }

    /**
     * make_device_exclusive keeps the page locked while the driver maps it: a CPU access in that
     * window waits, then restores the page and tells the notifiers with no owner (so the driver that
     * made it exclusive drops its mapping).
     */
    @Test
    void aCpuAccessWaitsUntilTheDriverHasMappedTheExclusivePage() throws Exception {
        long a = mm.mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
        mm.write(a, "x".getBytes());
        java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        MmuInterval sub = mm.insertNotifier(a, P, (s, st, en, ev, bl, cur) -> {
            s.setSeq(cur);
            seen.add(ev + " owner=" + mm.invalidationOwner());
            return true;
        });
        java.util.concurrent.CountDownLatch mapping = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Thread driver = new Thread(() -> {
            mm.mmapLock().readLock().lock();
            try {
                mm.makeDeviceExclusive(a, "dev", pfn -> {
                    mapping.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            } finally {
                mm.mmapLock().readLock().unlock();
            }
        }, "driver");
        driver.start();
        mapping.await();
        Thread cpu = new Thread(() -> mm.read(a, new byte[1]), "cpu");
        cpu.start();
        for (int i = 0; i < 10_000 && cpu.getState() != Thread.State.WAITING; i++) {
            Thread.sleep(1);
        }
        assertThat(cpu.getState()).as("the CPU waits for the page lock").isEqualTo(Thread.State.WAITING);
        assertThat(mm.pte(a).exclusiveOwner()).isEqualTo("dev");
        release.countDown();
        driver.join(10_000);
        cpu.join(10_000);
        assertThat(mm.pte(a).exclusiveOwner()).isNull();
        assertThat(seen).containsExactly("exclusive owner=dev", "exclusive owner=null");
        assertThatThrownBy(() -> mm.makeDeviceExclusive(a, "dev", pfn -> { })).hasMessageContaining("mmap_lock");
        sub.remove();
    }
}
