package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ProviderType;

/** Processes of this kernel: each with its own address space. */
@ProviderType
public interface MmProcesses {
    /** create - a process with an empty address space (one user). */
    Mm create(String name);

    /** file - a shmem file of {@code size} bytes (memfd_create), pages from the RAM map. */
    VmFile file(String name, long size);
}
