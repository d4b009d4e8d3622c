package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ProviderType;

/** mm/hmm.c. */
@ProviderType
public interface Hmm {
    /** struct hmm_range. {@code hmmPfns} holds the requests on entry and the results on return. */
    final class Range {
        public MmuInterval notifier;
        public long notifierSeq;
        public long start;
        public long end;
        public long[] hmmPfns;
        public long defaultFlags;
        public long pfnFlagsMask;
        public Object devPrivateOwner;
        /** The importing device (the RFC's hmm_range device), or null. */
        public Object device;
        /** DMA addresses out for pages mapped peer-to-peer through a special vma (the RFC's pas). */
        public long[] pas;
    }

    /**
     * rangeFault - hmm_range_fault: mmap_lock must be held (read). Return: 0; -EBUSY when the
     * notifier saw an invalidation since notifierSeq (take a new sequence and retry); -EFAULT when a
     * requested page cannot be made valid; -EPERM when a write fault is needed on a vma without
     * VM_WRITE.
     */
    int rangeFault(Mm mm, Range range);
}
