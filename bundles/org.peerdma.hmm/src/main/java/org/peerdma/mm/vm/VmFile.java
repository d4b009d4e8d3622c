package org.peerdma.mm.vm;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/** A file that can be mapped (shmem-like): page {@code index} of it, allocated on first use. */
@ProviderType
public interface VmFile {
    String name();

    /** @return the file's size in bytes. */
    long size();

    /** @return the page's memory. Errors: EINVAL past the end. */
    ByteBuffer page(long index);

    /** @return the page's physical frame number. */
    long pfn(long index);

    /** release - the last reference to the file goes: its pages return to the RAM map. */
    void release();
}
