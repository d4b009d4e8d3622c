package org.peerdma.p2pdma;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.mm.Page;

/**
 * A user mapping of p2pmem/allocate (mmap of the sysfs binary file): fresh pages of the pool,
 * each inserted with refcount 1. Closing it is munmap: each page is put, and at 0 returns to the pool.
 */
@ProviderType
public interface P2pMapping extends AutoCloseable {
    /** @return the provider's kernel virtual address of the first byte. */
    long virt();

    long length();

    List<Page> pages();

    /** munmap. Idempotent. */
    @Override
    void close();
}
