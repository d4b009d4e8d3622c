package org.peerdma.mm.dmirror;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.mm.vm.Mm;

/**
 * One /dev/hmm_dmirrorN: a device with its own page table mirroring a process's address space
 * (kept in sync by an interval notifier) and its own DEVICE_PRIVATE memory. Results are the
 * ioctls': 0 or -errno; counters come back in the command.
 */
@ProviderType
public interface Dmirror {
    // test_hmm_uapi.h snapshot bytes
    byte PROT_ERROR = (byte) 0xFF;
    byte PROT_NONE = 0x00;
    byte PROT_READ = 0x01;
    byte PROT_WRITE = 0x02;
    byte PROT_PMD = 0x04;
    byte PROT_PUD = 0x08;
    byte PROT_ZERO = 0x10;
    byte PROT_DEV_PRIVATE_LOCAL = 0x20;
    byte PROT_DEV_PRIVATE_REMOTE = 0x30;
    byte PROT_DEV_COHERENT_LOCAL = 0x40;
    byte PROT_DEV_COHERENT_REMOTE = 0x50;

    /** struct hmm_dmirror_cmd. */
    final class Cmd {
        public long addr;
        /** The user buffer: READ fills it, WRITE takes from it, SNAPSHOT gets one byte per page. */
        public byte[] ptr;
        public long npages;
        public long cpages;
        public long faults;

        public Cmd(long addr, long npages, byte[] ptr) {
            this.addr = addr;
            this.npages = npages;
            this.ptr = ptr;
        }
    }

    /** @return the device's owner cookie (its pagemap owner). */
    Object owner();

    /**
     * allowPeer - let {@code importer} (another device) reach this device's private memory in place
     * (the RFC's devmem p2p_map); without it a peer's request migrates the page to RAM first.
     */
    void allowPeer(Object importer, boolean allow);

    /** @return peer mappings of this device's memory held now. */
    int peerMappings();

    /** HMM_DMIRROR_READ: copy the process's pages (faulted in through HMM) into ptr. -EFAULT, -EPERM as hmm_range_fault. */
    int read(Mm mm, Cmd cmd);

    /** HMM_DMIRROR_WRITE: copy ptr into the process's pages (write-faulted). */
    int write(Mm mm, Cmd cmd);

    /** HMM_DMIRROR_MIGRATE_TO_DEV: move the range to this device's memory; -ENOENT unless every page moved; -EINVAL for holes. */
    int migrateToDev(Mm mm, Cmd cmd);

    /** HMM_DMIRROR_MIGRATE_TO_SYS: bring this device's pages of the range back to system memory. */
    int migrateToSys(Mm mm, Cmd cmd);

    /** HMM_DMIRROR_SNAPSHOT: what the CPU page table holds, one byte per page, no faulting. */
    int snapshot(Mm mm, Cmd cmd);

    /**
     * HMM_DMIRROR_EXCLUSIVE: make the range's pages exclusive to this device (make_device_exclusive):
     * the CPU loses access until it touches them; the pages' data comes back in ptr when given.
     * Return: 0; -EFAULT (no vma, or not writable).
     */
    int exclusive(Mm mm, Cmd cmd);

    /**
     * HMM_DMIRROR_CHECK_EXCLUSIVE (dmirror_check_atomic): -EPERM while any page of the range is still
     * exclusive to the device; 0 once the CPU has taken every one back.
     */
    int checkExclusive(Mm mm, Cmd cmd);

    /**
     * mmap of the device file (dmirror_fops_mmap): zeroed system pages put in with vm_insert_page, so
     * the vma is VM_MIXEDMAP (the hmm-tests "mixedmap" case). Return: the address, or -errno.
     */
    long mmap(Mm mm, long length, int prot, int flags);

    /** @return device pages free now, and in total. */
    int freePages();

    int totalPages();

    /** release - the device file closes: its mirrors stop (notifiers removed). */
    void release(Mm mm);
}
