package org.peerdma.mm.vm;

import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A process's address space (mm_struct). Results are the syscalls': an address or 0, or -errno.
 * Pages are real memory: anonymous pages come from the kernel's RAM map and are freed when
 * unmapped; every change to a present page tells the interval notifiers first.
 */
@ProviderType
public interface Mm {
    String name();

    /** @return the mmap_lock (read for faults and walks, write for mmap/munmap/mprotect). */
    ReentrantReadWriteLock mmapLock();

    /**
     * mmap - addr 0 lets the kernel choose (from 0x7f00_0000_0000 down); MAP_FIXED replaces what was
     * there. MAP_HUGETLB (anonymous only) maps 2 MiB hugetlb pages: the length is rounded up to 2 MiB
     * and the pages are reserved from the pool now (-ENOMEM when it has too few free); munmap and
     * mprotect of it must keep to 2 MiB boundaries (-EINVAL). Return: the address; -EINVAL (length 0, unaligned addr or pgoff, neither or both of
     * MAP_SHARED/MAP_PRIVATE, a file range past its end), -ENOMEM (no room), -EACCES (write to a
     * file opened... not modelled: files are read-write).
     */
    long mmap(long addr, long length, int prot, int flags, VmFile file, long pgoff);

    /** mmapSpecial - what a driver's mmap sets up: a VM_IO|VM_PFNMAP vma with its operations. Errors as mmap. */
    long mmapSpecial(long addr, long length, int prot, VmOps ops);

    /**
     * mmapDevice - a driver's file mmap without VM_IO/VM_PFNMAP (like /dev/hmm_dmirror's): a vma with
     * the driver's operations, which its mmap handler fills with {@link #insertPage}. Errors as mmap.
     */
    long mmapDevice(long addr, long length, int prot, int flags, VmOps ops);

    /**
     * insertPage - vm_insert_page: map a page from {@link #allocPage} (the mapping then owns it: freed
     * when unmapped) or a ZONE_DEVICE page such as a p2pdma pool page (the page table holds a
     * reference, dropped when unmapped) at addr; the vma becomes VM_MIXEDMAP. The pte is writable
     * only in a shared writable mapping: a private one copies on write. Return: 0; -EINVAL (outside
     * the vma, a PFNMAP vma, neither kind of page); -EBUSY (already mapped).
     */
    int insertPage(Vma vma, long addr, long pfn);

    /**
     * unmapMappingRange - unmap_mapping_range for one file's mappings in this mm: the ptes of every vma
     * created with {@code ops} (the file's mapping) that fall in [start, start + length) are zapped, their
     * page references dropped, the vmas kept (a later access faults through {@code ops}). Used when a
     * device's memory goes away under a user mapping (p2pdma_unmap_mappings).
     * Return: the number of ptes zapped; -EINVAL for an unaligned or empty range.
     */
    long unmapMappingRange(VmOps ops, long start, long length);

    /**
     * madvise - MADV_HUGEPAGE / MADV_NOHUGEPAGE: whether anonymous private memory of the range may be
     * mapped by transparent huge pages (2 MiB, when a whole aligned block fits in the vma). Return: 0;
     * -EINVAL (unaligned, other advice, a hugetlb or special vma); -ENOMEM (part of the range unmapped).
     */
    int madvise(long addr, long length, int advice);

    /** insertPfn - vmf_insert_pfn: a special pte at addr (inside a PFNMAP vma). Return: 0 or -EINVAL/-EBUSY. */
    int insertPfn(Vma vma, long addr, long pfn, boolean writable);

    /** munmap - Return: 0; -EINVAL for an unaligned address or length 0. Holes are fine. */
    int munmap(long addr, long length);

    /** mprotect - Return: 0; -EINVAL (unaligned, bad prot); -ENOMEM (part of the range unmapped); -EACCES (write on a VM_MAYWRITE-less vma). */
    int mprotect(long addr, long length, int prot);

    /** @return the vma containing addr, or null. */
    Vma findVma(long addr);

    List<Vma> vmas();

    /**
     * handleFault - the CPU fault path for one address. Return: 0 when the page is present (and
     * writable for a write); -EFAULT (no vma, or a special vma that refused: SIGSEGV/SIGBUS);
     * -EACCES (the vma forbids the access: SIGSEGV).
     */
    int handleFault(long addr, boolean write);

    /** read / write - CPU accesses (faulting as needed). Return: bytes done, or -EFAULT/-EACCES. */
    int read(long addr, byte[] dst);

    int write(long addr, byte[] src);

