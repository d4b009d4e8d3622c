package org.peerdma.mm.vm.internal;

import org.osgi.service.component.annotations.Component;
import org.peerdma.mm.vm.Hmm;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.Vma;

/** hmm_range_fault: the walk, the per-page request rules and the fault-and-restart loop. */
@Component(service = Hmm.class)
public class HmmImpl implements Hmm {
    static final int EBUSY = -16;
    static final int EFAULT = -14;
    static final int EPERM = -1;
    /** HMM_PFN_INOUT_FLAGS: carried from input to output. */
    static final long INOUT = Vm.HMM_PFN_DMA_MAPPED | Vm.HMM_PFN_P2PDMA | Vm.HMM_PFN_P2PDMA_BUS;

    @Override
    public int rangeFault(Mm mm, Range r) {
        if (mm.mmapLock().getReadHoldCount() == 0 && !mm.mmapLock().isWriteLockedByCurrentThread()) {
            throw new IllegalStateException("hmm_range_fault: mmap_lock not held (lockdep)");
        }
        long npages = (r.end - r.start) >> Vm.PAGE_SHIFT;
        if (r.hmmPfns == null || r.hmmPfns.length < npages || r.start >= r.end) {
            return -22;
        }
        long[] last = {r.start};
        while (true) {
            if (r.notifier != null && r.notifier.checkRetry(r.notifierSeq)) {
                return EBUSY;
            }
            int res = walk(mm, r, last);
            if (res != EBUSY) {
                return res;
            }
            // a page was faulted in (or a migration waited for): walk again from hmm_vma_walk->last
        }
    }

    /** The output for entry i: the new value with the sticky in/out bits kept. */
    private static void set(Range r, int i, long value) {
        r.hmmPfns[i] = (r.hmmPfns[i] & INOUT) | value;
    }

    /** hmm_vma_fault: -EPERM when a write fault is needed on a vma without VM_WRITE, else the fault. */
    private static int fault(Mm mm, Vma v, long addr, boolean write) {
        if (write && (v.flags() & Vm.VM_WRITE) == 0) {
            return EPERM;
        }
        return mm.handleFault(addr, write) < 0 ? EFAULT : EBUSY;
    }

    /**
     * One walk from last[0]. Return: 0 done, EBUSY after a fault (last[0] is where to restart), or
     * the error.
     */
    private int walk(Mm mm, Range r, long[] last) {
        for (long addr = last[0]; addr < r.end; addr += Vm.PAGE_SIZE) {
            last[0] = addr;
            int i = (int) ((addr - r.start) >> Vm.PAGE_SHIFT);
            long req = (r.hmmPfns[i] & r.pfnFlagsMask) | r.defaultFlags;
            boolean wantFault = (req & Vm.HMM_PFN_REQ_FAULT) != 0;
            boolean wantWrite = wantFault && (req & Vm.HMM_PFN_REQ_WRITE) != 0;
            Vma v = mm.findVma(addr);
            if (v != null && (v.flags() & (Vm.VM_IO | Vm.VM_PFNMAP | Vm.VM_MIXEDMAP)) != 0 && r.device != null
                    && r.pas != null && v.ops() != null && v.ops().hasP2p()) {
                // the RFC: a special vma goes to vm_ops->p2p_map for the importing device
                long end = Math.min(v.end(), r.end);
                int n = (int) ((end - addr) >> Vm.PAGE_SHIFT);
                long res = v.ops().p2pMap(v, r.device, addr, end, r.pas, i, wantWrite);
                for (int k = 0; k < n; k++) {
                    set(r, i + k, res == 0
                            ? Vm.HMM_PFN_VALID | Vm.HMM_PFN_P2PDMA | (wantWrite ? Vm.HMM_PFN_WRITE : 0)
                                    | (r.pas[i + k] >>> Vm.PAGE_SHIFT & ~Vm.HMM_PFN_FLAGS)
                            : Vm.HMM_PFN_ERROR);
                }
                addr = end - Vm.PAGE_SIZE;
                continue;
            }
            // hmm_vma_walk_test: VM_IO/VM_PFNMAP and unreadable vmas are refused (a VM_MIXEDMAP vma's
            // normal pages are walked like any other)
            if (v == null || (v.flags() & (Vm.VM_IO | Vm.VM_PFNMAP)) != 0 || (v.flags() & Vm.VM_READ) == 0) {
                if (wantFault) {
                    return EFAULT;
                }
                set(r, i, Vm.HMM_PFN_ERROR);
                continue;
            }
            Mm.Pte p = mm.pte(addr);
            if (p.devicePrivate() && !p.migration()) {
                org.peerdma.mm.Page pg = (org.peerdma.mm.Page) p.page();
                if (r.devPrivateOwner != null && pg.pgmap().owner == r.devPrivateOwner) {
                    // the caller's own device memory: reported as it is, never faulted
                    set(r, i, p.pfn() | Vm.HMM_PFN_VALID | (p.writable() ? Vm.HMM_PFN_WRITE : 0));
                    continue;
                }
                if (!wantFault) {
                    set(r, i, 0);
                    continue;
                }
                if (r.device != null && r.pas != null && pg.pgmap().owner instanceof org.peerdma.mm.vm.DevmemP2p owner
                        && (!wantWrite || (v.flags() & Vm.VM_WRITE) != 0)) {
                    long dma = owner.p2pMap(p.pfn(), r.device); // the owner may let the peer reach it in place
                    if (dma != -1) {
                        r.pas[i] = dma;
                        set(r, i, p.pfn() | Vm.HMM_PFN_VALID | Vm.HMM_PFN_P2PDMA | (p.writable() ? Vm.HMM_PFN_WRITE : 0));
                        continue;
                    }
                }
                return fault(mm, v, addr, wantWrite); // refused or no p2p: migrate to RAM and retry
            }
            if (p.migration()) {
                if (!wantFault) {
                    set(r, i, 0);
                    continue;
                }
                // a page being migrated: wait for the migration to end, then walk again from here
                return mm.migrationEntryWait(addr) < 0 ? EFAULT : EBUSY;
            }
            if (!p.present()) {
                if (!wantFault) {
                    set(r, i, 0); // a hole (or a device-exclusive entry nobody asked for)
                    continue;
                }
                return fault(mm, v, addr, wantWrite);
            }
            if (wantWrite && !p.writable()) {
                return fault(mm, v, addr, true);
            }
            if (p.special()) {
                if (wantFault) {
                    return EFAULT;
                }
                set(r, i, Vm.HMM_PFN_ERROR);
                continue;
            }
            // a PMD-mapped THP or a hugetlb page: its order (hmm_vma_handle_pmd / walk_hugetlb_entry)
            set(r, i, p.pfn() | Vm.HMM_PFN_VALID | (p.writable() ? Vm.HMM_PFN_WRITE : 0)
                    | Vm.hmmPfnFlagsOrder(p.order()));
        }
        return 0;
    }
}
