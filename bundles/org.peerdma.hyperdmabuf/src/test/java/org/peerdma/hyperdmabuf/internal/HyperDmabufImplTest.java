package org.peerdma.hyperdmabuf.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peerdma.hyperdmabuf.HyperDmabuf.EXPORTED;
import static org.peerdma.hyperdmabuf.HyperDmabuf.IMPORTED;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_BUSY;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_DELAYED_UNEXPORTED;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_EXPORTER;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_IMPORTER;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_PRIV_INFO;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_PRIV_INFO_SIZE;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_SIZE;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_TYPE;
import static org.peerdma.hyperdmabuf.HyperDmabuf.QUERY_UNEXPORTED;
import static org.peerdma.hyperdmabuf.internal.FakeHub.PAGE;
import static org.peerdma.hyperdmabuf.internal.FakeHub.await;
import static org.peerdma.hyperdmabuf.internal.FakeHub.awaitValue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.hyperdmabuf.HyperDmabuf;
import org.peerdma.hyperdmabuf.HyperDmabufFile;
import org.peerdma.hyperdmabuf.HyperDmabufId;
import org.peerdma.hyperdmabuf.spi.Message;
import org.peerdma.p2pdma.DeviceNode;

/**
 * The hyper_dmabuf front end (reference §A6, HD-1..HD-10) between domains over a fake transport:
 * ids, EXPORT_REMOTE/EXPORT_FD/UNEXPORT/QUERY, remote sync, events, backend swaps, dead peers and
 * what a remote domain may send. Every test ends with nothing shared, mapped or held.
 */
class HyperDmabufImplTest {
    static final int EINVAL = Errno.EINVAL.negative();
    static final int ENOENT = Errno.ENOENT.negative();
    static final int ENOMEM = Errno.ENOMEM.negative();
    static final int EBUSY = Errno.EBUSY.negative();
    static final int EBADF = Errno.EBADF.negative();
    static final int ENOSPC = Errno.ENOSPC.negative();
    static final int ENOTCONN = Errno.ENOTCONN.negative();
    static final int A = 1;
    static final int B = 2;

    private FakeHub hub;
    private FakeHub alt;
    private TestDomain a;
    private TestDomain b;
    private final List<TestDomain> others = new ArrayList<>();

    @BeforeEach
    void boot() {
        hub = new FakeHub("fake");
        alt = new FakeHub("alt");
        a = new TestDomain(A, hub, alt);
        b = new TestDomain(B, hub, alt);
        a.link(b);
    }

    @AfterEach
    void stop() {
        for (TestDomain d : others) {
            d.stop();
        }
        b.stop();
        a.stop();
    }

    private TestDomain domain(int domid) {
        TestDomain d = new TestDomain(domid, hub, alt);
        others.add(d);
        return d;
    }

    private static HyperDmabufId forged(HyperDmabufId hid) {
        int[] k = hid.rngKey();
        k[2] ^= 0x40;
        return new HyperDmabufId(hid.id(), k);
    }

    private static Message msg(int cmd, HyperDmabufId hid) {
        Message m = new Message(cmd);
        HyperDmabufImpl.putHid(m, hid);
        return m;
    }

    private static Message export(HyperDmabufId hid, int nents, int lastLen, int topRef, byte[] priv, int privSize) {
        Message m = msg(Message.EXPORT, hid);
        m.op[4] = nents;
        m.op[5] = 0;
        m.op[6] = lastLen;
        m.op[7] = topRef;
        m.op[8] = privSize;
        for (int i = 0; i < priv.length && 9 + i / 4 < Message.MAX_NUMBER_OF_OPERANDS; i++) {
            m.op[9 + i / 4] |= (priv[i] & 0xff) << (8 * (i % 4));
        }
        return m;
    }

    private static Message toSource(HyperDmabufId hid, int op) {
        Message m = msg(Message.OPS_TO_SOURCE, hid);
        m.op[4] = op;
        return m;
    }

    /** Waits until the exporter listed nothing and the importer imported nothing. */
    private void awaitAllGone(TestDomain exporter, TestDomain importer) {
        await("exports cleaned up", () -> exporter.front.exportedIds().isEmpty());
        await("imports dropped", () -> importer.front.importedIds().isEmpty());
    }

    /** Every buffer of {@code d}: nothing attached, mapped or vmapped by hyper_dmabuf, only the fd's reference. */
    private static void assertUntouched(TestDomain d) {
        for (var e : d.buffers.entrySet()) {
            if (d.proc.file(e.getKey()) == null) {
                continue;
            }
            DmaBuf buf = d.proc.get(e.getKey());
            try {
                assertThat(buf.attachments()).as("attachments of fd %d", e.getKey()).isEmpty();
                assertThat(buf.refcount()).as("references of fd %d (the fd's and ours)", e.getKey()).isEqualTo(2);
                assertThat(buf.vmapCount()).isZero();
            } finally {
                d.core.put(buf);
            }
            assertThat(e.getValue().balanced()).as("exporter ops of fd %d balanced", e.getKey()).isTrue();
        }
    }

    private long q(TestDomain d, HyperDmabufId hid, int item) {
        return d.file.query(hid, item, null);
    }

    // ================================================================ lifecycle

