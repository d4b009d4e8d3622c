package org.peerdma.xen.hv.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.xen.hv.Xen.*;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.hv.DomainState;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.XenError;
import org.peerdma.xen.hv.XsWatch;

class MachineTest {
    private MachineImpl xen;
    private Hypercalls dom0;
    private Hypercalls guest;

    @BeforeEach
    void boot() {
        xen = new MachineImpl(4096, 1024); // 16 MiB machine, dom0 4 MiB
        dom0 = xen.hypercalls(0);
        guest = xen.hypercalls(xen.create("guest", 256, 4).domid());
    }

    private static int errno(Throwable t) {
        return ((XenError) t).errno();
    }

    /** The guest grants gfn to dom0 at ref (table entry written as gnttab_grant_foreign_access does). */
    private void grant(int ref, long gfn, boolean ro) {
        guest.writeEntry(ref, GTF_permit_access | (ro ? GTF_readonly : 0), 0, gfn);
    }

    @Test
    void domainsAreCreatedListedAndRefusedWithXensErrors() {
        assertThat(xen.list()).extracting(DomainInfo::name).containsExactly("Domain-0", "guest");
        assertThat(xen.freeFrames()).isEqualTo(4096 - 1024 - 256);
        assertThatThrownBy(() -> xen.create("big", 4000, 4)).satisfies(e -> assertThat(errno(e)).isEqualTo(ENOMEM));
        assertThat(xen.freeFrames()).as("nothing taken by the failed create").isEqualTo(4096 - 1024 - 256);
        assertThatThrownBy(() -> xen.create("guest", 1, 1)).satisfies(e -> assertThat(errno(e)).isEqualTo(EEXIST));
        assertThatThrownBy(() -> xen.create("bad name", 1, 1)).satisfies(e -> assertThat(errno(e)).isEqualTo(EINVAL));
        assertThatThrownBy(() -> xen.create("zero", 0, 1)).satisfies(e -> assertThat(errno(e)).isEqualTo(EINVAL));
        assertThatThrownBy(() -> xen.destroy(0)).satisfies(e -> assertThat(errno(e)).isEqualTo(EPERM));
        assertThatThrownBy(() -> xen.destroy(77)).satisfies(e -> assertThat(errno(e)).isEqualTo(ESRCH));
        assertThatThrownBy(() -> xen.hypercalls(77)).satisfies(e -> assertThat(errno(e)).isEqualTo(ESRCH));
        assertThat(dom0.xsRead("/local/domain/" + guest.domid() + "/name")).isEqualTo("guest");
    }

    @Test
    void aDomainReachesOnlyItsOwnPagesAndFreedFramesAreScrubbed() {
        assertThatThrownBy(() -> guest.page(256)).satisfies(e -> assertThat(errno(e)).isEqualTo(EINVAL));
        assertThatThrownBy(() -> guest.page(-1)).satisfies(e -> assertThat(errno(e)).isEqualTo(EINVAL));
        long mfn = guest.gfnToMfn(3);
        guest.page(3).putLong(0, 0x5ec7e7L);
        xen.destroy(guest.domid());
        assertThatThrownBy(() -> guest.page(3)).as("a dead domain's calls").satisfies(
                e -> assertThat(errno(e)).isEqualTo(ESRCH));
        Hypercalls next = xen.hypercalls(xen.create("next", 256, 1).domid());
        boolean reused = false;
        for (long g = 0; g < 256; g++) {
            if (next.gfnToMfn(g) == mfn) {
                reused = true;
                assertThat(next.page(g).getLong(0)).as("scrubbed before reuse").isZero();
            }
        }
        assertThat(reused).isTrue();
    }

