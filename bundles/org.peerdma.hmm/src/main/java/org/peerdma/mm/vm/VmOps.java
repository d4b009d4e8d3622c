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
}
