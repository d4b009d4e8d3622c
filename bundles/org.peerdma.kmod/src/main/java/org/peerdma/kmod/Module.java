package org.peerdma.kmod;

import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.namespace.IdentityNamespace;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRevision;

/**
 * A bundle seen as a kernel module. A bundle names itself a module with the capability
 * {@code peerdma.module; peerdma.module=NAME; pids:List<String>="..."; runtime:List<String>="..."}:
 * its short name, the configuration PIDs holding its parameters, and which parameters may change
 * while it is loaded (the rest are load-time only, like a module parameter with mode 0444).
 * Other bundles are modules named by their symbolic name.
 */
record Module(Bundle bundle, String name, List<String> pids, List<String> runtimeParams, boolean declared) {
    static final String NAMESPACE = "peerdma.module";

    static Module of(Bundle b) {
        BundleRevision rev = b.adapt(BundleRevision.class);
        if (rev != null) {
            for (BundleCapability c : rev.getDeclaredCapabilities(NAMESPACE)) {
                Object n = c.getAttributes().get(NAMESPACE);
                if (n instanceof String name) {
                    return new Module(b, name, strings(c.getAttributes().get("pids")),
                            strings(c.getAttributes().get("runtime")), true);
                }
            }
            for (BundleCapability c : rev.getDeclaredCapabilities(IdentityNamespace.IDENTITY_NAMESPACE)) {
                Object n = c.getAttributes().get(IdentityNamespace.IDENTITY_NAMESPACE);
                if (n instanceof String name) {
                    return new Module(b, name, List.of(), List.of(), false);
                }
            }
        }
        String bsn = b.getSymbolicName();
        return new Module(b, bsn == null ? "bundle" + b.getBundleId() : bsn, List.of(), List.of(), false);
    }

    /** The List&lt;String&gt; attribute of the capability (or a comma-separated string), blanks dropped. */
    static List<String> strings(Object o) {
        if (o instanceof List<?> l) {
            return l.stream().map(String::valueOf).filter(s -> !s.isBlank()).toList();
        }
        if (o instanceof String s && !s.isBlank()) {
            return List.of(s.split("\\s*,\\s*"));
        }
        return List.of();
    }

    boolean isLoaded() {
        return (bundle.getState() & (Bundle.ACTIVE | Bundle.STARTING)) != 0;
    }

    boolean matches(String query) {
        return matches(name, bundle.getSymbolicName(), bundle.getBundleId(), query);
    }

    /**
     * matches - whether {@code query} names the module: its module name ('-' and '_' alike, as modprobe
     * takes them), its symbolic name or its bundle id.
     */
    static boolean matches(String name, String bsn, long id, String query) {
        String q = query.replace('-', '_');
        return name.replace('-', '_').equals(q) || query.equals(bsn) || q.equals(bsn) || query.equals(String.valueOf(id));
    }
}
