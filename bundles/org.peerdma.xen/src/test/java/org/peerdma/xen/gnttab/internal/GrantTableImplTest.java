package org.peerdma.xen.gnttab.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.hv.Xen;

class GrantTableImplTest {
    private Hypervisor xen;
    private Hypercalls dom0;
    private Hypercalls guest;
    private GrantTableImpl gnttab;

    @BeforeEach
    void boot() {
        xen = Machines.create(64 << 20, 16 << 20);
        dom0 = xen.hypercalls(0);
        guest = xen.hypercalls(xen.create("guest", 1024, 2).domid());
        gnttab = new GrantTableImpl(guest, 20);
    }

    @AfterEach
    void stop() {
        gnttab.deactivate();
    }

    @Test
    void refsStartAfterTheReservedOnesAndAFreedRefIsTheNextOneOut() {
        assertThat(gnttab.freeCount()).isEqualTo(512 - 8);
        int a = gnttab.grantForeignAccess(0, 1, false);
        int b = gnttab.grantForeignAccess(0, 2, true);
        assertThat(a).isEqualTo(8);
        assertThat(b).isEqualTo(9);
        assertThat(guest.entryFlags(b)).isEqualTo(Xen.GTF_permit_access | Xen.GTF_readonly);
        assertThat(guest.entryDomid(b)).isZero();
        assertThat(gnttab.tryEndForeignAccess(a)).isTrue();
        assertThat(gnttab.grantForeignAccess(0, 3, false)).isEqualTo(a);
        gnttab.freeReference(1); // reserved (xenstore): nothing happens
        assertThat(gnttab.freeCount()).isEqualTo(512 - 8 - 2);
        assertThat(gnttab.inUse()).isEqualTo(2);
        assertThatThrownBy(() -> gnttab.freeReference(100)).hasMessageContaining("not allocated");
        assertThatThrownBy(() -> gnttab.grantForeignAccessRef(100, 0, 1, false)).hasMessageContaining("not allocated");
        assertThat(gnttab.holders()).containsExactly("2 grant reference(s) in use");
    }

    @Test
    void endingARefThatWasNeverHandedOutIsRefusedAndLeavesTheFreeListAlone() {
        int free = gnttab.freeCount();
        for (int bad : new int[] {-1, 0, 7, 8, 511, 512, Integer.MAX_VALUE}) {
            assertThatThrownBy(() -> gnttab.tryEndForeignAccess(bad))
                    .satisfies(e -> assertThat(((KernelException) e).errno()).isEqualTo(Errno.EINVAL))
                    .hasMessageMatching("EINVAL: grant ref -?\\d+ is (outside the grant table.*|reserved.*|not allocated)");
            assertThatThrownBy(() -> gnttab.endForeignAccessRef(bad)).isInstanceOf(KernelException.class);
            assertThatThrownBy(() -> gnttab.endForeignAccess(bad, null)).isInstanceOf(KernelException.class);
        }
        assertThat(gnttab.freeCount()).isEqualTo(free);
        // without the check, ending ref 8 before it was granted put it on the free list twice
        int a = gnttab.grantForeignAccess(0, 1, false);
        int b = gnttab.grantForeignAccess(0, 2, false);
        assertThat(a).isNotEqualTo(b);
        assertThat(gnttab.tryEndForeignAccess(a)).isTrue();
        assertThatThrownBy(() -> gnttab.tryEndForeignAccess(a)).hasMessageContaining("not allocated");
        assertThat(gnttab.tryEndForeignAccess(b)).isTrue();
        assertThat(gnttab.freeCount()).isEqualTo(free);
    }

    @Test
    void theTableGrowsToItsMaximumThenRefusesWithEnospc() {
        List<Integer> refs = new ArrayList<>();
        for (int i = 0; i < 2 * 512 - 8; i++) {
            int r = gnttab.grantForeignAccess(0, i % 1024, true);
            assertThat(r).isGreaterThanOrEqualTo(8);
            refs.add(r);
        }
        assertThat(guest.grantEntries()).isEqualTo(1024);
        assertThat(gnttab.grantForeignAccess(0, 1, true)).isEqualTo(-Xen.ENOSPC);
        assertThat(gnttab.allocReferences(1)).isNull();
        gnttab.tryEndForeignAccess(refs.get(0));
        gnttab.tryEndForeignAccess(refs.get(1));
        assertThat(gnttab.allocReferences(3)).as("all or nothing").isNull();
        int[] two = gnttab.allocReferences(2);
        assertThat(two).hasSize(2);
        gnttab.grantForeignAccessRef(two[0], 0, 5, false);
        assertThat(guest.entryFlags(two[0])).isEqualTo(Xen.GTF_permit_access);
    }