    @Test
    void exportImportQueryAndUnexportWhileImported() {
        int fd = a.buffer(3, 3L * PAGE - 100, 0, "frame-1");
        HyperDmabufFile.Export e = a.file.exportRemote(fd, B, "display:0".getBytes(StandardCharsets.UTF_8));
        assertThat(e.ret()).isZero();
        HyperDmabufId hid = e.hid();
        assertThat(hid.id()).as("(domid << 24) | count 0").isEqualTo(A << 24);
        assertThat(hid.exporterDomid()).isEqualTo(A);
        assertThat(a.bknd().granted.get()).as("3 data pages and the top-level reference").isEqualTo(4);

        HyperDmabuf.Event ev = b.nextEvent();
        assertThat(ev.type()).isEqualTo(HyperDmabuf.HYPER_DMABUF_NEW_IMPORT);
        assertThat(ev.hid()).isEqualTo(hid);
        assertThat(new String(ev.priv(), StandardCharsets.UTF_8)).isEqualTo("display:0");
        assertThat(ev.bytes()).isEqualTo(24 + 9);

        // the importer's view before any EXPORT_FD: size from nents, first offset and last length
        assertThat(q(b, hid, QUERY_TYPE)).isEqualTo(IMPORTED);
        assertThat(q(b, hid, QUERY_EXPORTER)).isEqualTo(A);
        assertThat(q(b, hid, QUERY_IMPORTER)).isEqualTo(B);
        assertThat(q(b, hid, QUERY_SIZE)).isEqualTo(3L * PAGE - 100);
        assertThat(q(b, hid, QUERY_BUSY)).isZero();
        assertThat(q(b, hid, QUERY_UNEXPORTED)).isZero();
        assertThat(q(b, hid, QUERY_PRIV_INFO_SIZE)).isEqualTo(9);
        assertThat(q(b, hid, QUERY_DELAYED_UNEXPORTED)).as("no such item on the importer").isEqualTo(EINVAL);
        // the exporter's
        assertThat(q(a, hid, QUERY_TYPE)).isEqualTo(EXPORTED);
        assertThat(q(a, hid, QUERY_EXPORTER)).isEqualTo(A);
        assertThat(q(a, hid, QUERY_IMPORTER)).isEqualTo(B);
        assertThat(q(a, hid, QUERY_SIZE)).isEqualTo(3L * PAGE - 100);
        assertThat(q(a, hid, QUERY_BUSY)).isZero();
        assertThat(q(a, hid, QUERY_DELAYED_UNEXPORTED)).as("the driver's quirk: !unexport_sched").isEqualTo(1);
        byte[] priv = new byte[9];
        assertThat(a.file.query(hid, QUERY_PRIV_INFO, new byte[8])).as("too small for the data").isEqualTo(EINVAL);
        assertThat(a.file.query(hid, QUERY_PRIV_INFO, null)).isEqualTo(EINVAL);
        assertThat(a.file.query(hid, QUERY_PRIV_INFO, priv)).isZero();
        assertThat(new String(priv, StandardCharsets.UTF_8)).isEqualTo("display:0");
        assertThat(q(a, hid, 0x19)).isEqualTo(EINVAL);
        assertThat(q(a, hid, 0x0f)).isEqualTo(EINVAL);
        assertThat(q(b, hid, 0x19)).isEqualTo(EINVAL);

        // EXPORT_FD: a local dma-buf over the exporter's very pages
        int bfd = b.file.exportFd(hid, 0);
        assertThat(bfd).isNotNegative();
        assertThat(b.read(bfd, 7)).isEqualTo("frame-1");
        a.buffers.get(fd).map().write(0, "frame-2".getBytes(StandardCharsets.UTF_8));
        assertThat(b.read(bfd, 7)).as("no copy: a later write is seen").isEqualTo("frame-2");
        assertThat(b.bknd().mapped.get()).isEqualTo(3);
        assertThat(q(a, hid, QUERY_BUSY)).isEqualTo(1);
        assertThat(q(b, hid, QUERY_BUSY)).isEqualTo(1);

        // a wrong key is another buffer
        HyperDmabufId other = forged(hid);
        assertThat(b.file.exportFd(other, 0)).isEqualTo(ENOENT);
        assertThat(q(b, other, QUERY_TYPE)).isEqualTo(ENOENT);
        assertThat(q(a, other, QUERY_TYPE)).isEqualTo(ENOENT);
        assertThat(a.file.unexport(other, 0)).isEqualTo(ENOENT);
        assertThat(b.file.unexport(hid, 0)).as("the importer did not export it").isEqualTo(ENOENT);

        // UNEXPORT while imported: the importer is told, no new EXPORT_FD, the pages stay shared (and the
        // local buffer usable, as in the driver) until it lets go
        assertThat(a.file.unexport(hid, 0)).isZero();
        await("the importer told", () -> q(b, hid, QUERY_UNEXPORTED) == 1);
        assertThat(q(a, hid, QUERY_UNEXPORTED)).isEqualTo(1);
        assertThat(a.front.exportedIds()).containsExactly(hid);
        assertThat(b.read(bfd, 7)).as("still the exporter's pages").isEqualTo("frame-2");
        assertThat(b.file.exportFd(hid, 0)).as("the exporter refuses an unexported buffer").isEqualTo(EINVAL);
        assertThat(q(a, hid, QUERY_BUSY)).as("the refused EXPORT_FD left active as it was").isEqualTo(1);
        assertThat(q(b, hid, QUERY_BUSY)).isEqualTo(1);
        assertThat(a.file.unexport(hid, 0)).as("already unexported").isZero();

        assertThat(b.proc.close(bfd)).isZero(); // RELEASE: the exporter cleans up now
        awaitAllGone(a, b);
        awaitValue("grants of d1", a.bknd().granted::get, 0);
        assertThat(b.bknd().mapped.get()).isZero();
        assertUntouched(a);
        assertThat(a.file.unexport(hid, 0)).isEqualTo(ENOENT);
        assertThat(q(a, hid, QUERY_TYPE)).isEqualTo(ENOENT);
        assertThat(q(b, hid, QUERY_TYPE)).isEqualTo(ENOENT);
        assertThat(a.front.holders()).isEmpty();
        assertThat(b.front.holders()).isEmpty();
    }

    @Test
    void anUnexportedImportStillHeldCanBeAttachedMappedAndReadAsInTheDriverButNotExportedAgain() {
        int fd = a.buffer(1, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        int bfd = b.file.exportFd(hid, 0);
        DmaBuf local = b.proc.get(bfd);
        DmaBufAttachment held = b.core.attach(local, DeviceNode.platform("display", null), null, null);
        SgTable sgt = b.core.mapAttachmentUnlocked(held, DmaDirection.TO_DEVICE);
        assertThat(sgt.entries()).hasSize(1);
        assertThat(a.file.unexport(hid, 0)).isZero();
        await("the importer told", () -> q(b, hid, QUERY_UNEXPORTED) == 1);
        assertThat(a.front.exportedIds()).as("shared until the last RELEASE").containsExactly(hid);
        // hyper_dmabuf_ops_attach/_map/_vmap never look at imported->valid: the pages are still shared
        DmaBufAttachment late = b.core.attach(local, DeviceNode.platform("late", null), null, null);
        SgTable lateSgt = b.core.mapAttachmentUnlocked(late, DmaDirection.TO_DEVICE);
        assertThat(lateSgt.entries()).hasSize(1);
        assertThat(b.read(bfd, 1)).as("a vmap of the exporter's very pages").isEqualTo("x");
        // but no new EXPORT_FD: the exporter answers REQ_ERROR for an unexported buffer
        assertThat(b.file.exportFd(hid, 0)).isEqualTo(EINVAL);
        b.core.unmapAttachmentUnlocked(late, lateSgt, DmaDirection.TO_DEVICE);
        b.core.detach(late);
        b.core.unmapAttachmentUnlocked(held, sgt, DmaDirection.TO_DEVICE);
        b.core.detach(held);
        b.core.put(local);
        b.proc.close(bfd);
        awaitAllGone(a, b);
        assertUntouched(a);
    }

    // ================================================================ ids (HD-1)

    @Test
    void idsAreCountedFromZeroAndFreedIdsComeBackLastFreedFirstWithNewKeys() {
        List<HyperDmabufId> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HyperDmabufFile.Export e = a.file.exportRemote(a.buffer(1, "b" + i), B, null);
            assertThat(e.ret()).isZero();
            ids.add(e.hid());
        }
        assertThat(ids).extracting(HyperDmabufId::id).containsExactly(A << 24, (A << 24) | 1, (A << 24) | 2);
        assertThat(ids.get(0).rngKey()).isNotEqualTo(ids.get(1).rngKey());
        assertThat(a.file.unexport(ids.get(1), 0)).isZero();
        await("id 1 freed", () -> !a.front.exportedIds().contains(ids.get(1)));
        assertThat(a.file.unexport(ids.get(0), 0)).isZero();
        await("id 0 freed", () -> !a.front.exportedIds().contains(ids.get(0)));

        HyperDmabufId first = a.file.exportRemote(a.buffer(1, "n0"), B, null).hid();
        HyperDmabufId second = a.file.exportRemote(a.buffer(1, "n1"), B, null).hid();
        HyperDmabufId fresh = a.file.exportRemote(a.buffer(1, "n2"), B, null).hid();
        assertThat(first.id()).as("the last freed comes back first").isEqualTo(ids.get(0).id());
        assertThat(first).as("a reused id has a new key: not the old buffer").isNotEqualTo(ids.get(0));
        assertThat(second.id()).isEqualTo(ids.get(1).id());
        assertThat(fresh.id()).as("then the count goes on").isEqualTo((A << 24) | 3);
        assertThat(q(a, ids.get(0), QUERY_TYPE)).as("the old key finds nothing").isEqualTo(ENOENT);
    }