    @Test
    void aGrantedPageIsTheGrantersMemoryNotACopy() {
        guest.page(5).put(0, (byte) 42);
        grant(10, 5, false);
        GrantMap m = dom0.mapGrantRef(guest.domid(), 10, GNTMAP_host_map);
        assertThat(m.ok()).isTrue();
        assertThat(m.memory().get(0)).isEqualTo((byte) 42);
        guest.page(5).put(1, (byte) 43); // a later write by the guest, seen through the existing mapping
        assertThat(m.memory().get(1)).isEqualTo((byte) 43);
        m.memory().put(2, (byte) 44); // and dom0's write lands in the guest's page
        assertThat(guest.page(5).get(2)).isEqualTo((byte) 44);
        assertThat(guest.entryFlags(10) & (GTF_reading | GTF_writing)).isEqualTo(GTF_reading | GTF_writing);
        assertThat(guest.clearEntry(10)).as("end_foreign_access refused while mapped").isFalse();
        assertThat(dom0.unmapGrantRef(m.handle())).isEqualTo(GNTST_okay);
        assertThat(guest.entryFlags(10)).isEqualTo(GTF_permit_access);
        assertThat(guest.clearEntry(10)).isTrue();
        assertThat(guest.entryFlags(10)).isZero();
        assertThat(dom0.unmapGrantRef(m.handle())).isEqualTo(GNTST_bad_handle);
    }

