package org.peerdma.hyperdmabuf.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.SgEntry;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufAttachment;
import org.peerdma.dmabuf.core.DmaBufOps;
import org.peerdma.dmabuf.core.ExportInfo;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmabuf.core.SgTable;
import org.peerdma.dmabuf.core.internal.DmaBufCoreImpl;
import org.peerdma.hyperdmabuf.HyperDmabuf;
import org.peerdma.hyperdmabuf.HyperDmabufFile;
import org.peerdma.hyperdmabuf.spi.HyperDmabufBackend;

/**
 * One domain's kernel for the front end's tests: its RAM, dma-buf core, a backend on each hub given,
 * the hyper_dmabuf front end (on the first backend) and one process with /dev/hyper_dmabuf open.
 */
public final class TestDomain {
    public final int domid;
    public final FakeHub.Memory mem = new FakeHub.Memory();
    public final DmaBufCoreImpl core = new DmaBufCoreImpl();
    final Map<String, FakeHub.Backend> backends = new LinkedHashMap<>();
    public final HyperDmabufImpl front;
    public final FdTable proc;
    public final HyperDmabufFile file;
    /** Every buffer made with {@link #buffer}, by fd. */
    final Map<Integer, Pages> buffers = new LinkedHashMap<>();

    public TestDomain(int domid, FakeHub... hubs) {
        this.domid = domid;
        Map<String, HyperDmabufBackend> named = new LinkedHashMap<>();
        for (FakeHub h : hubs) {
            FakeHub.Backend b = h.backend(domid, mem);
            backends.put(h.name, b);
            named.put(h.name, b);
        }
        front = new HyperDmabufImpl(core, named);
        proc = core.fdTable("app-d" + domid);
        file = front.open(proc);
    }

    /** The backend on the first hub. */
    public FakeHub.Backend bknd() {
        return backends.values().iterator().next();
    }

    /** Both directions between this domain and {@code other} on the backend in use of each. */
    public void link(TestDomain other) {
        check(file.txChSetup(other.domid), "tx");
        check(other.file.rxChSetup(domid), "rx");
        check(other.file.txChSetup(domid), "tx back");
        check(file.rxChSetup(other.domid), "rx back");
    }

    private static void check(int r, String what) {
        if (r != 0) {
            throw new AssertionError(what + ": " + r);
        }
    }

    /** A dma-buf of {@code pages} pages of this domain's RAM with {@code text} at offset 0; returns its fd. */
    public int buffer(int pages, String text) {
        return buffer(pages, (long) pages * FakeHub.PAGE, 0, text);
    }

    /**
     * A dma-buf of {@code size} bytes over {@code pages} pages whose DMA addresses start {@code misalign}
     * bytes into the first page.
     */
    public int buffer(int pages, long size, int misalign, String text) {
        Pages ops = new Pages(mem, pages, misalign);
        DmaBuf buf = core.export(new ExportInfo("test-exporter", ops, size, ops, null));
        int fd = proc.fd(buf, 0);
        if (text != null) {
            ops.map().write(0, text.getBytes(StandardCharsets.UTF_8));
        }
        buffers.put(fd, ops);
        return fd;
    }

    /** The text at offset 0 of the dma-buf {@code fd} through a kernel mapping (vmap). */
    String read(int fd, int len) {
        DmaBuf b = proc.get(fd);
        try {
            return new String(core.readBytes(b, 0, len), StandardCharsets.UTF_8);
        } finally {
            core.put(b);
        }
    }

    /** Waits for and returns the next NEW_IMPORT event. */
    HyperDmabuf.Event nextEvent() {
        List<HyperDmabuf.Event> ev = front.readEvents(4096, 10_000, true);
        if (ev.isEmpty()) {
            throw new AssertionError("no event in d" + domid);
        }
        return ev.get(0);
    }

    /** Drops every queued event. */
    void drainEvents() {
        while (!front.readEvents(1 << 20, 0, true).isEmpty()) {
            // keep reading
        }
    }

    public void stop() {
        front.deactivate();
        for (FakeHub.Backend b : backends.values()) {
            b.events.shutdownNow(); // its event thread: what others send now fails (ESRCH)
        }
    }

    /** A system-memory exporter over pages of the domain's RAM: DMA addresses are pseudo-physical. */
    public static final class Pages implements DmaBufOps {
        public final FakeHub.Memory mem;
        final long[] pfns;
        final int misalign;
        final AtomicInteger maps = new AtomicInteger();
        final AtomicInteger unmaps = new AtomicInteger();
        final AtomicInteger attaches = new AtomicInteger();
        final AtomicInteger detaches = new AtomicInteger();
        final AtomicInteger cpuBegin = new AtomicInteger();
        final AtomicInteger cpuEnd = new AtomicInteger();
        final AtomicInteger vmaps = new AtomicInteger();
        final AtomicInteger vunmaps = new AtomicInteger();
        volatile boolean released;

        public Pages(FakeHub.Memory mem, int pages, int misalign) {
            this.mem = mem;
            this.pfns = mem.allocate(pages);
            this.misalign = misalign;
        }

        BufMap map() {
            List<ByteBuffer> l = new ArrayList<>();
            for (long p : pfns) {
                l.add(mem.page(p));
            }
            return BufMap.of(l);
        }

        @Override
        public int attach(DmaBuf buf, DmaBufAttachment attach) {
            attaches.incrementAndGet();
            return 0;
        }

        @Override
        public void detach(DmaBuf buf, DmaBufAttachment attach) {
            detaches.incrementAndGet();
        }

        @Override
        public SgTable mapDmaBuf(DmaBufAttachment attach, DmaDirection dir) {
            maps.incrementAndGet();
            List<SgEntry> sg = new ArrayList<>();
            for (long p : pfns) {
                long a = p * FakeHub.PAGE + misalign;
                sg.add(new SgEntry(a, FakeHub.PAGE, a, FakeHub.PAGE));
            }
            return new SgTable(sg);
        }

        @Override
        public void unmapDmaBuf(DmaBufAttachment attach, SgTable sgt, DmaDirection dir) {
            unmaps.incrementAndGet();
        }

        @Override
        public void release(DmaBuf buf) {
            released = true;
        }

        @Override
        public int beginCpuAccess(DmaBuf buf, DmaDirection dir) {
            cpuBegin.incrementAndGet();
            return 0;
        }

        @Override
        public int endCpuAccess(DmaBuf buf, DmaDirection dir) {
            cpuEnd.incrementAndGet();
            return 0;
        }

        @Override
        public boolean hasVmap() {
            return true;
        }

        @Override
        public BufMap vmap(DmaBuf buf) {
            vmaps.incrementAndGet();
            return map();
        }

        @Override
        public void vunmap(DmaBuf buf, BufMap map) {
            vunmaps.incrementAndGet();
        }

        /** @return whether every map, attach and vmap was undone. */
        boolean balanced() {
            return maps.get() == unmaps.get() && attaches.get() == detaches.get() && vmaps.get() == vunmaps.get();
        }
    }
}