    /**
     * A page-table entry as a walker sees it. {@code page} is the ZONE_DEVICE page for device
     * memory (org.peerdma.mm.Page), else null; {@code devicePrivate} entries are not present for
     * the CPU (a device-private swap entry); nor is a {@code migration} entry (a page being
     * migrated: CPU accesses wait for the migration to end) or a device-exclusive one. {@code zero}
     * is the shared zero page (read-only). {@code order} is the order of the mapping (0 for a
     * page, 9 for a PMD-mapped huge page).
     */
    record Pte(long pfn, boolean present, boolean writable, boolean special, Object page, boolean devicePrivate,
            Object exclusiveOwner, boolean migration, boolean zero, int order) {
        public static final Pte NONE = new Pte(0, false, false, false, null, false, null, false, false, 0);
    }

    /** @return the zero page's frame (is_zero_pfn): what a private anonymous read fault maps. */
    long zeroPfn();

    /**
     * migrationEntryWait - migration_entry_wait: if addr holds a migration entry, wait until the
     * migration ends (its finalize). Return: 0; -EINTR when interrupted.
     */
    int migrationEntryWait(long addr);

    /** The context migrate_to_ram gets (struct vm_fault). */
    record Fault(Mm mm, Vma vma, long address, boolean write) {
    }

    /**
     * migrateSetup - migrate_vma_setup. Return: 0; -EINVAL when the vma is missing or special,
     * the range is empty or outside it, src/dst are missing, or faultPage is not a device-private
     * page. Collects the selected pages (src: migrate pfn | MIGRATE | WRITE; an empty anonymous pte
     * gives MIGRATE alone) and tells the notifiers ("migrate").
     */
    int migrateSetup(Migrate args);

    /**
     * migratePages - migrate_vma_pages: entries whose dst is not VALID lose MIGRATE; a new page for
     * an empty pte only in an anonymous vma; file pages are not moved to device memory.
     */
    void migratePages(Migrate args);

    /**
     * migrateFinalize - migrate_vma_finalize: new pages in place of the migration entries, old ones
     * released, or the old restored; CPU accesses waiting on the entries go on.
     */
    void migrateFinalize(Migrate args);

    /** allocPage - a zeroed system page for a migration back to RAM (alloc_page); its pfn. Freed if not used. */
    long allocPage();

    /** frame - the memory behind a pfn this address space maps or allocated, or a ZONE_DEVICE page's. Errors: EFAULT. */
    java.nio.ByteBuffer frame(long pfn);

    /** @return the pte of addr (NONE when empty; devicePrivate for a device-private entry). */
    Pte pte(long addr);

    /**
     * insertNotifier - mmu_interval_notifier_insert. Errors: -EOVERFLOW (length 0 or wrapping),
     * -EINVAL (the address space has no users left), as KernelException.
     */
    MmuInterval insertNotifier(long start, long length, MmuInterval.Ops ops);

    /**
     * makeDeviceExclusive - make_device_exclusive for one page (mmap_lock held): the page is faulted in
     * writable, the notifiers are told ("exclusive", with {@code owner}), the pte becomes a
     * device-exclusive entry, and {@code map} gets its pfn while the page is still locked (the driver
     * maps it for its device there: a CPU access waits until it returns). The CPU's next access
     * restores the page, telling the notifiers (owner null) before going on.
     * Return: 1 (pages made exclusive); -EFAULT (no vma, not writable, hugetlb).
     */
    int makeDeviceExclusive(long addr, Object owner, java.util.function.LongConsumer map);

    /**
     * invalidationOwner - inside an invalidate callback: the owner the invalidation was started for
     * (mmu_notifier_range.owner), so a driver can skip its own "exclusive" invalidations; else null.
     */
    Object invalidationOwner();

    /** @return the global invalidate_seq (even when idle, odd while invalidating). */
    long invalidateSeq();

    /**
     * fork - dup_mmap: a child address space with the same vmas. Private anonymous pages are shared
     * copy-on-write (both sides write-protected, the notifiers told); shared ones stay shared; file,
     * special and device pages are mapped in both. Device-exclusive entries are restored first.
     */
    Mm fork(String childName);

    /**
     * oomReap - __oom_reap_task_mm: the private memory (not hugetlb, not PFNMAP) of a process killed
     * for OOM is freed before it exits, with non-blocking notifiers: a callback that would have to
     * sleep refuses, and that vma is left. The vmas stay. Return: 0; -EAGAIN when the mmap_lock was
     * taken or a notifier refused (the reaper tries again later).
     */
    int oomReap();

    /** mmget / mmput: users of the address space; at 0 everything is unmapped (mmput after that: EINVAL). */
    void mmget();

    void mmput();

    int users();

    /** @return anonymous pages this address space maps now (MM_ANONPAGES: copies, THP pages, device-private pages; not hugetlb). */
    long rssPages();
}