    @Test
    void concurrentExportersExhaustTheIdSpaceWithUniqueIdsAndGetItAllBack() throws Exception {
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<FdTable> procs = new ArrayList<>();
            List<HyperDmabufFile> files = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                FdTable p = a.core.fdTable("exporter-" + t);
                procs.add(p);
                files.add(a.front.open(p));
            }
            List<TestDomain.Pages> pages = new ArrayList<>();
            Set<HyperDmabufId> first = exportUntilExhausted(pool, procs, files, pages);
            assertThat(first).extracting(HyperDmabufId::id).as("every count 0..999 exactly once")
                    .containsExactlyInAnyOrderElementsOf(range(HyperDmabuf.HYPER_DMABUF_ID_MAX));
            assertThat(a.bknd().granted.get()).as("one page and one top ref per export").isEqualTo(2000);
            await("every EXPORT imported", () -> b.front.importedIds().size() == HyperDmabuf.HYPER_DMABUF_ID_MAX);

            // free everything: half the processes unexport, half close the device (a forced unexport)
            freeAll(pool, files, first);
            awaitAllGone(a, b);
            awaitValue("grants of d1", a.bknd().granted::get, 0);
            assertThat(a.bknd().shares).isEmpty();
            assertThat(b.bknd().mapped.get()).isZero();
            for (TestDomain.Pages p : pages) {
                assertThat(p.balanced()).isTrue();
            }

