package org.peerdma.p2pmem;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.pci.PciDevice;

/** struct p2pmem_dev: a p2pmemN device under its parent. */
@ProviderType
public interface P2pmemDevice {
    /** @return "p2pmemN". */
    String name();

    int id();

    /** @return the parent device passed to p2pmem_create. */
    PciDevice parent();

    /** @return gen_pool_size. */
    long size();

    /** @return gen_pool_avail. */
    long available();

    /** @return whether p2pmem_unregister was called. */
    boolean unregistered();
}
