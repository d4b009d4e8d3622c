package org.peerdma.xen.gntdev;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.FdTable;

/** /dev/xen/gntdev of this domain. Module parameter {@code limit}: grants per call (default 64 Ki). */
@ProviderType
public interface Gntdev {
    int GNTDEV_DMA_FLAG_WC = 1 << 0;
    int GNTDEV_DMA_FLAG_COHERENT = 1 << 1;
    int DEFAULT_LIMIT = 64 * 1024;

    /** open - a gntdev file for the process whose fd table is {@code proc}. */
    GntdevFile open(FdTable proc);

    /** @return the limit module parameter now. */
    int limit();
}
