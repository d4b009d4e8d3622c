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

    @Property(tries = 300)
    void firstFitExactFreesAndNothingHandedOutTwice(@ForAll("ops") List<Op> ops) {
        int pages = 64;
        GenPool pool = new GenPool();
        pool.addOwner(BASE, 0x3800_0000_0000L, pages * PAGE, null);
        Reference ref = new Reference(pages);
        for (Op o : ops) {
            if (o.kind() < 5) {
                GenPool.Alloc a = pool.alloc(o.pages() * PAGE);
                int s = ref.alloc(o.pages());
                assertThat(a == null).as("fails exactly when first fit fails").isEqualTo(s < 0);
                if (a != null) {
                    assertThat(a.virt()).as("the first-fit address").isEqualTo(BASE + s * PAGE);
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
        long a = pool.alloc(2 * PAGE).virt();
        long b = pool.alloc(2 * PAGE).virt();
        assertThat(b).isEqualTo(a + 2 * PAGE);
        long avail = pool.avail();
        assertThatThrownBy(() -> pool.free(a, 4 * PAGE)).hasMessageContaining("covers the live allocation at");
        assertThatThrownBy(() -> pool.free(a + PAGE, PAGE)).hasMessageContaining("no allocation starts at")
                .hasMessageContaining("inside one");
        assertThatThrownBy(() -> pool.free(a, PAGE)).hasMessageContaining("stops inside the allocation");
        assertThat(pool.avail()).isEqualTo(avail);
        // the next 16K allocation does not overlap the live second buffer
        pool.free(a, 2 * PAGE);
        assertThat(pool.alloc(4 * PAGE).virt()).isEqualTo(b + 2 * PAGE);
        // an mmap-style allocation is freed page by page
        long m = pool.alloc(3 * PAGE, true).virt();
        pool.free(m + PAGE, PAGE);
        pool.free(m, PAGE);
        pool.free(m + 2 * PAGE, PAGE);
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
                        GenPool.Alloc a = pool.alloc(n * PAGE);
                        if (a == null) {
                            continue;
                        }
                        int s = (int) ((a.virt() - BASE) / PAGE);
                        for (int p = s; p < s + n; p++) {
                            if (!owner.compareAndSet(p, 0, id)) {
                                throw new AssertionError("page " + p + " handed to thread " + id + " while thread "
                                        + owner.get(p) + " holds it");
                            }
                        }
                        for (int p = s; p < s + n; p++) {
                            owner.set(p, 0);
                        }
                        pool.free(a.virt(), n * PAGE);
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