            // the whole id space is back: the same 1000 ids, then ENOMEM again
            files.clear();
            for (FdTable p : procs) {
                files.add(a.front.open(p));
            }
            Set<HyperDmabufId> second = exportUntilExhausted(pool, procs, files, pages);
            assertThat(second).extracting(HyperDmabufId::id)
                    .containsExactlyInAnyOrderElementsOf(first.stream().map(HyperDmabufId::id).toList());
            assertThat(second).as("with new keys").doesNotContainAnyElementsOf(first);
            await("every EXPORT imported", () -> b.front.importedIds().size() == HyperDmabuf.HYPER_DMABUF_ID_MAX);
            freeAll(pool, files, second);
            awaitAllGone(a, b);
            awaitValue("grants of d1", a.bknd().granted::get, 0);
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Integer> range(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add((A << 24) | i);
        }
        return l;
    }

    /** Every process exports new one-page buffers at the same time until the ids run out. */
    private Set<HyperDmabufId> exportUntilExhausted(ExecutorService pool, List<FdTable> procs,
            List<HyperDmabufFile> files, List<TestDomain.Pages> pages) throws Exception {
        CyclicBarrier start = new CyclicBarrier(procs.size());
        List<Future<List<HyperDmabufId>>> results = new ArrayList<>();
        for (int t = 0; t < procs.size(); t++) {
            FdTable proc = procs.get(t);
            HyperDmabufFile file = files.get(t);
            results.add(pool.submit(() -> {
                List<HyperDmabufId> mine = new ArrayList<>();
                start.await();
                while (true) {
                    TestDomain.Pages p = new TestDomain.Pages(a.mem, 1, 0);
                    synchronized (pages) {
                        pages.add(p);
                    }
                    DmaBuf buf = a.core.export(new org.peerdma.dmabuf.core.ExportInfo("t", p, PAGE, p, null));
                    int fd = proc.fd(buf, 0);
                    HyperDmabufFile.Export e = file.exportRemote(fd, B, null);
                    if (e.ret() != 0) {
                        assertThat(e.ret()).as("exhaustion is -ENOMEM").isEqualTo(ENOMEM);
                        assertThat(e.hid()).isEqualTo(HyperDmabufId.INVALID);
                        assertThat(buf.attachments()).as("a refused export leaves the buffer alone").isEmpty();
                        assertThat(buf.refcount()).isEqualTo(1);
                        proc.close(fd);
                        return mine;
                    }
                    mine.add(e.hid());
                }
            }));
        }
        Set<HyperDmabufId> all = new HashSet<>();
        int n = 0;
        for (Future<List<HyperDmabufId>> f : results) {
            List<HyperDmabufId> l = f.get(60, TimeUnit.SECONDS);
            n += l.size();
            all.addAll(l);
        }
        assertThat(all).as("no id handed out twice").hasSize(n);
        assertThat(n).isEqualTo(HyperDmabuf.HYPER_DMABUF_ID_MAX);
        return all;
    }

    private void freeAll(ExecutorService pool, List<HyperDmabufFile> files, Set<HyperDmabufId> ids) throws Exception {
        List<HyperDmabufId> list = new ArrayList<>(ids);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < files.size(); t++) {
            HyperDmabufFile f = files.get(t);
            int slice = t;
            done.add(pool.submit(() -> {
                if (slice % 2 == 0) {
                    f.close();
                } else {
                    for (HyperDmabufId h : list) {
                        int r = f.unexport(h, 0);
                        assertThat(r).isIn(0, ENOENT); // any process may unexport any id; gone ones are ENOENT
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        // what the closing processes exported and nobody unexported is gone by now too
        for (HyperDmabufId h : list) {
            assertThat(a.file.unexport(h, 0)).isIn(0, ENOENT);
        }
    }

    // ================================================================ EXPORT_REMOTE (HD-3)

    @Test
    void reExportingTheSameBufferKeepsItsIdSendsOnlyThePrivateDataAndCancelsAPendingUnexport() {
        int fd = a.buffer(2, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, "v1".getBytes(StandardCharsets.UTF_8)).hid();
        b.nextEvent();
        int grants = a.bknd().granted.get();
        HyperDmabufFile.Export again = a.file.exportRemote(fd, B, "v2".getBytes(StandardCharsets.UTF_8));
        assertThat(again.ret()).isZero();
        assertThat(again.hid()).isEqualTo(hid);
        HyperDmabuf.Event ev = b.nextEvent();
        assertThat(ev.hid()).isEqualTo(hid);
        assertThat(new String(ev.priv(), StandardCharsets.UTF_8)).isEqualTo("v2");
        assertThat(b.front.importedIds()).containsExactly(hid);
        assertThat(a.bknd().granted.get()).as("nothing shared again").isEqualTo(grants);
        await("the update is an EXPORT with nents 0", () -> b.bknd().received.stream()
                .filter(m -> m.cmd == Message.EXPORT).map(m -> m.op[4]).toList().equals(List.of(2, 0)));

        // a pending delayed unexport is cancelled by the re-export
        assertThat(a.file.unexport(hid, 60_000)).isZero();
        assertThat(q(a, hid, QUERY_DELAYED_UNEXPORTED)).as("quirk: 0 while scheduled").isZero();
        assertThat(a.file.exportRemote(fd, B, null).hid()).isEqualTo(hid);
        assertThat(q(a, hid, QUERY_DELAYED_UNEXPORTED)).isEqualTo(1);
        assertThat(q(a, hid, QUERY_UNEXPORTED)).isZero();

        // private data is truncated to 192 bytes
        byte[] big = new byte[300];
        java.util.Arrays.fill(big, (byte) 'p');
        assertThat(a.file.exportRemote(fd, B, big).ret()).isZero();
        assertThat(q(a, hid, QUERY_PRIV_INFO_SIZE)).isEqualTo(HyperDmabuf.MAX_SIZE_PRIV_DATA);
        b.drainEvents();
        await("the importer has the new data", () -> q(b, hid, QUERY_PRIV_INFO_SIZE) == 192);

        // to another domain it is another export with its own id
        TestDomain c = domain(3);
        a.link(c);
        HyperDmabufFile.Export toC = a.file.exportRemote(fd, 3, null);
        assertThat(toC.ret()).isZero();
        assertThat(toC.hid().id()).isEqualTo((A << 24) | 1);

        // the update cannot be sent: EBUSY with the same id
        b.bknd().rx.remove(A);
        HyperDmabufFile.Export busy = a.file.exportRemote(fd, B, null);
        assertThat(busy.ret()).isEqualTo(EBUSY);
        assertThat(busy.hid()).isEqualTo(hid);
    }

    @Test
    void exportErrorsLeaveNothingSharedAndGiveTheIdBack() {
        int fd = a.buffer(4, "x");
        assertThat(a.file.exportRemote(fd, A, null)).as("to itself")
                .isEqualTo(new HyperDmabufFile.Export(EINVAL, HyperDmabufId.INVALID));
        assertThat(a.file.exportRemote(999, B, null).ret()).as("a bad fd: dma_buf_get's error").isEqualTo(EBADF);
        int memfd = a.proc.openOther("memfd");
        assertThat(a.file.exportRemote(memfd, B, null).ret()).as("not a dma-buf").isEqualTo(EINVAL);
        TestDomain c = domain(3);
        assertThat(a.file.exportRemote(fd, 3, null).ret()).as("no tx channel to d3").isEqualTo(EINVAL);
        assertThat(a.file.txChSetup(3)).isZero();
        assertThat(a.file.exportRemote(fd, 3, null).ret()).as("d3 never bound its rx channel").isEqualTo(ENOTCONN);
        a.bknd().grantLimit = 3;
        assertThat(a.file.exportRemote(fd, B, null).ret()).as("4 pages and a top ref do not fit").isEqualTo(ENOSPC);
        a.bknd().grantLimit = 1 << 20;
        int odd = a.buffer(2, 2L * PAGE, 16, "y");
        assertThat(a.file.exportRemote(odd, B, null).ret()).as("pages cannot be extracted").isEqualTo(EINVAL);
        assertThat(a.front.exportedIds()).isEmpty();
        assertThat(a.bknd().granted.get()).isZero();
        assertThat(a.bknd().shares).isEmpty();
        assertUntouched(a);
        assertThat(c.front.importedIds()).isEmpty();
        HyperDmabufId first = a.file.exportRemote(fd, B, null).hid();
        HyperDmabufId next = a.file.exportRemote(a.buffer(1, "z"), B, null).hid();
        assertThat(first.id()).as("every failure gave its id back").isEqualTo(A << 24);
        assertThat(next.id()).isEqualTo((A << 24) | 1);
        assertThat(a.file.txChSetup(A)).isEqualTo(EINVAL);
        assertThat(a.file.rxChSetup(A)).isEqualTo(EINVAL);
        assertThat(c.file.rxChSetup(B)).as("the backend's error, passed through (d2 has no tx to d3)")
                .isEqualTo(ENOENT);
    }

    // ================================================================ EXPORT_FD (HD-4)

    @Test
    void exportFdErrorsUndoWhatTheyCounted() throws Exception {
        assertThat(b.file.exportFd(new HyperDmabufId(A << 24, new int[] {1, 2, 3}), 0)).isEqualTo(ENOENT);
        int fd = a.buffer(2, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        // the pages do not map: EINVAL, and the exporter hears EXPORT_FD_FAILED
        b.bknd().failMap = ENOMEM;
        assertThat(b.file.exportFd(hid, 0)).isEqualTo(EINVAL);
        await("the exporter's active back at 0", () -> q(a, hid, QUERY_BUSY) == 0);
        assertThat(q(b, hid, QUERY_BUSY)).isZero();
        assertThat(b.bknd().mapped.get()).isZero();
        await("EXPORT_FD then EXPORT_FD_FAILED at the exporter", () -> a.bknd().received.stream().map(m -> m.cmd)
                .toList().containsAll(List.of(Message.EXPORT_FD, Message.EXPORT_FD_FAILED)));
        b.bknd().failMap = 0;
        // the exporter cannot be reached: the send error, importers back to 0
        a.bknd().rx.remove(B);
        assertThat(b.file.exportFd(hid, 0)).isEqualTo(ENOTCONN);
        assertThat(q(b, hid, QUERY_BUSY)).isZero();
        assertThat(a.file.rxChSetup(B)).isZero();
        // an import the exporter does not know (it answers REQ_ERROR): EINVAL
        HyperDmabufId unknown = new HyperDmabufId((A << 24) | 77, new int[] {7, 7, 7});
        b.bknd().deliver(A, export(unknown, 1, PAGE, 999, new byte[0], 0));
        assertThat(b.nextEvent().hid()).isEqualTo(unknown);
        assertThat(b.file.exportFd(unknown, 0)).isEqualTo(EINVAL);
        assertThat(q(b, unknown, QUERY_BUSY)).isZero();
        // and it works once nothing is in the way; two local dma-bufs share one mapping
        int one = b.file.exportFd(hid, 0);
        int two = b.file.exportFd(hid, 0);
        assertThat(one).isNotNegative();
        assertThat(two).isNotNegative().isNotEqualTo(one);
        assertThat(b.bknd().mapped.get()).as("mapped on first use only").isEqualTo(2);
        assertThat(q(a, hid, QUERY_BUSY)).isEqualTo(1);
        b.proc.close(one);
        assertThat(b.bknd().mapped.get()).isEqualTo(2);
        b.proc.close(two);
        awaitValue("pages unmapped with the last user", b.bknd().mapped::get, 0);
        await("both released", () -> q(a, hid, QUERY_BUSY) == 0);
    }

    // ================================================================ UNEXPORT (HD-5)

    @Test
    void unexportIsDelayedANegativeDelayComesAfterTheWheelsTwelveDaysAndClosingTheDeviceForcesIt() {
        ManualTimers clock = ManualTimers.on(a.front);
        assertThat(a.file.unexport(new HyperDmabufId(A << 24, new int[3]), 0)).isEqualTo(ENOENT);
        HyperDmabufId late = a.file.exportRemote(a.buffer(1, "l"), B, null).hid();
        assertThat(a.file.unexport(late, 400)).isZero();
        assertThat(a.file.unexport(late, 0)).as("already scheduled: the first delay stands").isZero();
        assertThat(clock.queuedDelays()).containsExactly(400L);
        clock.advance(399);
        assertThat(q(a, late, QUERY_UNEXPORTED)).as("not yet").isZero();
        assertThat(q(a, late, QUERY_DELAYED_UNEXPORTED)).isZero();
        clock.advance(1);
        await("unexported after its delay", () -> !a.front.exportedIds().contains(late));
        assertThat(clock.queuedDelays()).isEmpty();

        // msecs_to_jiffies(negative) is MAX_JIFFY_OFFSET, which the timer wheel caps at WHEEL_TIMEOUT_MAX
        int fd = a.buffer(1, "n");
        HyperDmabufId capped = a.file.exportRemote(fd, B, null).hid();
        assertThat(a.file.unexport(capped, -1)).isZero();
        assertThat(clock.queuedDelays()).as("about 12 days at HZ=1000").containsExactly(1_040_187_392L);
        clock.advance(1_040_187_391L);
        assertThat(q(a, capped, QUERY_UNEXPORTED)).as("a millisecond before the wheel's limit").isZero();
        assertThat(q(a, capped, QUERY_DELAYED_UNEXPORTED)).isZero();
        assertThat(a.file.unexport(capped, 0)).as("still scheduled").isZero();
        assertThat(a.file.exportRemote(fd, B, null).hid()).as("a re-export cancels it").isEqualTo(capped);
        assertThat(q(a, capped, QUERY_DELAYED_UNEXPORTED)).isEqualTo(1);
        assertThat(clock.queuedDelays()).as("cancelled").isEmpty();
        clock.advance(1);
        assertThat(q(a, capped, QUERY_UNEXPORTED)).as("the cancelled work never runs").isZero();
        assertThat(a.file.unexport(capped, -1)).isZero();
        clock.advance(1_040_187_392L);
        await("then unexported, when the wheel's limit comes", () -> !a.front.exportedIds().contains(capped));

        // a delay of WHEEL_TIMEOUT_CUTOFF ms or more is capped the same way; one just below it is not
        HyperDmabufId big = a.file.exportRemote(a.buffer(1, "b"), B, null).hid();
        HyperDmabufId below = a.file.exportRemote(a.buffer(1, "c"), B, null).hid();
        assertThat(a.file.unexport(big, Integer.MAX_VALUE)).isZero();
        assertThat(a.file.unexport(below, 1_056_964_607)).isZero();
        assertThat(clock.queuedDelays()).containsExactly(1_040_187_392L, 1_056_964_607L);
        clock.advance(1_056_964_607L);
        await("both unexported", () -> !a.front.exportedIds().contains(big) && !a.front.exportedIds().contains(below));

        // closing /dev/hyper_dmabuf unexports what was exported through it, and only that
        FdTable other = a.core.fdTable("other");
        HyperDmabufFile f = a.front.open(other);
        int ofd = other.fd(a.core.export(new org.peerdma.dmabuf.core.ExportInfo("t", new TestDomain.Pages(a.mem, 1, 0),
                PAGE, "p", null)), 0);
        HyperDmabufId viaOther = f.exportRemote(ofd, B, null).hid();
        HyperDmabufId viaMine = a.file.exportRemote(a.buffer(1, "m"), B, null).hid();
        f.close();
        clock.advance(0);
        await("the closed file's export is gone", () -> !a.front.exportedIds().contains(viaOther));
        assertThat(a.front.exportedIds()).containsExactly(viaMine);
        assertThat(other.close(ofd)).isZero();
    }

    @Test
    void aCleanupCancelsAPendingUnexportSoNothingStaysQueuedHoldingTheExport() throws Exception {
        java.util.concurrent.ScheduledThreadPoolExecutor wq = (java.util.concurrent.ScheduledThreadPoolExecutor) a.front.work;
        HyperDmabufId hid = a.file.exportRemote(a.buffer(1, "x"), B, null).hid();
        b.nextEvent();
        assertThat(a.file.unexport(hid, -1)).isZero(); // on the real workqueue: due in about 12 days
        assertThat(wq.getQueue()).as("the delayed UNEXPORT").hasSize(1);
        hub.kill(B); // the importer dies: the export is cleaned up at once
        await("cleaned up", () -> a.front.exportedIds().isEmpty());
        assertThat(wq.getQueue()).as("the cancelled work left the queue, and the export with it").isEmpty();
        assertUntouched(a);
    }

    // ================================================================ remote sync (HD-8)

    @Test
    void theImportersOperationsAreReplayedOnTheOriginalAsShadowStacks() {
        int fd = a.buffer(2, "x");
        TestDomain.Pages p = a.buffers.get(fd);
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        int bfd = b.file.exportFd(hid, 0);
        DmaBuf local = b.proc.get(bfd);
        DmaBuf original = a.proc.get(fd);
        assertThat(original.attachments()).as("the export's own attachment").hasSize(1);
        int maps = p.maps.get();
        DmaBufAttachment d1 = b.core.attach(local, DeviceNode.platform("d1", null), null, null);
        SgTable t1 = b.core.mapAttachmentUnlocked(d1, DmaDirection.TO_DEVICE);
        DmaBufAttachment d2 = b.core.attach(local, DeviceNode.platform("d2", null), null, null);
        SgTable t2 = b.core.mapAttachmentUnlocked(d2, DmaDirection.FROM_DEVICE);
        assertThat(original.attachments()).as("two shadow attachments").hasSize(3);
        assertThat(p.maps.get() - maps).as("two shadow mappings").isEqualTo(2);
        assertThat(b.core.beginCpuAccess(local, DmaDirection.FROM_DEVICE)).isZero();
        assertThat(b.core.endCpuAccess(local, DmaDirection.FROM_DEVICE)).isZero();
        assertThat(p.cpuBegin.get()).isEqualTo(1);
        assertThat(p.cpuEnd.get()).isEqualTo(1);
        BufMap v = b.core.vmapUnlocked(local);
        assertThat(original.vmapCount()).as("shadow vmap").isEqualTo(1);
        b.core.vunmapUnlocked(local, v);
        assertThat(original.vmapCount()).isZero();
        // out of order: the first device lets go first; the latest shadow objects are the ones undone
        b.core.unmapAttachmentUnlocked(d1, t1, DmaDirection.TO_DEVICE);
        b.core.detach(d1);
        assertThat(original.attachments()).hasSize(2);
        b.core.unmapAttachmentUnlocked(d2, t2, DmaDirection.FROM_DEVICE);
        b.core.detach(d2);
        assertThat(original.attachments()).hasSize(1);
        assertThat(p.maps.get() - p.unmaps.get()).as("only the export's own mapping").isEqualTo(1);
        assertThat(a.core.warnings()).isEmpty();
        b.core.put(local);
        a.core.put(original);
        b.proc.close(bfd);
        await("released", () -> q(a, hid, QUERY_BUSY) == 0);
    }

    @Test
    void anImporterThatDiesWithShadowMappingsOnTwoAttachmentsLeavesNothingBehind() throws Exception {
        int fd = a.buffer(2, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        int bfd = b.file.exportFd(hid, 0);
        DmaBuf local = b.proc.get(bfd);
        b.core.mapAttachmentUnlocked(b.core.attach(local, DeviceNode.platform("d1", null), null, null),
                DmaDirection.TO_DEVICE);
        b.core.mapAttachmentUnlocked(b.core.attach(local, DeviceNode.platform("d2", null), null, null),
                DmaDirection.TO_DEVICE);
        hub.kill(B); // its mappings went with it; the exporter drops the shadow state and cleans up
        await("cleaned up", () -> a.front.exportedIds().isEmpty());
        assertThat(a.bknd().granted.get()).isZero();
        assertUntouched(a);
        assertThat(a.file.exportRemote(a.buffer(1, "y"), B, null).ret()).as("d2 is gone").isEqualTo(EINVAL);
    }

    // ================================================================ what a remote domain may send (HD-6, HD-7)

    @Test
    void malformedRequestsToTheExporterAreRefusedAndChangeNothing() throws Exception {
        int fd = a.buffer(1, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        FakeHub.Backend bk = a.bknd();
        for (int cmd : new int[] {0, 0x0f, Message.OPS_TO_SOURCE + 1, 0x1234, -1}) {
            assertThat(bk.deliver(B, msg(cmd, hid))).as("cmd %#x", cmd).isEqualTo(Message.REQ_ERROR);
        }
        assertThat(bk.deliver(B, msg(Message.OPS_TO_REMOTE, hid))).as("queued and ignored, as the driver")
                .isEqualTo(Message.REQ_PROCESSED);
        assertThat(bk.deliver(B, msg(Message.EXPORT_FD_FAILED, hid))).as("no EXPORT_FD to undo")
                .isEqualTo(Message.REQ_ERROR);
        assertThat(bk.deliver(B, toSource(hid, Message.OPS_RELEASE))).as("nothing to release")
                .isEqualTo(Message.REQ_ERROR);
        assertThat(q(a, hid, QUERY_BUSY)).isZero();
        for (int op : new int[] {Message.OPS_DETACH, Message.OPS_MAP, Message.OPS_UNMAP, Message.OPS_VUNMAP,
            Message.OPS_KUNMAP}) {
            assertThat(bk.deliver(B, toSource(hid, op))).as("op %#x on empty shadow stacks (-EFAULT)", op)
                    .isEqualTo(Message.REQ_ERROR);
        }
        assertThat(bk.deliver(B, toSource(hid, Message.OPS_MMAP))).as("mmap: a warning, as the driver")
                .isEqualTo(Message.REQ_PROCESSED);
        assertThat(bk.deliver(B, toSource(hid, 0x2000))).as("an unknown op: the driver's default")
                .isEqualTo(Message.REQ_PROCESSED);
        HyperDmabufId wrong = forged(hid);
        for (Message m : List.of(msg(Message.EXPORT_FD, wrong), msg(Message.EXPORT_FD_FAILED, wrong),
                msg(Message.NOTIFY_UNEXPORT, wrong), toSource(wrong, Message.OPS_ATTACH))) {
            assertThat(bk.deliver(B, m)).as("%s for a key nobody was given", m).isEqualTo(Message.REQ_ERROR);
        }
        DmaBuf buf = a.proc.get(fd);
        assertThat(buf.attachments()).hasSize(1);
        a.core.put(buf);
        // nothing went below zero: the unexport cleans up at once
        assertThat(a.file.unexport(hid, 0)).isZero();
        awaitAllGone(a, b);
        assertThat(a.bknd().granted.get()).isZero();
        assertUntouched(a);
    }

    @Test
    void anExportFdFailedAfterTheUnexportCleansTheBufferUp() throws Exception {
        int fd = a.buffer(1, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        assertThat(a.bknd().deliver(B, msg(Message.EXPORT_FD, hid))).isEqualTo(Message.REQ_PROCESSED);
        assertThat(q(a, hid, QUERY_BUSY)).isEqualTo(1);
        assertThat(a.file.unexport(hid, 0)).isZero();
        await("unexported and the notice sent", () -> q(a, hid, QUERY_UNEXPORTED) == 1
                && q(a, hid, QUERY_DELAYED_UNEXPORTED) == 1);
        assertThat(a.front.exportedIds()).as("kept for the importer under way").containsExactly(hid);
        // the importer's mapping failed: nobody will RELEASE it, so this was the last user
        assertThat(a.bknd().deliver(B, msg(Message.EXPORT_FD_FAILED, hid))).isEqualTo(Message.REQ_PROCESSED);
        await("cleaned up", () -> a.front.exportedIds().isEmpty());
        awaitValue("grants of d1", a.bknd().granted::get, 0);
        assertUntouched(a);
    }

    @Test
    void malformedExportsToTheImporter() throws Exception {
        FakeHub.Backend bk = b.bknd();
        HyperDmabufId one = new HyperDmabufId((A << 24) | 5, new int[] {1, 1, 1});
        // nents 0 is a private-data update: for an unknown buffer nothing happens
        bk.deliver(A, export(one, 0, 0, 0, "p".getBytes(StandardCharsets.UTF_8), 1));
        // a negative private-data size: kcalloc fails and the import is dropped
        HyperDmabufId two = new HyperDmabufId((A << 24) | 6, new int[] {2, 2, 2});
        bk.deliver(A, export(two, 1, PAGE, 9, new byte[0], -4));
        // a private-data size past the message: truncated to 192 bytes
        HyperDmabufId three = new HyperDmabufId((A << 24) | 7, new int[] {3, 3, 3});
        byte[] priv = new byte[Message.MAX_NUMBER_OF_OPERANDS * 4];
        java.util.Arrays.fill(priv, (byte) 'q');
        bk.deliver(A, export(three, 1, PAGE, 9, priv, 100_000));
        HyperDmabuf.Event ev = b.nextEvent(); // the EXPORT work runs in order: the others are done by now
        assertThat(ev.hid()).isEqualTo(three);
        assertThat(ev.priv()).hasSize(HyperDmabuf.MAX_SIZE_PRIV_DATA);
        assertThat(b.front.importedIds()).containsExactly(three);
        assertThat(b.front.poll()).isFalse();
        // an update with a negative size invalidates the import
        bk.deliver(A, export(three, 0, 0, 0, new byte[0], -1));
        await("invalid", () -> q(b, three, QUERY_UNEXPORTED) == 1);
        assertThat(bk.deliver(A, msg(Message.NOTIFY_UNEXPORT, three))).isEqualTo(Message.REQ_PROCESSED);
        assertThat(b.front.importedIds()).isEmpty();
        assertThat(bk.deliver(A, msg(Message.NOTIFY_UNEXPORT, three))).as("unknown now").isEqualTo(Message.REQ_ERROR);
        // requests only an exporter answers
        assertThat(bk.deliver(A, msg(Message.EXPORT_FD, three))).isEqualTo(Message.REQ_ERROR);
        assertThat(bk.deliver(A, toSource(three, Message.OPS_ATTACH))).isEqualTo(Message.REQ_ERROR);
    }

    @Test
    void anIdReusedWithANewKeyIsAnotherImportWhileTheOldOneIsStillHeld() throws Exception {
        int fd = a.buffer(1, "old");
        HyperDmabufId old = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        int bfd = b.file.exportFd(old, 0);
        assertThat(bfd).isNotNegative();
        // the exporter unexports it (the importer still holds it) and hands the id out again with a new key
        assertThat(b.bknd().deliver(A, msg(Message.NOTIFY_UNEXPORT, old))).isEqualTo(Message.REQ_PROCESSED);
        HyperDmabufId reused = forged(old);
        b.bknd().deliver(A, export(reused, 1, PAGE, 1234, new byte[0], 0));
        assertThat(b.nextEvent().hid()).isEqualTo(reused);
        assertThat(b.front.importedIds()).containsExactlyInAnyOrder(old, reused);
        assertThat(q(b, old, QUERY_UNEXPORTED)).isEqualTo(1);
        assertThat(q(b, old, QUERY_BUSY)).isEqualTo(1);
        assertThat(q(b, reused, QUERY_UNEXPORTED)).isZero();
        assertThat(q(b, reused, QUERY_BUSY)).isZero();
        b.proc.close(bfd); // the old import's last user: only the old one goes
        await("the old import dropped", () -> !b.front.importedIds().contains(old));
        assertThat(b.front.importedIds()).containsExactly(reused);
        assertThat(q(b, reused, QUERY_TYPE)).isEqualTo(IMPORTED);
        assertThat(b.bknd().deliver(A, msg(Message.NOTIFY_UNEXPORT, reused))).isEqualTo(Message.REQ_PROCESSED);
        assertThat(a.file.unexport(old, 0)).isZero();
        awaitAllGone(a, b);
    }

    // ================================================================ events (HD-10)

    @Test
    void eventsQueueThirtyTwoDropTheOldestAndAreReadWhole() throws Exception {
        assertThatThrownBy(() -> b.front.readEvents(4096, 0, false)).isInstanceOf(KernelException.class)
                .hasMessageStartingWith("EPERM");
        assertThat(b.front.poll()).isFalse();
        assertThat(b.front.readEvents(4096, 1, true)).as("a wait that ends with nothing").isEmpty();
        // a reader blocks until an event comes (seen by its thread's state, not by the clock)
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            Thread[] t = new Thread[1];
            CountDownLatch started = new CountDownLatch(1);
            Future<List<HyperDmabuf.Event>> waiting = reader.submit(() -> {
                t[0] = Thread.currentThread();
                started.countDown();
                return b.front.readEvents(4096, 60_000, true);
            });
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            await("the reader waits", () -> t[0].getState() == Thread.State.TIMED_WAITING);
            assertThat(waiting).isNotDone();
            HyperDmabufId first = a.file.exportRemote(a.buffer(1, "w"), B, null).hid();
            assertThat(waiting.get(10, TimeUnit.SECONDS)).extracting(HyperDmabuf.Event::hid).containsExactly(first);
            assertThat(a.file.unexport(first, 0)).isZero();
            awaitAllGone(a, b);
        } finally {
            reader.shutdownNow();
        }
        List<HyperDmabufId> ids = new ArrayList<>();
        for (int i = 0; i < 33; i++) {
            ids.add(a.file.exportRemote(a.buffer(1, "e"), B, ("p" + i).getBytes(StandardCharsets.UTF_8)).hid());
        }
        await("all imported", () -> b.front.importedIds().size() == 33);
        assertThat(b.front.poll()).isTrue();
        assertThat(b.front.readEvents(20, 0, true)).as("smaller than one event: nothing, and it stays").isEmpty();
        int two = 2 * (24 + 2);
        List<HyperDmabuf.Event> first = b.front.readEvents(two + 10, 0, true);
        assertThat(first).extracting(HyperDmabuf.Event::hid).as("the oldest was dropped")
                .containsExactly(ids.get(1), ids.get(2));
        List<HyperDmabuf.Event> rest = b.front.readEvents(1 << 16, 0, true);
        assertThat(rest).hasSize(30);
        assertThat(rest.get(29).hid()).isEqualTo(ids.get(32));
        assertThat(new String(rest.get(29).priv(), StandardCharsets.UTF_8)).isEqualTo("p32");
        assertThat(b.front.poll()).isFalse();
        assertThat(b.front.holders()).containsExactly("33 imported buffer(s)");
        assertThat(a.front.holders()).containsExactly("33 exported buffer(s)");
    }

    // ================================================================ backends

    @Test
    void switchingBackendsIsRefusedWhileAnythingIsSharedAndMovesNothing() {
        assertThat(a.front.backend()).isEqualTo("fake");
        assertThat(a.front.backendNames()).containsExactly("alt", "fake");
        assertThat(a.front.useBackend("nope")).isEqualTo(ENOENT);
        assertThat(a.front.useBackend("fake")).as("the one in use").isZero();
        int fd = a.buffer(1, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        assertThat(a.front.useBackend("alt")).as("exported").isEqualTo(EBUSY);
        assertThat(b.front.useBackend("alt")).as("imported").isEqualTo(EBUSY);
        assertThat(a.front.backend()).isEqualTo("fake");
        assertThat(a.file.unexport(hid, 0)).isZero();
        awaitAllGone(a, b);
        assertThat(a.front.useBackend("alt")).isZero();
        assertThat(b.front.useBackend("alt")).isZero();
        assertThat(a.front.backend()).isEqualTo("alt");
        assertThat(a.backends.get("fake").receiver).as("the old one unbound").isNull();
        assertThat(a.backends.get("fake").tx).isEmpty();
        assertThat(a.backends.get("alt").receiver).isNotNull();
        // channels are the new backend's: set up again, then sharing goes through it
        assertThat(a.file.exportRemote(fd, B, null).ret()).as("no channel on alt yet").isEqualTo(EINVAL);
        assertThat(a.file.txChSetup(B)).isZero();
        assertThat(b.file.rxChSetup(A)).isZero();
        assertThat(b.file.txChSetup(A)).isZero();
        assertThat(a.file.rxChSetup(B)).isZero();
        HyperDmabufId viaAlt = a.file.exportRemote(fd, B, null).hid();
        assertThat(b.nextEvent().hid()).isEqualTo(viaAlt);
        assertThat(a.backends.get("alt").granted.get()).isEqualTo(2);
        assertThat(a.backends.get("fake").granted.get()).isZero();
        int bfd = b.file.exportFd(viaAlt, 0);
        assertThat(b.read(bfd, 1)).isEqualTo("x");
        assertThat(a.front.status()).startsWith("alt: d1").contains(viaAlt.toString() + "->d2 active=1");
        b.proc.close(bfd);
    }

    @Test
    void aSwitchWaitsForAnExportUnderWay() throws Exception {
        int fd = a.buffer(1, "x");
        CountDownLatch inShare = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        a.bknd().inShare = () -> {
            inShare.countDown();
            try {
                go.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        ExecutorService t = Executors.newSingleThreadExecutor();
        try {
            Future<HyperDmabufFile.Export> f = t.submit(() -> a.file.exportRemote(fd, B, null));
            assertThat(inShare.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(a.front.useBackend("alt")).as("an export is sharing through fake").isEqualTo(EBUSY);
            go.countDown();
            HyperDmabufFile.Export e = f.get(10, TimeUnit.SECONDS);
            assertThat(e.ret()).isZero();
            assertThat(b.nextEvent().hid()).as("shared and sent through the same backend").isEqualTo(e.hid());
            assertThat(a.front.backend()).isEqualTo("fake");
        } finally {
            a.bknd().inShare = null;
            t.shutdownNow();
        }
    }

    @Test
    void unloadingTheBackendUnderAnExportRevokesItInsteadOfListingItOnADeadBackend() throws Exception {
        int fd = a.buffer(1, "x");
        FakeHub.Backend gone = a.backends.get("fake");
        CountDownLatch inShare = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        gone.inShare = () -> {
            inShare.countDown();
            try {
                go.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        ExecutorService t = Executors.newSingleThreadExecutor();
        try {
            Future<HyperDmabufFile.Export> f = t.submit(() -> a.file.exportRemote(fd, B, null));
            assertThat(inShare.await(10, TimeUnit.SECONDS)).isTrue();
            a.front.removeBackend(gone); // not listed yet: the revoke cannot see it, and the removal does not wait
            assertThat(a.front.backend()).isEqualTo("alt");
            // its channel to d2 outlives the unbind (a backend's rings stay until its bundle stops): a send
            // through it would still get there, so only the front end's check keeps the export unlisted
            gone.tx.add(B);
            go.countDown();
            HyperDmabufFile.Export e = f.get(10, TimeUnit.SECONDS);
            assertThat(e.ret()).as("its backend went away under it").isEqualTo(Errno.ENODEV.negative());
            assertThat(e.hid()).isEqualTo(HyperDmabufId.INVALID);
            assertThat(a.front.exportedIds()).as("not listed against the dead backend").isEmpty();
            assertThat(gone.shares).as("what it shared was unshared").isEmpty();
            assertThat(gone.granted.get()).isZero();
            assertThat(a.front.holders()).isEmpty();
            assertUntouched(a);
            assertThat(b.front.importedIds()).as("no EXPORT was sent").isEmpty();
        } finally {
            gone.inShare = null;
            go.countDown();
            t.shutdownNow();
        }
    }

    @Test
    void unloadingTheExportersBackendRevokesItsExportsAndMovesToAnother() {
        int fd = a.buffer(2, "x");
        HyperDmabufId hid = a.file.exportRemote(fd, B, null).hid();
        b.nextEvent();
        int bfd = b.file.exportFd(hid, 0);
        FakeHub.Backend gone = a.backends.get("fake");
        a.front.removeBackend(gone);
        assertThat(a.front.exportedIds()).as("revoked").isEmpty();
        assertThat(a.front.backend()).isEqualTo("alt");
        assertThat(a.front.backendNames()).containsExactly("alt");
        assertThat(gone.receiver).isNull();
        assertThat(gone.shares).as("unshared").isEmpty();
        assertThat(gone.granted.get()).as("refs the importer still maps end when it unmaps").isEqualTo(3);
        assertUntouched(a);
        assertThat(b.read(bfd, 1)).as("the importer's mapping stays until it lets go").isEqualTo("x");
        b.proc.close(bfd);
        awaitValue("grants ended", gone.granted::get, 0);
        assertThat(b.bknd().mapped.get()).isZero();
        assertThat(a.front.useBackend("fake")).isEqualTo(ENOENT);
    }

    @Test
    void unloadingTheImportersBackendInvalidatesItsImports() {
        int held = a.buffer(1, "h");
        HyperDmabufId heldId = a.file.exportRemote(held, B, null).hid();
        HyperDmabufId idle = a.file.exportRemote(a.buffer(1, "i"), B, null).hid();
        await("imported", () -> b.front.importedIds().size() == 2);
        int bfd = b.file.exportFd(heldId, 0);
        b.front.removeBackend(b.backends.get("fake"));
        assertThat(b.front.backend()).isEqualTo("alt");
        assertThat(b.front.importedIds()).as("the unused import dropped, the held one kept").containsExactly(heldId);
        assertThat(q(b, heldId, QUERY_UNEXPORTED)).isEqualTo(1);
        assertThat(q(b, idle, QUERY_TYPE)).isEqualTo(ENOENT);
        assertThatThrownBy(() -> b.read(bfd, 1)).isInstanceOf(KernelException.class).hasMessageStartingWith("ENODEV");
        assertThat(b.bknd().mapped.get()).isEqualTo(1);
        b.proc.close(bfd);
        assertThat(b.front.importedIds()).isEmpty();
        assertThat(b.bknd().mapped.get()).isZero();
    }

    // ================================================================ dead peers and unload

    @Test
    void aDeadExporterInvalidatesItsImports() throws Exception {
        HyperDmabufId heldId = a.file.exportRemote(a.buffer(1, "h"), B, null).hid();
        a.file.exportRemote(a.buffer(1, "i"), B, null);
        await("imported", () -> b.front.importedIds().size() == 2);
        int bfd = b.file.exportFd(heldId, 0);
        hub.kill(A);
        assertThat(b.front.importedIds()).containsExactly(heldId);
        assertThatThrownBy(() -> b.read(bfd, 1)).isInstanceOf(KernelException.class).hasMessageStartingWith("ENODEV");
        DmaBuf local = b.proc.get(bfd);
        assertThatThrownBy(() -> b.core.attach(local, DeviceNode.platform("late", null), null, null))
                .as("nothing new once the exporter domain is gone").isInstanceOf(KernelException.class)
                .hasMessageStartingWith("ENODEV");
        b.core.put(local);
        assertThat(b.file.exportFd(heldId, 0)).as("the exporter is gone").isNegative();
        assertThat(q(b, heldId, QUERY_BUSY)).isEqualTo(1);
        b.proc.close(bfd);
        assertThat(b.front.importedIds()).isEmpty();
        assertThat(b.bknd().mapped.get()).isZero();
    }

    @Test
    void unloadingTheModuleUnexportsEverythingAndTellsTheImporters() {
        HyperDmabufId heldId = a.file.exportRemote(a.buffer(1, "h"), B, null).hid();
        HyperDmabufId idle = a.file.exportRemote(a.buffer(1, "i"), B, null).hid();
        await("imported", () -> b.front.importedIds().size() == 2);
        int bfd = b.file.exportFd(heldId, 0);
        a.front.deactivate();
        assertThat(a.front.exportedIds()).isEmpty();
        assertThat(a.bknd().receiver).isNull();
        assertThat(b.front.importedIds()).as("told: the idle one dropped, the held one invalid").containsExactly(heldId);
        assertThat(q(b, idle, QUERY_TYPE)).isEqualTo(ENOENT);
        assertThat(q(b, heldId, QUERY_UNEXPORTED)).isEqualTo(1);
        assertUntouched(a);
        b.proc.close(bfd);
        assertThat(b.front.importedIds()).isEmpty();
        awaitValue("grants ended", a.bknd().granted::get, 0);
    }
}
