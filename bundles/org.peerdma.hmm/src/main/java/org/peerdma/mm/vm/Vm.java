package org.peerdma.mm.vm;

/** mman.h and vm_flags constants, and the hmm_pfn bits (include/linux/hmm.h, BITS_PER_LONG = 64). */
public final class Vm {
    private Vm() {
    }

    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** x86-64: a PMD maps 2 MiB, a PUD 1 GiB. */
    public static final int PMD_SHIFT = 21;
    public static final int PUD_SHIFT = 30;
    public static final long PMD_SIZE = 1L << PMD_SHIFT;
    public static final int HPAGE_PMD_ORDER = PMD_SHIFT - PAGE_SHIFT;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;

    public static final long VM_READ = 0x1;
    public static final long VM_WRITE = 0x2;
    public static final long VM_EXEC = 0x4;
    public static final long VM_SHARED = 0x8;
    public static final long VM_MAYREAD = 0x10;
    public static final long VM_MAYWRITE = 0x20;
    public static final long VM_PFNMAP = 0x400;
    public static final long VM_IO = 0x4000;
    public static final long VM_HUGETLB = 0x400000;
    public static final long VM_DONTEXPAND = 0x40000;
    public static final long VM_HUGEPAGE = 0x20000000;
    public static final long VM_NOHUGEPAGE = 0x40000000;
    public static final long VM_MIXEDMAP = 0x10000000;

    // hmm_pfn_flags
    public static final long HMM_PFN_VALID = 1L << 63;
    public static final long HMM_PFN_WRITE = 1L << 62;
    public static final long HMM_PFN_ERROR = 1L << 61;
    public static final long HMM_PFN_DMA_MAPPED = 1L << 60;
    public static final long HMM_PFN_P2PDMA = 1L << 59;
    public static final long HMM_PFN_P2PDMA_BUS = 1L << 58;
    public static final int HMM_PFN_ORDER_SHIFT = 64 - 11;
    /** Every flag bit (at or above B-11). */
    public static final long HMM_PFN_FLAGS = -1L << HMM_PFN_ORDER_SHIFT;
    public static final long HMM_PFN_REQ_FAULT = HMM_PFN_VALID;
    public static final long HMM_PFN_REQ_WRITE = HMM_PFN_WRITE;
    /** HMM_RANGE_DEFAULT_TIMEOUT (ms). */
    public static final long HMM_RANGE_DEFAULT_TIMEOUT = 1000;

    /** hmm_pfn_to_map_order: the order of the CPU mapping the entry came from (bits B-11..B-7). */
    public static int hmmPfnToMapOrder(long hmmPfn) {
        return (int) ((hmmPfn >>> HMM_PFN_ORDER_SHIFT) & 0x1F);
    }

    /** hmm_pfn_flags_order: the order bits for an entry. */
    public static long hmmPfnFlagsOrder(int order) {
        return (long) order << HMM_PFN_ORDER_SHIFT;
    }

    /** @return the pfn part of an hmm_pfn. */
    public static long hmmPfnToPfn(long hmmPfn) {
        return hmmPfn & ~HMM_PFN_FLAGS;
    }
}