    @Test
    void mapErrorsAreTheGntstCodes() {
        grant(1, 1, true);
        guest.writeEntry(2, GTF_permit_access, 99, 2); // granted to another domain
        GrantMap ro = dom0.mapGrantRef(guest.domid(), 1, GNTMAP_host_map | GNTMAP_readonly);
        assertThat(ro.ok()).isTrue();
        assertThatThrownBy(() -> ro.memory().put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
        assertThat(guest.entryFlags(1) & GTF_writing).isZero();
        assertThat(dom0.mapGrantRef(guest.domid(), 1, GNTMAP_host_map).status()).as("write-pin of r/o")
                .isEqualTo(GNTST_general_error);
        assertThat(dom0.mapGrantRef(guest.domid(), 2, GNTMAP_host_map).message()).contains("Bad flags");
        assertThat(dom0.mapGrantRef(guest.domid(), 3, GNTMAP_host_map).status()).as("never granted")
                .isEqualTo(GNTST_general_error);
        assertThat(dom0.mapGrantRef(guest.domid(), 512 * 4, GNTMAP_host_map).status()).isEqualTo(GNTST_bad_gntref);
        assertThat(dom0.mapGrantRef(guest.domid(), 512, GNTMAP_host_map).status()).as("table not grown yet")
                .isEqualTo(GNTST_bad_gntref);
        assertThat(dom0.mapGrantRef(guest.domid(), 1, GNTMAP_readonly).status()).as("neither host nor device map")
                .isEqualTo(GNTST_bad_gntref);
        assertThat(dom0.mapGrantRef(42, 1, GNTMAP_host_map).status()).isEqualTo(GNTST_bad_domain);
        guest.writeEntry(4, GTF_permit_access, 0, 9999);
        assertThat(dom0.mapGrantRef(guest.domid(), 4, GNTMAP_host_map).status()).isEqualTo(GNTST_bad_page);
        assertThat(gntstName(GNTST_bad_gntref)).isEqualTo("bad gntref");
        assertThat(dom0.unmapGrantRef(ro.handle())).isEqualTo(GNTST_okay);
        assertThat(dom0.grantHandles()).isEmpty();
        assertThatThrownBy(() -> guest.writeEntry(512, GTF_permit_access, 0, 1)).satisfies(
                e -> assertThat(errno(e)).isEqualTo(EINVAL));
    }

    @Test
    void theTableGrowsToItsMaximumAndTheMaptrackIsBounded() {
        assertThat(guest.grantEntries()).isEqualTo(512);
        assertThat(guest.setupTable(5)).isEqualTo(GNTST_general_error);
        assertThat(guest.grantEntries()).isEqualTo(512);
        assertThat(guest.setupTable(4)).isEqualTo(GNTST_okay);
        assertThat(guest.grantEntries()).isEqualTo(2048);
        grant(2047, 7, true);
        Hypercalls small = xen.hypercalls(xen.create("small", 1, 1).domid());
        guest.writeEntry(2046, GTF_permit_access | GTF_readonly, small.domid(), 7);
        List<Integer> handles = new ArrayList<>();
        int limit = 512 * MachineImpl.MAPTRACK_RATIO;
        for (int i = 0; i < limit; i++) {
            GrantMap m = small.mapGrantRef(guest.domid(), 2046, GNTMAP_host_map | GNTMAP_readonly);
            assertThat(m.ok()).isTrue();
            handles.add(m.handle());
        }
        assertThat(small.mapGrantRef(guest.domid(), 2046, GNTMAP_host_map | GNTMAP_readonly).status())
                .isEqualTo(GNTST_no_device_space);
        for (int h : handles) {
            assertThat(small.unmapGrantRef(h)).isZero();
        }
        assertThat(guest.entryFlags(2046)).isEqualTo(GTF_permit_access | GTF_readonly);
    }

    @Test
    void aCrashedGranterStaysDyingUntilTheLastMappingGoes() throws Exception {
        long free0 = xen.freeFrames();
        guest.page(8).putInt(0, 0xfeed);
        grant(3, 8, false);
        List<String> released = new CopyOnWriteArrayList<>();
        dom0.xsWatch("@releaseDomain", "rel", (p, t) -> released.add(p));
        GrantMap m = dom0.mapGrantRef(guest.domid(), 3, GNTMAP_host_map);
        int id = guest.domid();
        xen.crash(id);
        DomainInfo dying = xen.info(id).orElseThrow();
        assertThat(dying.state()).isEqualTo(DomainState.CRASHED);
        assertThat(dying.framesHeld()).as("only the frame dom0 maps").isEqualTo(1);
        assertThat(m.memory().getInt(0)).as("never freed under a mapping").isEqualTo(0xfeed);
        assertThat(dom0.mapGrantRef(id, 3, GNTMAP_host_map).status()).isEqualTo(GNTST_bad_domain);
        assertThat(dom0.unmapGrantRef(m.handle())).isZero();
        assertThat(xen.info(id)).as("dead once unmapped").isEmpty();
        assertThat(xen.freeFrames()).isEqualTo(free0 + 256);
        xen.drainEvents();
        assertThat(released).contains("@releaseDomain");
        assertThatThrownBy(() -> dom0.xsRead("/local/domain/" + id + "/name")).satisfies(
                e -> assertThat(errno(e)).isEqualTo(ENOENT));
    }

    @Test
    void aDyingGranteesMappingsAreReleased() {
        Hypercalls b = xen.hypercalls(xen.create("b", 16, 1).domid());
        guest.writeEntry(5, GTF_permit_access, b.domid(), 1);
        GrantMap m = b.mapGrantRef(guest.domid(), 5, GNTMAP_host_map);
        assertThat(m.ok()).isTrue();
        xen.destroy(b.domid());
        assertThat(guest.entryFlags(5)).as("gnttab_release_mappings").isEqualTo(GTF_permit_access);
        assertThat(guest.clearEntry(5)).isTrue();
        assertThat(xen.info(b.domid())).isEmpty();
    }

    @Test
    void eventChannelsBindNotifyCoalesceAndClose() throws Exception {
        int unbound = guest.evtchnAllocUnbound(0);
        assertThat(unbound).isPositive();
        assertThat(guest.evtchnStatus(unbound)).isEqualTo("unbound(0)");
        Hypercalls other = xen.hypercalls(xen.create("other", 1, 1).domid());
        assertThat(other.evtchnBindInterdomain(guest.domid(), unbound)).as("offered to dom0 only").isEqualTo(-EINVAL);
        assertThat(dom0.evtchnBindInterdomain(55, unbound)).isEqualTo(-ESRCH);
        assertThat(guest.evtchnAllocUnbound(55)).isEqualTo(-ESRCH);
        int local = dom0.evtchnBindInterdomain(guest.domid(), unbound);
        assertThat(local).isPositive();
        assertThat(guest.evtchnStatus(unbound)).isEqualTo("interdomain(0:" + local + ")");
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger got = new AtomicInteger();
        guest.evtchnHandler(unbound, p -> {
            try {
                gate.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            got.incrementAndGet();
        });
        dom0.evtchnSend(local); // runs, blocked on the gate
        Thread.sleep(50);
        dom0.evtchnSend(local); // pending
        dom0.evtchnSend(local); // coalesced with the pending one
        gate.countDown();
        xen.drainEvents();
        assertThat(got.get()).isEqualTo(2);
        assertThat(dom0.evtchnSend(999)).isEqualTo(-EINVAL);
        assertThat(guest.evtchnClose(unbound)).isZero();
        assertThat(dom0.evtchnStatus(local)).as("the peer falls back to unbound").isEqualTo("unbound(" + guest.domid() + ")");
        assertThat(dom0.evtchnSend(local)).isZero();
        assertThat(guest.evtchnClose(unbound)).isEqualTo(-EINVAL);
    }

    @Test
    void aPausedDomainsEventsWaitAndItsCallsBlockUntilUnpaused() throws Exception {
        int gp = guest.evtchnAllocUnbound(0);
        int dp = dom0.evtchnBindInterdomain(guest.domid(), gp);
        AtomicInteger got = new AtomicInteger();
        guest.evtchnHandler(gp, p -> got.incrementAndGet());
        xen.pause(guest.domid());
        assertThat(xen.info(guest.domid()).orElseThrow().state()).isEqualTo(DomainState.PAUSED);
        dom0.evtchnSend(dp);
        xen.drainEvents();
        assertThat(got.get()).isZero();
        CountDownLatch returned = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            guest.xsWrite("/local/domain/" + guest.domid() + "/data", "x");
            returned.countDown();
        });
        t.start();
        assertThat(returned.await(100, TimeUnit.MILLISECONDS)).as("its vCPU does not run").isFalse();
        xen.unpause(guest.domid());
        assertThat(returned.await(5, TimeUnit.SECONDS)).isTrue();
        xen.drainEvents();
        assertThat(got.get()).isEqualTo(1);
        assertThatThrownBy(() -> xen.pause(0)).satisfies(e -> assertThat(errno(e)).isEqualTo(EPERM));
    }

