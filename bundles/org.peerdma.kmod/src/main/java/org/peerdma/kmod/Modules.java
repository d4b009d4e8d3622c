package org.peerdma.kmod;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.module.ModuleUsage;

/** Who uses a module: loaded modules wired to its packages or holding its services, and live objects. */
final class Modules {
    private final BundleContext ctx;

    Modules(BundleContext ctx) {
        this.ctx = ctx;
    }

    List<Module> all() {
        List<Module> l = new ArrayList<>();
        for (Bundle b : ctx.getBundles()) {
            if (b.getBundleId() != 0) {
                l.add(Module.of(b));
            }
        }
        l.sort(Comparator.comparing(Module::name));
        return l;
    }

    /** find - the module by name, symbolic name or bundle id. Errors: ENOENT. */
    Module find(String name) {
        if (name == null || name.isBlank()) {
            throw KernelException.einval("no module name given");
        }
        for (Module m : all()) {
            if (m.matches(name.strip())) {
                return m;
            }
        }
        throw new KernelException(Errno.ENOENT, "Module " + name + " not found (see lsmod -a for installed modules)");
    }

    /** Loaded modules that depend on {@code m}: package wires into it or services of it in use. */
    Set<Module> users(Module m) {
        Set<Bundle> users = new LinkedHashSet<>();
        BundleWiring w = m.bundle().adapt(BundleWiring.class);
        if (w != null) {
            for (BundleWire wire : w.getProvidedWires(null)) {
                users.add(wire.getRequirerWiring().getBundle());
            }
        }
        ServiceReference<?>[] regs = m.bundle().getRegisteredServices();
        if (regs != null) {
            for (ServiceReference<?> r : regs) {
                if (r.getProperty("osgi.command.scope") != null || Boolean.parseBoolean(
                        String.valueOf(r.getProperty("peerdma.whiteboard")))) {
                    continue; // shell commands and whiteboard plug-ins make nobody depend on a module
                }
                Bundle[] using = r.getUsingBundles();
                if (using != null) {
                    users.addAll(List.of(using));
                }
            }
        }
        Set<Module> out = new LinkedHashSet<>();
        for (Bundle b : users) {
            if (b.getBundleId() != 0 && b != m.bundle() && (b.getState() & (Bundle.ACTIVE | Bundle.STARTING)) != 0) {
                out.add(Module.of(b));
            }
        }
        return out;
    }

    /** Live objects the module reports through its ModuleUsage services. */
    List<String> holders(Module m) {
        List<String> out = new ArrayList<>();
        try {
            Collection<ServiceReference<ModuleUsage>> refs = ctx.getServiceReferences(ModuleUsage.class, null);
            for (ServiceReference<ModuleUsage> r : refs) {
                if (r.getBundle() != m.bundle()) {
                    continue;
                }
                ModuleUsage u = ctx.getService(r);
                if (u != null) {
                    try {
                        out.addAll(u.holders());
                    } finally {
                        ctx.ungetService(r);
                    }
                }
            }
        } catch (InvalidSyntaxException ex) {
            throw new IllegalStateException(ex);
        }
        return out;
    }

    /** Modules {@code m} imports packages from (its depends: line). */
    Set<Module> dependencies(Module m) {
        Set<Module> out = new LinkedHashSet<>();
        BundleWiring w = m.bundle().adapt(BundleWiring.class);
        if (w != null) {
            for (BundleWire wire : w.getRequiredWires(null)) {
                Bundle p = wire.getProviderWiring().getBundle();
                if (p.getBundleId() != 0 && p != m.bundle()) {
                    out.add(Module.of(p));
                }
            }
        }
        return out;
    }

    static String header(Bundle b, String name) {
        String v = b.getHeaders().get(name);
        return v == null ? "" : v;
    }

    static String description(Bundle b) {
        String d = header(b, Constants.BUNDLE_DESCRIPTION);
        return d.isEmpty() ? header(b, Constants.BUNDLE_NAME) : d;
    }
}
