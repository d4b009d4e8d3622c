package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Dictionary;
import java.util.Hashtable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.dmaheap.DmaHeaps;

/** The dma-buf heaps in the running system: allocation, one memory behind every mapping, cma= by ConfigAdmin. */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class DmaHeapTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    ConfigurationAdmin configAdmin;

    @Test
    void allocateFromBothHeapsAndResizeTheCmaArea() throws Exception {
        DmaHeaps heaps = Runtime.await(ctx, DmaHeaps.class, 5000);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        FdTable proc = core.fdTable("itest-heaps");
        int before = core.buffers().size();
        assertThat(heaps.heaps()).containsExactly("system", "reserved");
        DmaHeaps.AllocationData d = new DmaHeaps.AllocationData(2L << 20, 0, DmaHeaps.O_RDWR, 0);
        int sys = heaps.alloc(proc, "system", d);
        int cma = heaps.alloc(proc, "reserved", d);
        assertThat(sys).isPositive();
        assertThat(cma).isPositive();
        try {
            BufMap m = proc.mmap(cma, 0, 2L << 20);
            m.putInt(4096, 0xc0ffee);
            DmaBuf buf = proc.get(cma);
            buf.resv().lock();
            BufMap v = core.vmap(buf);
            buf.resv().unlock();
            assertThat(v.getInt(4096)).isEqualTo(0xc0ffee);
            buf.resv().lock();
            core.vunmap(buf, v);
            buf.resv().unlock();
            core.put(buf);
            assertThat(heaps.cmaUsage()[0]).isEqualTo(2L << 20);
        } finally {
            proc.close(sys);
            proc.close(cma);
        }
        assertThat(core.buffers()).hasSize(before);

        Configuration c = configAdmin.getConfiguration("org.peerdma.dmaheap", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("cma_mb", 1);
        c.update(p);
        try {
            Runtime.eventually("cma=1M applied", 5000, () -> {
                return cmaSize() == 1L << 20;
            });
            var ref = ctx.getServiceReference(DmaHeaps.class);
            try {
                assertThat(ctx.getService(ref).alloc(proc, "reserved", d)).isEqualTo(-12); // -ENOMEM: 2 MiB in 1 MiB
            } finally {
                ctx.ungetService(ref);
            }
        } finally {
            c.delete();
        }
        Runtime.eventually("default cma back", 5000, () -> {
            return cmaSize() == 64L << 20;
        });
        assertThat(core.buffers()).hasSize(before);
    }

    /** The CMA area's size as the current DmaHeaps sees it, -1 while none is registered. */
    private long cmaSize() {
        var ref = ctx.getServiceReference(DmaHeaps.class);
        DmaHeaps h = ref == null ? null : ctx.getService(ref);
        if (h == null) {
            return -1;
        }
        try {
            return h.cmaUsage()[1];
        } finally {
            ctx.ungetService(ref);
        }
    }
}