    @Test
    void xenstorePermissionsAndWatches() throws Exception {
        String home = "/local/domain/" + guest.domid();
        guest.xsWrite(home + "/device/vdispl/0/state", "1");
        assertThat(guest.xsDirectory(home)).contains("device", "domid", "name");
        assertThatThrownBy(() -> guest.xsRead("/local/domain/0/name")).satisfies(e -> assertThat(errno(e)).isEqualTo(EACCES));
        assertThatThrownBy(() -> guest.xsWrite("/local/domain/0/evil", "1")).satisfies(
                e -> assertThat(errno(e)).isEqualTo(EACCES));
        assertThatThrownBy(() -> guest.xsRead(home + "/nothing")).satisfies(e -> assertThat(errno(e)).isEqualTo(ENOENT));
        assertThatThrownBy(() -> guest.xsRead("no-slash")).satisfies(e -> assertThat(errno(e)).isEqualTo(EINVAL));
        // the backend area: dom0 writes it and lets the guest read
        dom0.xsWrite("/local/domain/0/backend/vdispl/" + guest.domid() + "/0/state", "2");
        dom0.xsSetPerms("/local/domain/0/backend/vdispl/" + guest.domid() + "/0/state", List.of("n0", "r" + guest.domid()));
        assertThat(guest.xsRead("/local/domain/0/backend/vdispl/" + guest.domid() + "/0/state")).isEqualTo("2");
        assertThatThrownBy(() -> guest.xsSetPerms(home, List.of("q1"))).satisfies(e -> assertThat(errno(e)).isEqualTo(EINVAL));
        assertThatThrownBy(() -> guest.xsSetPerms("/local/domain/0", List.of("b" + guest.domid()))).satisfies(
                e -> assertThat(errno(e)).isEqualTo(EACCES));
        List<String> seen = new CopyOnWriteArrayList<>();
        XsWatch w = dom0.xsWatch(home + "/device", "fe", (p, t) -> seen.add(t + ":" + p));
        guest.xsWrite(home + "/device/vdispl/0/state", "3");
        guest.xsWrite(home + "/other", "x"); // not below the watch
        xen.drainEvents();
        assertThat(seen).containsExactly("fe:" + home + "/device", "fe:" + home + "/device/vdispl/0/state");
        w.close();
        guest.xsWrite(home + "/device/vdispl/0/state", "4");
        xen.drainEvents();
        assertThat(seen).hasSize(2);
        guest.xsRm(home + "/device");
        assertThatThrownBy(() -> guest.xsRead(home + "/device/vdispl/0/state")).satisfies(
                e -> assertThat(errno(e)).isEqualTo(ENOENT));
    }

