package org.peerdma.p2pdma.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;
import org.peerdma.errno.KernelException;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The P2P pool never hands out live memory: against a reference first-fit allocator, over random
 * sequences of allocations, frees and bogus frees (a range covering a neighbour, one page inside an
 * allocation, a tail short of the end), single- and multi-threaded.
 */
class GenPoolTest {
    static final long PAGE = 1L << GenPool.ORDER;
    static final long BASE = 0xffff_8880_0000_0000L;

    /** One step: allocate n pages, free live allocation #k, or a bogus free derived from allocation #k. */
    record Op(int kind, int pages, int k, int shift) {
    }

    /** The reference: a page array, first fit, allocation table. */
    static final class Reference {
        final boolean[] used;
        final List<long[]> live = new ArrayList<>(); // {start page, pages}

        Reference(int pages) {
            used = new boolean[pages];
        }

        int alloc(int n) {
            for (int s = 0; s + n <= used.length; s++) {
                boolean free = true;
                for (int i = s; i < s + n && free; i++) {
                    free = !used[i];
                }
                if (free) {
                    for (int i = s; i < s + n; i++) {
                        used[i] = true;
                    }
                    live.add(new long[] {s, n});
                    return s;
                }
            }
            return -1;
        }

        long avail() {
            long n = 0;
            for (boolean u : used) {
                n += u ? 0 : 1;
            }
            return n * PAGE;
        }
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 9), Arbitraries.integers().between(1, 9),
                Arbitraries.integers().between(0, 50), Arbitraries.integers().between(-2, 2)).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(300);
    }

    /** Sizes from one page to past two words of the bitmap, mostly small, in a chunk of 333 pages (5 words and 13). */
    @Provide
    Arbitrary<List<Op>> wideOps() {
        Arbitrary<Integer> pages = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(1, 4)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(5, 70)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(60, 200)));
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 9), pages,
                Arbitraries.integers().between(0, 200), Arbitraries.integers().between(-2, 2)).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(400);
    }

    @Property(tries = 300)
    void firstFitExactFreesAndNothingHandedOutTwice(@ForAll("ops") List<Op> ops) {
        run(64, ops);
    }

    /** The tree of free runs: runs across words, requests longer than a word, a partial last word. */
    @Property(tries = 300)
    void firstFitAcrossWordsOfTheBitmap(@ForAll("wideOps") List<Op> ops) {
        run(333, ops);
    }

    private static void run(int pages, List<Op> ops) {
        GenPool pool = new GenPool();
        pool.addOwner(BASE, 0x3800_0000_0000L, pages * PAGE, null);
        Reference ref = new Reference(pages);
        for (Op o : ops) {
            if (o.kind() < 5) {
                long a = pool.alloc(o.pages() * PAGE);
                int s = ref.alloc(o.pages());
                assertThat(a == 0).as("fails exactly when first fit fails").isEqualTo(s < 0);
                if (a != 0) {
                    assertThat(a).as("the first-fit address").isEqualTo(BASE + s * PAGE);
                }
            } else if (!ref.live.isEmpty()) {
                long[] l = ref.live.get(o.k() % ref.live.size());
                if (o.kind() < 8) {
                    pool.free(BASE + l[0] * PAGE, l[1] * PAGE);
                    for (long i = l[0]; i < l[0] + l[1]; i++) {
                        ref.used[(int) i] = false;
                    }
                    ref.live.remove(l);
                } else {
                    // a bogus free: shifted start or wrong length; must be refused with nothing changed
                    long start = l[0] + (o.kind() == 8 ? Math.max(0, o.shift()) : 0);
                    long len = l[1] + (o.kind() == 9 ? o.shift() : 0);
                    boolean exact = ref.live.stream().anyMatch(x -> x[0] == start && x[1] == len);
                    if (!exact && len > 0 && start + len <= pages) {
                        long before = pool.avail();
                        assertThatThrownBy(() -> pool.free(BASE + start * PAGE, len * PAGE))
                                .isInstanceOf(KernelException.class).hasMessageStartingWith("EINVAL");
                        assertThat(pool.avail()).as("a refused free changes nothing").isEqualTo(before);
                    }
                }
            }
            assertThat(pool.avail()).isEqualTo(ref.avail());
        }
    }

    @Test
    void theIssuesCases() {
        GenPool pool = new GenPool();
        pool.addOwner(BASE, 0, 16 * PAGE, null);
        long a = pool.alloc(2 * PAGE);
        long b = pool.alloc(2 * PAGE);
        assertThat(b).isEqualTo(a + 2 * PAGE);
        long avail = pool.avail();
        assertThatThrownBy(() -> pool.free(a, 4 * PAGE)).hasMessageContaining("covers the live allocation at");
        assertThatThrownBy(() -> pool.free(a + PAGE, PAGE)).hasMessageContaining("no allocation starts at")
                .hasMessageContaining("inside one");
        assertThatThrownBy(() -> pool.free(a, PAGE)).hasMessageContaining("stops inside the allocation");
        assertThat(pool.avail()).isEqualTo(avail);
        // the next 16K allocation does not overlap the live second buffer
        pool.free(a, 2 * PAGE);
        assertThat(pool.alloc(4 * PAGE)).isEqualTo(b + 2 * PAGE);
        // an mmap-style allocation is freed page by page
        long m = pool.alloc(3 * PAGE, true);
        pool.free(m + PAGE, PAGE);
        pool.free(m, PAGE);
        pool.free(m + 2 * PAGE, PAGE);
    }

    @Test
    void secondChunkServesWhatTheFirstCannotAndFreesFindTheirChunk() {
        GenPool pool = new GenPool();
        long base2 = BASE + (1L << 32);
        pool.addOwner(BASE, 0, 100 * PAGE, null);
        pool.addOwner(base2, 0, 300 * PAGE, null);
        assertThat(pool.alloc(90 * PAGE)).isEqualTo(BASE);
        assertThat(pool.alloc(20 * PAGE)).as("does not fit the first chunk's 10 pages").isEqualTo(base2);
        assertThat(pool.alloc(10 * PAGE)).isEqualTo(BASE + 90 * PAGE);
        assertThat(pool.alloc(281 * PAGE)).isZero();
        assertThat(pool.alloc(280 * PAGE)).isEqualTo(base2 + 20 * PAGE);
        assertThat(pool.avail()).isZero();
        assertThat(pool.free(base2, 20 * PAGE).virt).isEqualTo(base2);
        assertThat(pool.avail()).isEqualTo(20 * PAGE);
        assertThat(pool.describe(pool.chunkOf(base2), 8)).isEqualTo(String.format("%#x+%d", base2 + 20 * PAGE,
                280 * PAGE));
    }

    @Test
    void aCheckerboardIsSkippedToTheFirstHoleBigEnough() {
        int pages = 64 * 1024;
        GenPool pool = new GenPool();
        pool.addOwner(BASE, 0, pages * PAGE, null);
        for (int i = 0; i < pages; i++) {
            assertThat(pool.alloc(PAGE)).isEqualTo(BASE + i * PAGE);
        }
        for (int i = 0; i < pages - 2; i += 2) { // free every other page but the last two
            pool.free(BASE + i * PAGE, PAGE);
        }
        pool.free(BASE + (pages - 1) * PAGE, PAGE);
        pool.free(BASE + (pages - 2) * PAGE, PAGE);
        assertThat(pool.alloc(2 * PAGE)).as("the only two free pages side by side").isEqualTo(BASE + (pages - 2) * PAGE);
        assertThat(pool.alloc(2 * PAGE)).isZero();
        assertThat(pool.alloc(PAGE)).isEqualTo(BASE);
    }

    @Test
    void threadsNeverSeeEachOthersPages() throws Exception {
        int pages = 256;
        GenPool pool = new GenPool();
        pool.addOwner(BASE, 0, pages * PAGE, null);
        AtomicIntegerArray owner = new AtomicIntegerArray(pages);
        int threads = 4;
        CyclicBarrier go = new CyclicBarrier(threads);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> ts = new ArrayList<>();
        int[] done = new int[threads];
        for (int t = 0; t < threads; t++) {
            int id = t + 1;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    for (int i = 0; i < 20_000; i++) {
                        int n = 1 + r.nextInt(8);
                        long a = pool.alloc(n * PAGE);
                        if (a == 0) {
                            continue;
                        }
                        int s = (int) ((a - BASE) / PAGE);
                        for (int p = s; p < s + n; p++) {
                            if (!owner.compareAndSet(p, 0, id)) {
                                throw new AssertionError("page " + p + " handed to thread " + id + " while thread "
                                        + owner.get(p) + " holds it");
                            }
                        }
                        for (int p = s; p < s + n; p++) {
                            owner.set(p, 0);
                        }
                        pool.free(a, n * PAGE);
                        done[id - 1]++;
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join(60_000);
            assertThat(th.isAlive()).isFalse();
        }
        assertThat(failures).isEmpty();
        assertThat(pool.avail()).isEqualTo(pages * PAGE);
        for (int d : done) {
            assertThat(d).as("every thread got memory").isGreaterThan(1000);
        }
    }
}
