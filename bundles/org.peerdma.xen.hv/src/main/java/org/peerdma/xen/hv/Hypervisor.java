package org.peerdma.xen.hv;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The machine: its memory in 4 KiB frames and the domains on it, as the toolstack in dom0 drives it
 * (XEN_DOMCTL). Domain 0 exists from boot. A destroyed or crashed domain dies at once (its event
 * channels closed, its own grant mappings released, its xenstore directory removed,
 * "@releaseDomain" fired) but stays dying while another domain still maps one of its frames.
 */
@ProviderType
public interface Hypervisor {
    /** @return the hypercall interface bound to {@code domid}. Errors: XenError ESRCH. */
    Hypercalls hypercalls(int domid);

    /**
     * create - XEN_DOMCTL_createdomain plus populate_physmap: a running domain with {@code pages}
     * frames (zeroed), a grant table of 1 frame growable to {@code maxGrantFrames}, and its xenstore
     * directory /local/domain/ID (name, domid) owned by it. Errors: XenError EINVAL (bad name,
     * pages &lt; 1, maxGrantFrames &lt; 1), EEXIST (the name is taken by a live domain), ENOMEM
     * (not enough free frames: nothing is taken).
     */
    DomainInfo create(String name, long pages, int maxGrantFrames);

    /** destroy - xl destroy. Errors: XenError ESRCH; EPERM for dom0. */
    void destroy(int domid);

    /** crash - the domain crashes (no clean shutdown): as destroy, the state says CRASHED. */
    void crash(int domid);

    /** pause / unpause - XEN_DOMCTL_pausedomain: its calls wait and its events queue. Errors: ESRCH, EPERM for dom0. */
    void pause(int domid);

    void unpause(int domid);

    /** @return every domain not yet dead, by id. */
    List<DomainInfo> list();

    Optional<DomainInfo> info(int domid);

    /**
     * shmemCreate - a shared-memory device of {@code bytes} (zeroed, page multiple) that the listed
     * domains may attach to, as a toolstack configures ivshmem for its VMs; dom0 may always attach.
     * Adding domains to an existing region of the same size is allowed. Errors: XenError EINVAL (bad
     * name or size), EEXIST (same name, other size).
     */
    void shmemCreate(String name, long bytes, java.util.List<Integer> domids);

    /** shmemAllow - let another domain attach to an existing region. Errors: ENOENT. */
    void shmemAllow(String name, int domid);

    /** @return machine frames in total and free now. */
    long totalFrames();

    long freeFrames();
}