    @Test
    void aSharedMemoryDeviceIsOneMemoryWithDoorbellsForTheDomainsConfigured() throws Exception {
        Hypercalls other = xen.hypercalls(xen.create("other", 16, 1).domid());
        Hypercalls third = xen.hypercalls(xen.create("third", 16, 1).domid());
        xen.shmemCreate("ivshmem0", 1 << 20, List.of(guest.domid(), other.domid()));
        assertThatThrownBy(() -> xen.shmemCreate("ivshmem0", 2 << 20, List.of())).satisfies(
                e -> assertThat(errno(e)).isEqualTo(EEXIST));
        assertThatThrownBy(() -> xen.shmemCreate("bad name", 4096, List.of())).satisfies(
                e -> assertThat(errno(e)).isEqualTo(EINVAL));
        assertThatThrownBy(() -> xen.shmemCreate("odd", 1000, List.of())).satisfies(
                e -> assertThat(errno(e)).isEqualTo(EINVAL));
        var a = guest.shmemAttach("ivshmem0");
        var b = other.shmemAttach("ivshmem0");
        assertThatThrownBy(() -> third.shmemAttach("ivshmem0")).satisfies(e -> assertThat(errno(e)).isEqualTo(EACCES));
        assertThatThrownBy(() -> guest.shmemAttach("ivshmem0")).satisfies(e -> assertThat(errno(e)).isEqualTo(EBUSY));
        assertThatThrownBy(() -> guest.shmemAttach("nope")).satisfies(e -> assertThat(errno(e)).isEqualTo(ENOENT));
        a.memory().putLong(4096, 0x5eed);
        assertThat(b.memory().getLong(4096)).as("one memory").isEqualTo(0x5eed);
        List<Integer> rings = new CopyOnWriteArrayList<>();
        List<Integer> gone = new CopyOnWriteArrayList<>();
        b.handler(rings::add);
        b.onPeerGone(gone::add);
        assertThat(a.doorbell(other.domid())).isZero();
        assertThat(a.doorbell(third.domid())).as("not attached").isEqualTo(-ESRCH);
        xen.drainEvents();
        assertThat(rings).containsExactly(guest.domid());
        assertThat(a.peers()).containsExactly(guest.domid(), other.domid());
        xen.crash(guest.domid());
        xen.drainEvents();
        assertThat(gone).containsExactly(guest.domid());
        assertThat(b.peers()).containsExactly(other.domid());
        xen.shmemAllow("ivshmem0", third.domid());
        third.shmemAttach("ivshmem0").detach();
    }
}
