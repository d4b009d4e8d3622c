package org.peerdma.mm.vm;

import org.osgi.annotation.versioning.ProviderType;

/**
 * struct mmu_interval_notifier: a driver's subscription to invalidations of [start, start+length)
 * of an address space, with the sequence protocol (mm/mmu_notifier.c).
 */
@ProviderType
public interface MmuInterval {
    long start();

    /** @return the last address covered (start + length - 1). */
    long last();

    /**
     * readBegin - mmu_interval_read_begin: the sequence to check later; waits while an invalidation
     * that covers this interval is running.
     */
    long readBegin();

    /** readRetry - mmu_interval_read_retry: whether an invalidation happened since {@code seq}. */
    boolean readRetry(long seq);

    /** checkRetry - mmu_interval_check_retry (lockless form). */
    boolean checkRetry(long seq);

    /** setSeq - mmu_interval_set_seq, called by the driver's invalidate callback with cur_seq. */
    void setSeq(long curSeq);

    /** @return the sequence this subscription holds now. */
    long seq();

    /** remove - mmu_interval_notifier_remove: waits for a running invalidation that can see it. */
    void remove();

    /** The driver's callback (mmu_interval_notifier_ops.invalidate). */
    @FunctionalInterface
    interface Ops {
        /**
         * invalidate - the range [start, end) is about to change ({@code event}: "unmap",
         * "protection", "clear", "migrate"). It must call setSeq(curSeq) and drop its mappings of
         * the range. Return false only when {@code blockable} is false and it would have to sleep.
         */
        boolean invalidate(MmuInterval sub, long start, long end, String event, boolean blockable, long curSeq);
    }
}
