package org.peerdma.xen.gntdev.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.xen.gntdev.DumbBuffers;
import org.peerdma.xen.gntdev.Gntdev;
import org.peerdma.xen.gntdev.GntdevFile;
import org.peerdma.xen.gntdev.XenZcopy;
import org.peerdma.xen.hv.Xen;

/** One gntdev file per process that uses the helper; the wait handle is the export's fd. */
@Component(service = XenZcopy.class)
public class XenZcopyImpl implements XenZcopy {
    @Reference
    Gntdev gntdev;

    private final Map<FdTable, GntdevFile> files = new ConcurrentHashMap<>();
    private final Map<FdTable, Integer> errors = new ConcurrentHashMap<>();

    public XenZcopyImpl() {
    }

    /** For tests outside OSGi. */
    public XenZcopyImpl(Gntdev gntdev) {
        this.gntdev = gntdev;
    }

    private GntdevFile file(FdTable proc) {
        return files.computeIfAbsent(proc, gntdev::open);
    }

    @Override
    public Dumb dumbFromRefs(FdTable proc, int otherendId, int[] grefs, int width, int height, int bpp) {
        if (grefs == null || width <= 0 || height <= 0 || (bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)) {
            errors.put(proc, -Xen.EINVAL);
            return null;
        }
        long size = (long) DumbBuffers.pitch(width, bpp) * height;
        long pages = (size + Xen.PAGE_SIZE - 1) / Xen.PAGE_SIZE;
        if (grefs.length != pages) {
            errors.put(proc, -Xen.EINVAL); // the refs must cover the dumb buffer exactly
            return null;
        }
        int fd = file(proc).expFromRefs(0, otherendId, grefs);
        if (fd < 0) {
            errors.put(proc, fd);
            return null;
        }
        return new Dumb(fd, fd);
    }

    @Override
    public int dumbToRefs(FdTable proc, int handle, int otherendId, int[] grefsOut) {
        return file(proc).impToRefs(handle, otherendId, grefsOut);
    }

    @Override
    public int dumbWaitFree(FdTable proc, int waitHandle, int waitToMs) {
        GntdevFile f = files.get(proc);
        return f == null ? -Xen.ENOENT : f.expWaitReleased(waitHandle, waitToMs);
    }

    @Override
    public int lastError(FdTable proc) {
        return errors.getOrDefault(proc, 0);
    }

    @Deactivate
    void deactivate() {
        files.values().forEach(GntdevFile::close);
        files.clear();
    }
}
