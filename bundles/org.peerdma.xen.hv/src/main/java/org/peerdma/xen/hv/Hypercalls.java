package org.peerdma.xen.hv;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.IntConsumer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The hypercall interface of one domain, bound to its id. Everything a domain's kernel can do
 * below itself goes through here; it reaches another domain's memory only by mapping a grant that
 * domain made to it. Calls from a paused domain wait until it is unpaused (its vCPUs do not run);
 * calls from a dying domain throw {@link XenError} ESRCH.
 */
@ProviderType
public interface Hypercalls {
    int domid();

    DomainState state();

    // ---------------------------------------------------------------- memory

    /** @return the number of pseudo-physical pages (gfns 0..n-1) the domain has. */
    long nrPages();

    /**
     * page - the domain's own page {@code gfn}: its machine frame's real memory (a 4 KiB view).
     * Errors: XenError EINVAL for a gfn outside the domain's memory.
     */
    ByteBuffer page(long gfn);

    /** @return the machine frame behind {@code gfn} (what a PV guest puts in grant entries is the gfn). */
    long gfnToMfn(long gfn);

    // ---------------------------------------------------------------- grant table (v1)

    /** @return grant entries set up now (frames x 512). */
    int grantEntries();

    /** @return the most grant-table frames this domain may set up (gnttab_max_frames). */
    int maxGrantFrames();

    /**
     * setupTable - GNTTABOP_setup_table/gnttab_expand: grow the table to {@code frames} frames.
     * Return: GNTST_okay; GNTST_general_error above maxGrantFrames (the table keeps its size).
     */
    int setupTable(int frames);

    /**
     * writeEntry - the guest writing its shared grant entry {@code ref}: domid and frame first, then
     * (after a write barrier) the flags, as gnttab_update_entry_v1 does. Errors: XenError EINVAL for
     * a ref outside the table.
     */
    void writeEntry(int ref, int flags, int domid, long gfn);

    /** @return the entry's flags as the hypervisor leaves them (GTF_reading/GTF_writing while mapped). */
    int entryFlags(int ref);

    /** @return the grantee domid written in the entry. */
    int entryDomid(int ref);

    /**
     * clearEntry - the cmpxchg loop of gnttab_end_foreign_access_ref_v1: set the flags to 0 unless
     * GTF_reading or GTF_writing is set. Return: true when cleared, false while the grantee maps it.
     */
    boolean clearEntry(int ref);

    /**
     * mapGrantRef - GNTTABOP_map_grant_ref of {@code granter}'s entry {@code ref} into this domain
     * with GNTMAP_* {@code flags}. Status: GNTST_bad_gntref when neither host_map nor device_map is
     * asked or the ref is outside the granter's table; GNTST_bad_domain when the granter does not
     * exist or is dying (a domain may map its own grants, as current Xen allows); GNTST_general_error
     * when the entry is not permit_access for this
     * domain or a writable map of a read-only grant is asked; GNTST_no_device_space when the
     * maptrack table is full.
     */
    GrantMap mapGrantRef(int granter, int ref, int flags);

    /** unmapGrantRef - GNTTABOP_unmap_grant_ref. Status: GNTST_bad_handle for an unknown handle. */
    int unmapGrantRef(int handle);

    /** @return this domain's live grant mappings of other domains' frames (handles). */
    List<Integer> grantHandles();

    // ---------------------------------------------------------------- event channels

    /**
     * evtchnAllocUnbound - EVTCHNOP_alloc_unbound: a port that {@code remoteDomid} may bind.
     * Return: the port, or -ESRCH (no such domain), -ENOSPC (no free port).
     */
    int evtchnAllocUnbound(int remoteDomid);

    /**
     * evtchnBindInterdomain - EVTCHNOP_bind_interdomain to {@code remotePort} of {@code remoteDomid}.
     * Return: the local port, or -ESRCH (no such domain), -EINVAL (the remote port is not unbound
     * for this domain), -ENOSPC.
     */
    int evtchnBindInterdomain(int remoteDomid, int remotePort);

    /** evtchnSend - EVTCHNOP_send: mark the remote end pending. Return: 0 or -EINVAL (port not bound). */
    int evtchnSend(int port);

    /**
     * evtchnClose - EVTCHNOP_close: the port becomes free; an interdomain peer's port goes back to
     * unbound. Return: 0 or -EINVAL.
     */
    int evtchnClose(int port);

    /**
     * evtchnHandler - what runs (on this domain's event thread) when the port is signalled: the
     * upcall the domain's kernel binds to the port's irq. Pending events coalesce, as the pending
     * bit does. Return: 0 or -EINVAL for a free port.
     */
    int evtchnHandler(int port, IntConsumer handler);

    /** @return "free", "unbound(d)", "interdomain(d:p)" for diagnostics. */
    String evtchnStatus(int port);

    // ---------------------------------------------------------------- shared-memory devices

    /**
     * shmemAttach - attach to the shared-memory device {@code name} the toolstack gave this domain.
     * Errors: XenError ENOENT (no such region), EACCES (not configured for this domain), EBUSY
     * (already attached).
     */
    ShmemRegion shmemAttach(String name);

    // ---------------------------------------------------------------- xenstore

    /** xsRead - XS_READ. Errors: XenError ENOENT, EACCES. */
    String xsRead(String path);

    /** xsWrite - XS_WRITE, creating missing parents. Errors: XenError EACCES, EINVAL (bad path). */
    void xsWrite(String path, String value);

    /** xsMkdir - XS_MKDIR. Errors as xsWrite. */
    void xsMkdir(String path);

    /** xsRm - XS_RM of a node and its children. Errors: ENOENT, EACCES. */
    void xsRm(String path);

    /** xsDirectory - XS_DIRECTORY: child names, sorted. Errors: ENOENT, EACCES. */
    List<String> xsDirectory(String path);

    /**
     * xsSetPerms - XS_SET_PERMS: "n0" / "r5" ... entries, the first naming the owner and the
     * default for everybody else. Errors: EACCES (only the owner or dom0), ENOENT, EINVAL.
     */
    void xsSetPerms(String path, List<String> perms);

    /** @return the node's permissions as XS_GET_PERMS lists them. */
    List<String> xsGetPerms(String path);

    /**
     * xsWatch - XS_WATCH: the callback fires once at once (as xenstored does) and then for every
     * change at or below {@code path}, or for "@introduceDomain"/"@releaseDomain". Errors: EINVAL.
     */
    XsWatch xsWatch(String path, String token, XsWatch.Callback callback);
}
