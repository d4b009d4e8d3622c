package org.peerdma.xen.shell;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.xen.gnttab.GrantTable;
import org.peerdma.xen.hv.GrantMap;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;

/**
 * This domain's Xen side from its shell (dom0's, or a guest's through xl:exec): grants of its own
 * pages, mappings of other domains' grants (kept until unmapped or the shell module stops), bytes
 * in both, xenstore.
 */
@Component(service = XenCommands.class, immediate = true, property = {"osgi.command.scope=xen",
    "osgi.command.function=info", "osgi.command.function=grant", "osgi.command.function=end",
    "osgi.command.function=map", "osgi.command.function=unmap", "osgi.command.function=peek",
    "osgi.command.function=poke", "osgi.command.function=xsread", "osgi.command.function=xswrite",
    "osgi.command.function=xsls"})
public class XenCommands {
    @Reference
    Hypercalls hv;

    @Reference
    GrantTable gnttab;

    private final Map<Integer, GrantMap> maps = new TreeMap<>();
    private final AtomicInteger ended = new AtomicInteger();

    @Deactivate
    synchronized void deactivate() {
        for (GrantMap m : maps.values()) {
            try {
                hv.unmapGrantRef(m.handle());
            } catch (XenError e) {
                // the domain is dying: the hypervisor releases its mappings itself
            }
        }
        maps.clear();
    }

    @Descriptor("this domain: id, pages, grant table use, the shell's mappings")
    public synchronized String info() {
        return String.format(Locale.ROOT,
                "domain %d: %d pages; grant table %d entries (max %d frames), %d free, %d in use, %d deferred; "
                        + "shell mappings %s",
                hv.domid(), hv.nrPages(), hv.grantEntries(), hv.maxGrantFrames(), gnttab.freeCount(), gnttab.inUse(),
                gnttab.deferredCount(), maps.keySet());
    }

    @Descriptor("grant a domain access to one of this domain's pages; prints the ref")
    public String grant(@Descriptor("grantee domid") int domid, @Descriptor("gfn (page number)") long gfn,
            @Descriptor("rw (default) or ro") String... mode) {
        boolean ro = mode.length > 0 && mode[0].equals("ro");
        if (mode.length > 0 && !ro && !mode[0].equals("rw")) {
            throw KernelException.einval("mode '%s': rw or ro", mode[0]);
        }
        if (gfn < 0 || gfn >= hv.nrPages()) {
            throw KernelException.einval("gfn %d is outside this domain's %d pages", gfn, hv.nrPages());
        }
        int ref = gnttab.grantForeignAccess(domid, gfn, ro);
        if (ref < 0) {
            throw new KernelException(Errno.ENOSPC, "no free grant reference");
        }
        return "ref " + ref;
    }

    @Descriptor("end foreign access to a ref (deferred while the grantee still maps it)")
    public String end(@Descriptor("ref") int ref) {
        if (gnttab.tryEndForeignAccess(ref)) {
            return "ref " + ref + " ended";
        }
        gnttab.endForeignAccess(ref, ended::incrementAndGet);
        return "ref " + ref + " still mapped by its grantee: deferred (" + gnttab.deferredCount() + " pending)";
    }

    @Descriptor("map another domain's grant into this domain; prints the handle")
    public synchronized String map(@Descriptor("granting domid") int domid, @Descriptor("ref") int ref,
            @Descriptor("rw (default) or ro") String... mode) {
        boolean ro = mode.length > 0 && mode[0].equals("ro");
        GrantMap m = hv.mapGrantRef(domid, ref, Xen.GNTMAP_host_map | (ro ? Xen.GNTMAP_readonly : 0));
        if (!m.ok()) {
            throw new KernelException(Errno.EINVAL, String.format("map d%d ref %d: GNTST %d (%s): %s", domid, ref,
                    m.status(), Xen.gntstName(m.status()), m.message()));
        }
        maps.put(m.handle(), m);
        return "handle " + m.handle();
    }

    @Descriptor("unmap a grant mapping of this shell")
    public synchronized String unmap(@Descriptor("handle") int handle) {
        if (maps.remove(handle) == null) {
            throw KernelException.einval("no shell mapping with handle %d", handle);
        }
        int st = hv.unmapGrantRef(handle);
        return st == Xen.GNTST_okay ? "handle " + handle + " unmapped" : "GNTST " + st + " (" + Xen.gntstName(st) + ")";
    }

    @Descriptor("read text from a mapped grant (the granter's page itself)")
    public synchronized String peek(@Descriptor("handle") int handle, @Descriptor("offset") int off,
            @Descriptor("bytes") int len) {
        GrantMap m = maps.get(handle);
        if (m == null) {
            throw KernelException.einval("no shell mapping with handle %d", handle);
        }
        checkRange(off, len);
        byte[] b = new byte[len];
        m.memory().duplicate().position(off).get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Descriptor("write text into one of this domain's own pages")
    public String poke(@Descriptor("gfn") long gfn, @Descriptor("offset") int off, @Descriptor("text") String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        checkRange(off, b.length);
        try {
            ByteBuffer page = hv.page(gfn);
            page.position(off).put(b);
        } catch (XenError e) {
            throw new KernelException(Errno.of(e.errno()).orElse(Errno.EIO), e.getMessage());
        }
        return b.length + " bytes at gfn " + gfn + "+" + off;
    }

    private static void checkRange(int off, int len) {
        if (off < 0 || len < 0 || off + len > Xen.PAGE_SIZE) {
            throw KernelException.einval("%d bytes at offset %d do not fit a 4096-byte page", len, off);
        }
    }

    @Descriptor("xenstore read")
    public String xsread(@Descriptor("path") String path) {
        return xs(() -> hv.xsRead(path));
    }

    @Descriptor("xenstore write")
    public String xswrite(@Descriptor("path") String path, @Descriptor("value") String value) {
        return xs(() -> {
            hv.xsWrite(path, value);
            return path + " = " + value;
        });
    }

    @Descriptor("xenstore directory")
    public String xsls(@Descriptor("path") String path) {
        return xs(() -> String.join(System.lineSeparator(), hv.xsDirectory(path)));
    }

    private static String xs(java.util.function.Supplier<String> op) {
        try {
            return op.get();
        } catch (XenError e) {
            throw new KernelException(Errno.of(e.errno()).orElse(Errno.EIO), e.getMessage());
        }
    }

    List<Integer> handles() {
        synchronized (this) {
            return List.copyOf(maps.keySet());
        }
    }
}
