package org.peerdma.xen.gnttab;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.xen.hv.Hypercalls;

/**
 * gnttab_* for this domain. Refs 0..7 are reserved (0 console, 1 xenstore) and never handed out;
 * freeing one does nothing. The table grows a frame at a time (gnttab_expand) up to the domain's
 * maximum; past it allocation fails with -ENOSPC.
 */
@ProviderType
public interface GrantTable {
    int NR_RESERVED_ENTRIES = 8;
    /** The deferred-end timer's period (HZ: one second). */
    long DEFERRED_PERIOD_MS = 1000;
    /** Deferred entries retried per timer pass (free_per_iteration). */
    int FREE_PER_ITERATION = 10;
    /** Passes after which a deferred entry is reported "still pending" (warn_delay). */
    int WARN_DELAY = 60;

    /** @return the hypercall interface of this domain. */
    Hypercalls hypercalls();

    /**
     * grantForeignAccess - gnttab_grant_foreign_access(domid, frame, readonly): a free ref, filled as
     * GTF_permit_access (| GTF_readonly). Return: the ref, or -ENOSPC. Errors: XenError ESRCH once this domain
     * is dying (its calls fail); no ref is taken then.
     */
    int grantForeignAccess(int domid, long gfn, boolean readonly);

    /** grantForeignAccessRef - gnttab_grant_foreign_access_ref on a ref already claimed. */
    void grantForeignAccessRef(int ref, int domid, long gfn, boolean readonly);

    /**
     * allocReferences - gnttab_alloc_grant_references: {@code count} refs put aside. Return: the refs,
     * or null for -ENOSPC (nothing taken).
     */
    int[] allocReferences(int count);

    /** freeReference - gnttab_free_grant_reference (a no-op for reserved refs). */
    void freeReference(int ref);

    /**
     * endForeignAccessRef - gnttab_end_foreign_access_ref: 1 when the entry was cleared, 0 (and a
     * "g.e. still in use!" warning) while the grantee still maps it. The ref stays allocated.
     */
    int endForeignAccessRef(int ref);

    /**
     * tryEndForeignAccess - gnttab_try_end_foreign_access: as endForeignAccessRef, freeing the ref on success.
     * Errors (this and endForeignAccessRef, endForeignAccess): EINVAL for a ref outside the table, a reserved
     * ref (0-7) or one that is not allocated.
     */
    boolean tryEndForeignAccess(int ref);

    /**
     * endForeignAccess - gnttab_end_foreign_access(ref, page): end it now (freeing the ref and
     * running {@code release}, e.g. freeing the page), or, while mapped, queue it: a timer retries
     * every second, {@value #FREE_PER_ITERATION} entries a pass, warning "still pending" after
     * {@value #WARN_DELAY} tries, and frees ref and page when the grantee has unmapped.
     */
    void endForeignAccess(int ref, Runnable release);

    /** @return refs free now (not counting reserved ones). */
    int freeCount();

    /** @return refs handed out and not yet freed. */
    int inUse();

    /** @return entries waiting in the deferred queue. */
    int deferredCount();

    /** @return grant entries filled since load (gnttab_grant_foreign_access and _ref calls), for statistics. */
    long grantsMade();
}
