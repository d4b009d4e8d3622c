package org.peerdma.xen.xl;

import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;
import org.osgi.framework.BundleContext;
import org.peerdma.xen.hv.DomainInfo;

/**
 * xl. A guest is a domain of the hypervisor plus its own OSGi framework (its own kernel), whose
 * bundles are copies of dom0's, chosen by a kernel list; the framework's system bundle offers the
 * domain its Hypercalls service, bound to its id, and nothing else of dom0.
 */
@ProviderType
public interface Toolstack {
    /** The configuration keys create accepts. */
    List<String> KEYS = List.of("name", "memory", "maxgrantframes", "kernel", "bundles", "ivshmem");

    /**
     * create - xl create: {@code name} (required), {@code memory} in MiB (default 64),
     * {@code maxgrantframes} (default 32), {@code kernel} (a bundle list shipped with xl, default
     * "guest") or {@code bundles} (comma-separated symbolic names), {@code ivshmem} (names of
     * shared-memory devices, 16 MiB each, this domain may attach to: created on first use). Errors: EINVAL for an unknown
     * key, a bad value, or a bundle dom0 does not have; the hypervisor's errors (EEXIST, ENOMEM);
     * EIO when the guest framework fails to start (the domain is destroyed again).
     */
    DomainInfo create(Map<String, String> config);

    /** destroy - xl destroy: the guest's framework stops, then the domain is destroyed. Errors: ESRCH. */
    void destroy(String domain);

    /** crash - the domain crashes: the hypervisor kills it first, then its framework is torn down. */
    void crash(String domain);

    void pause(String domain);

    void unpause(String domain);

    /** @return xl list: every domain, dom0 first. */
    List<DomainInfo> list();

    /** exec - run one Gogo command in the domain's own shell; its output and result. Errors: ESRCH, EIO. */
    String exec(String domain, String command);

    /** @return the system bundle context of the guest's framework (for tests and drivers of dom0). Errors: ESRCH. */
    BundleContext context(String domain);

    /** @return the symbolic names of the bundles in a kernel list. Errors: ENOENT. */
    List<String> kernel(String name);

    /** @return the guests' domain ids with their framework (live ones). */
    Map<Integer, String> guests();
}
