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

    @Override
    public int rangeFault(Mm mm, Range r) {
        if (mm.mmapLock().getReadHoldCount() == 0 && !mm.mmapLock().isWriteLockedByCurrentThread()) {
            throw new IllegalStateException("hmm_range_fault: mmap_lock not held (lockdep)");
        }
        long npages = (r.end - r.start) >> Vm.PAGE_SHIFT;
        if (r.hmmPfns == null || r.hmmPfns.length < npages || r.start >= r.end) {
            return -22;
        }
        long addr = r.start;
        while (true) {
            if (r.notifier != null && r.notifier.checkRetry(r.notifierSeq)) {
                return EBUSY;
            }
            int res = walk(mm, r, addr);
            if (res >= 0) {
                return 0;
            }
            if (res != EBUSY) {
                return res;
            }
            // a page was faulted in: walk again from where we were (last)
        }
    }

    /** One walk from addr. Return: 0 done, EBUSY after a fault (restart), or the error. */
    private int walk(Mm mm, Range r, long from) {
        for (long addr = from; addr < r.end; addr += Vm.PAGE_SIZE) {
            int i = (int) ((addr - r.start) >> Vm.PAGE_SHIFT);
            long req = (r.hmmPfns[i] & r.pfnFlagsMask) | r.defaultFlags;
            boolean wantFault = (req & Vm.HMM_PFN_REQ_FAULT) != 0;
            boolean wantWrite = (req & Vm.HMM_PFN_REQ_WRITE) != 0;
            Vma v = mm.findVma(addr);
            if (v != null && (v.flags() & (Vm.VM_IO | Vm.VM_PFNMAP | Vm.VM_MIXEDMAP)) != 0 && r.device != null
                    && r.pas != null && v.ops() != null && v.ops().hasP2p()) {
                // the RFC: a special vma goes to vm_ops->p2p_map for the importing device
                long end = Math.min(v.end(), r.end);
                int n = (int) ((end - addr) >> Vm.PAGE_SHIFT);
                long res = v.ops().p2pMap(v, r.device, addr, end, r.pas, i, wantWrite);
                for (int k = 0; k < n; k++) {
                    r.hmmPfns[i + k] = res == 0
                            ? Vm.HMM_PFN_VALID | Vm.HMM_PFN_P2PDMA | (wantWrite ? Vm.HMM_PFN_WRITE : 0)
                                    | (r.pas[i + k] >>> Vm.PAGE_SHIFT & ~Vm.HMM_PFN_FLAGS)
                            : Vm.HMM_PFN_ERROR;
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
                r.hmmPfns[i] = Vm.HMM_PFN_ERROR;
                continue;
            }
            Mm.Pte p = mm.pte(addr);
            if (p.migration()) {
                if (!wantFault) {
                    r.hmmPfns[i] = 0;
                    continue;
                }
                // a page being migrated: wait for the migration to end, then walk again from here
                return mm.migrationEntryWait(addr) < 0 ? EFAULT : EBUSY;
            }
            if (p.devicePrivate()) {
                org.peerdma.mm.Page pg = (org.peerdma.mm.Page) p.page();
                if (r.devPrivateOwner != null && pg.pgmap().owner == r.devPrivateOwner) {
                    // the caller's own device memory: reported as it is, never faulted
                    r.hmmPfns[i] = p.pfn() | Vm.HMM_PFN_VALID | (p.writable() ? Vm.HMM_PFN_WRITE : 0);
                    continue;
                }
                if (!wantFault) {
                    r.hmmPfns[i] = 0;
                    continue;
                }
                if (r.device != null && r.pas != null && pg.pgmap().owner instanceof org.peerdma.mm.vm.DevmemP2p owner) {
                    long dma = owner.p2pMap(p.pfn(), r.device); // the owner may let the peer reach it in place
                    if (dma != -1) {
                        r.pas[i] = dma;
                        r.hmmPfns[i] = p.pfn() | Vm.HMM_PFN_VALID | Vm.HMM_PFN_P2PDMA
                                | (p.writable() ? Vm.HMM_PFN_WRITE : 0);
                        continue;
                    }
                }
                int f = mm.handleFault(addr, wantWrite); // refused or no p2p: migrate to RAM and retry
                return f < 0 ? EFAULT : EBUSY;
            }
            if (!p.present()) {
                if (!wantFault) {
                    r.hmmPfns[i] = 0; // a hole
                    continue;
                }
                if (wantWrite && (v.flags() & Vm.VM_WRITE) == 0) {
                    return EPERM;
                }
                int f = mm.handleFault(addr, wantWrite);
                return f < 0 ? EFAULT : EBUSY;
            }
            if (wantFault && wantWrite && !p.writable()) {
                if ((v.flags() & Vm.VM_WRITE) == 0) {
                    return EPERM;
                }
                int f = mm.handleFault(addr, true);
                return f < 0 ? EFAULT : EBUSY;
            }
            if (p.special()) {
                if (wantFault) {
                    return EFAULT;
                }
                r.hmmPfns[i] = Vm.HMM_PFN_ERROR;
                continue;
            }
            long sticky = r.hmmPfns[i] & (Vm.HMM_PFN_DMA_MAPPED | Vm.HMM_PFN_P2PDMA | Vm.HMM_PFN_P2PDMA_BUS);
            // a PMD-mapped THP or a hugetlb page: its order (hmm_vma_handle_pmd / walk_hugetlb_entry)
            r.hmmPfns[i] = p.pfn() | Vm.HMM_PFN_VALID | (p.writable() ? Vm.HMM_PFN_WRITE : 0) | sticky
                    | Vm.hmmPfnFlagsOrder(p.order());
        }
        return 0;
    }
}
