package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * vm_operations_struct of a special device mapping (VM_IO | VM_PFNMAP, set up by a driver's mmap).
 * fault installs what the device wants at the address (Mm.insertPfn) or refuses.
 */
@ConsumerType
public interface VmOps {
    /** fault - return 0 after inserting a pfn, or -EFAULT (SIGBUS/SIGSEGV) to refuse. */
    int fault(Mm mm, Vma vma, long addr, boolean write);

    /** close - the vma goes away (munmap, exit). */
    default void close(Vma vma) {
    }

    /** @return whether p2p_map/p2p_unmap are offered (the 2019 RFC's vm operations). */
    default boolean hasP2p() {
        return false;
    }

    /**
     * p2p_map (RFC): map [start, end) of this vma for {@code importer} (a device node); the DMA
     * address of each page goes into {@code pas[index0 + i]}. The exporting driver alone decides
     * (p2pdma distance, whether its memory may be reached at all). Contract: once a range was mapped
     * for a device, mapping it again while the vma is valid succeeds too. Return: 0 or -errno.
     */
    default long p2pMap(Vma vma, Object importer, long start, long end, long[] pas, int index0, boolean write) {
        return -95; // -EOPNOTSUPP
    }

    /**
     * p2p_unmap (RFC): the importer's mapping of [start, end) goes. The importer must call it when
     * an mmu notifier invalidation covers the range, before the memory can be freed.
     */
    default long p2pUnmap(Vma vma, Object importer, long start, long end) {
        return 0;
    }
}
