package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ProviderType;

/** Processes of this kernel: each with its own address space. */
@ProviderType
public interface MmProcesses {
    /** create - a process with an empty address space (one user). */
    Mm create(String name);

    /** @return the live address spaces (for_each_process), forked children included. */
    java.util.List<Mm> processes();

    /**
     * setNrHugepages - vm.nr_hugepages: the hugetlb pool grows (2 MiB pages from the RAM map, as
     * many as can be had) or shrinks (free unreserved pages only). Return: the pool's size now.
     * Errors: EINVAL for a negative count.
     */
    int setNrHugepages(int n);

    /** /proc/meminfo's HugePages_Total, HugePages_Free, HugePages_Rsvd. */
    record Hugepages(int total, int free, long reserved) {
    }

    Hugepages hugepages();

    /** file - a shmem file of {@code size} bytes (memfd_create), pages from the RAM map. */
    VmFile file(String name, long size);
}