    @Test
    void endingAMappedGrantIsRefusedOrDeferredUntilTheGranteeUnmaps() throws Exception {
        int ref = gnttab.grantForeignAccess(0, 7, false);
        GrantMap m = dom0.mapGrantRef(guest.domid(), ref, Xen.GNTMAP_host_map);
        assertThat(m.ok()).isTrue();
        assertThat(gnttab.endForeignAccessRef(ref)).isZero();
        assertThat(gnttab.tryEndForeignAccess(ref)).isFalse();
        AtomicInteger released = new AtomicInteger();
        gnttab.endForeignAccess(ref, released::incrementAndGet);
        assertThat(gnttab.deferredCount()).isEqualTo(1);
        Thread.sleep(100); // several timer passes: still mapped
        assertThat(released.get()).isZero();
        assertThat(gnttab.inUse()).isEqualTo(1);
        dom0.unmapGrantRef(m.handle());
        long until = System.nanoTime() + 5_000_000_000L;
        while (gnttab.deferredCount() > 0 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertThat(gnttab.deferredCount()).isZero();
        assertThat(released.get()).isEqualTo(1);
        assertThat(gnttab.inUse()).isZero();
        assertThat(guest.entryFlags(ref)).isZero();
    }

    @Test
    void aTimerPassFreesAtMostTenDeferredEntries() throws Exception {
        gnttab.periodMs = 300;
        List<GrantMap> maps = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            int ref = gnttab.grantForeignAccess(0, i, false);
            maps.add(dom0.mapGrantRef(guest.domid(), ref, Xen.GNTMAP_host_map));
            gnttab.endForeignAccess(ref, null);
        }
        assertThat(gnttab.deferredCount()).isEqualTo(25);
        for (GrantMap m : maps) {
            dom0.unmapGrantRef(m.handle());
        }
        long until = System.nanoTime() + 5_000_000_000L;
        while (gnttab.deferredCount() == 25 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(gnttab.deferredCount()).as("one pass").isEqualTo(25 - GrantTable.FREE_PER_ITERATION);
        while (gnttab.deferredCount() > 0 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(gnttab.deferredCount()).isZero();
        assertThat(gnttab.inUse()).isZero();
    }

    /**
     * gnttab_handle_deferred looks at free_per_iteration (10) entries a pass whether or not it can free them
     * (`while (nr--)`), re-queueing the ones still mapped at the tail and stopping when it meets the first of
     * those again. With 15 still-mapped entries ahead of 10 unmapped ones, the first pass frees nothing.
     * The passes are run by hand (the timer's period is an hour), so nothing depends on timing.
     */
    @Test
    void aTimerPassLooksAtTenDeferredEntriesWhetherOrNotItFreesThem() {
        gnttab.periodMs = 3_600_000;
        List<GrantMap> maps = new ArrayList<>();
        List<Integer> released = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            int ref = gnttab.grantForeignAccess(0, i, false);
            maps.add(dom0.mapGrantRef(guest.domid(), ref, Xen.GNTMAP_host_map));
            int n = i;
            gnttab.endForeignAccess(ref, () -> released.add(n));
        }
        for (GrantMap m : maps.subList(15, 25)) {
            dom0.unmapGrantRef(m.handle());
        }
        gnttab.pass();
        assertThat(gnttab.deferredCount()).as("pass 1 looked at entries 0-9 only: all still mapped").isEqualTo(25);
        assertThat(released).isEmpty();
        gnttab.pass(); // 10-14 mapped, 15-19 freed
        assertThat(released).containsExactly(15, 16, 17, 18, 19);
        gnttab.pass(); // 20-24 freed, then 0-4 still mapped
        assertThat(released).hasSize(10);
        assertThat(gnttab.deferredCount()).isEqualTo(15);
        for (GrantMap m : maps.subList(0, 15)) {
            dom0.unmapGrantRef(m.handle());
        }
        gnttab.pass(); // queue now 5-9, 10-14, 0-4
        assertThat(released.subList(10, 20)).containsExactly(5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        gnttab.pass();
        assertThat(released.subList(20, 25)).containsExactly(0, 1, 2, 3, 4);
        assertThat(gnttab.deferredCount()).isZero();
        assertThat(gnttab.inUse()).isZero();
        gnttab.pass(); // an empty queue: nothing happens
        assertThat(gnttab.freeCount()).isEqualTo(512 - 8);
    }

    /** Fewer than ten entries, all still mapped: each is looked at once a pass, then the pass stops. */
    @Test
    void aPassOverEntriesStillMappedLooksAtEachOnceAndKeepsTheirOrder() {
        gnttab.periodMs = 3_600_000;
        List<GrantMap> maps = new ArrayList<>();
        List<Integer> released = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int ref = gnttab.grantForeignAccess(0, i, false);
            maps.add(dom0.mapGrantRef(guest.domid(), ref, Xen.GNTMAP_host_map));
            int n = i;
            gnttab.endForeignAccess(ref, () -> released.add(n));
        }
        gnttab.pass();
        gnttab.pass();
        assertThat(gnttab.deferredCount()).isEqualTo(3);
        for (int i = 2; i >= 0; i--) {
            dom0.unmapGrantRef(maps.get(i).handle());
        }
        gnttab.pass();
        assertThat(released).as("freed in queue order").containsExactly(0, 1, 2);
        assertThat(gnttab.inUse()).isZero();
    }
}
