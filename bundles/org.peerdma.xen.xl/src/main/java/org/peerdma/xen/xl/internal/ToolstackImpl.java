package org.peerdma.xen.xl.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.module.ModuleUsage;
import org.peerdma.xen.hv.DomainInfo;
import org.peerdma.xen.hv.Hypercalls;
import org.peerdma.xen.hv.Hypervisor;
import org.peerdma.xen.hv.Machines;
import org.peerdma.xen.hv.XenError;
import org.peerdma.xen.xl.Toolstack;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Boots dom0's view of the machine (Hypervisor and dom0's Hypercalls as services) and runs guests.
 * Stopping this bundle destroys every guest it started: nothing it made is left running unreachable.
 */
@Component(service = {Toolstack.class, ModuleUsage.class}, immediate = true)
public class ToolstackImpl implements Toolstack, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("xl");
    /** Framework property naming the domain a framework is the kernel of. */
    public static final String DOMID = "peerdma.xen.domid";
    static final String HV_PACKAGE = "org.peerdma.xen.hv;version=1.0.0";

    private BundleContext ctx;
    private Hypervisor hv;
    private final List<ServiceRegistration<?>> regs = new ArrayList<>();
    private final Map<Integer, Guest> guests = new ConcurrentHashMap<>();

    record Guest(int domid, String name, Framework fw, Path storage) {
    }

    @Activate
    void activate(BundleContext context) {
        String d = context.getProperty(DOMID);
        if (d != null && !"0".equals(d.trim())) {
            throw new IllegalStateException("xl runs in dom0 only; this framework is domain " + d);
        }
        ctx = context;
        hv = Machines.current();
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(DOMID, 0);
        regs.add(context.registerService(Hypervisor.class, hv, p));
        regs.add(context.registerService(Hypercalls.class, hv.hypercalls(0), p));
        LOG.info("xen: machine of {} frames, {} free; dom0 hypercalls registered", hv.totalFrames(), hv.freeFrames());
    }

    @Deactivate
    void deactivate() {
        for (Guest g : List.copyOf(guests.values())) {
            try {
                destroy(Integer.toString(g.domid));
            } catch (RuntimeException e) {
                LOG.warn("d{}: {}", g.domid, e.getMessage());
            }
        }
        regs.forEach(ServiceRegistration::unregister);
        regs.clear();
    }

    static KernelException from(XenError e) {
        return new KernelException(Errno.of(e.errno()).orElse(Errno.EIO), e.getMessage());
    }

    // ---------------------------------------------------------------- create

    @Override
    public DomainInfo create(Map<String, String> config) {
        Map<String, String> cfg = new HashMap<>(config);
        for (String k : cfg.keySet()) {
            if (!KEYS.contains(k)) {
                throw KernelException.einval("unknown domain configuration key '%s' (known: %s)", k, String.join(", ", KEYS));
            }
        }
        String name = cfg.get("name");
        if (name == null || name.isBlank()) {
            throw KernelException.einval("a domain needs a name (name=...)");
        }
        long memMb = number(cfg, "memory", 64);
        int maxGrant = (int) number(cfg, "maxgrantframes", 32);
        if (memMb < 1 || memMb > 65536) {
            throw KernelException.einval("memory=%d MiB: must be 1 to 65536", memMb);
        }
        List<String> names = cfg.containsKey("bundles")
                ? Stream.of(cfg.get("bundles").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()
                : kernel(cfg.getOrDefault("kernel", "guest"));
        Map<String, Bundle> mine = new HashMap<>();
        for (Bundle b : ctx.getBundles()) {
            if (b.getSymbolicName() != null) {
                mine.putIfAbsent(b.getSymbolicName(), b);
            }
        }
        List<Bundle> kernel = new ArrayList<>();
        for (String n : names) {
            Bundle b = mine.get(n);
            if (b == null) {
                throw KernelException.einval("dom0 has no bundle '%s' to give domain %s", n, name);
            }
            kernel.add(b);
        }
        DomainInfo info;
        try {
            info = hv.create(name, (memMb << 20) >> 12, maxGrant);
        } catch (XenError e) {
            throw from(e);
        }
        if (cfg.containsKey("ivshmem")) {
            try {
                for (String r : cfg.get("ivshmem").split(",")) {
                    if (!r.isBlank()) {
                        hv.shmemCreate(r.trim(), 16L << 20, List.of(info.domid()));
                    }
                }
            } catch (XenError e) {
                hv.destroy(info.domid());
                throw from(e);
            }
        }
        try {
            Guest g = launch(info, kernel);
            guests.put(info.domid(), g);
        } catch (Exception e) {
            LOG.error("d{} ({}): its kernel did not start: {}", info.domid(), name, e.toString());
            hv.destroy(info.domid());
            throw new KernelException(Errno.EIO, "domain " + name + ": its kernel did not start: " + e.getMessage(), e);
        }
        LOG.info("d{} ({}) created: {} MiB, {} bundles", info.domid(), name, memMb, kernel.size());
        return hv.info(info.domid()).orElse(info);
    }

    private static long number(Map<String, String> cfg, String key, long dflt) {
        String v = cfg.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw KernelException.einval("%s=%s is not a number", key, v);
        }
    }

    private Guest launch(DomainInfo info, List<Bundle> kernel) throws Exception {
        Path storage = Files.createTempDirectory("peerdma-d" + info.domid() + "-");
        Map<String, String> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        props.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, HV_PACKAGE);
        props.put(DOMID, Integer.toString(info.domid()));
        props.put("peerdma.xen.name", info.name());
        props.put("peerdma.topology", "none");
        props.put("gosh.args", "--nointeractive");
        for (String k : List.of("org.slf4j.simpleLogger.defaultLogLevel", "org.slf4j.simpleLogger.logFile",
                "org.slf4j.simpleLogger.showDateTime")) {
            if (ctx.getProperty(k) != null) {
                props.put(k, ctx.getProperty(k));
            }
        }
        FrameworkFactory ff = ServiceLoader.load(FrameworkFactory.class, FrameworkFactory.class.getClassLoader())
                .findFirst().orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        Framework fw = ff.newFramework(props);
        fw.init();
        try {
            BundleContext g = fw.getBundleContext();
            Dictionary<String, Object> p = new Hashtable<>();
            p.put(DOMID, info.domid());
            g.registerService(Hypercalls.class, hv.hypercalls(info.domid()), p);
            List<Bundle> installed = new ArrayList<>();
            for (Bundle b : kernel) {
                try (InputStream in = BundleCopy.jar(b)) {
                    installed.add(g.installBundle("xen:d" + info.domid() + "/" + b.getSymbolicName(), in));
                }
            }
            fw.start();
            for (Bundle b : installed) {
                if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    b.start();
                }
            }
            return new Guest(info.domid(), info.name(), fw, storage);
        } catch (Exception | Error e) {
            stop(fw);
            deleteTree(storage);
            throw e;
        }
    }

    // ---------------------------------------------------------------- lifecycle

    private int resolve(String domain) {
        if (domain == null || domain.isBlank()) {
            throw KernelException.einval("no domain named");
        }
        for (DomainInfo d : hv.list()) {
            if (d.name().equals(domain) || Integer.toString(d.domid()).equals(domain.trim())) {
                if (d.state() == org.peerdma.xen.hv.DomainState.CRASHED
                        || d.state() == org.peerdma.xen.hv.DomainState.DYING) {
                    continue;
                }
                return d.domid();
            }
        }
        throw new KernelException(Errno.ESRCH, "no live domain '" + domain + "'");
    }

    @Override
    public void destroy(String domain) {
        int id = resolve(domain);
        if (id == 0) {
            throw new KernelException(Errno.EPERM, "dom0 cannot be destroyed");
        }
        Guest g = guests.remove(id);
        if (g != null) {
            stop(g.fw); // its kernel shuts down first: drivers end their grants, close channels
            deleteTree(g.storage);
        }
        try {
            hv.destroy(id);
        } catch (XenError e) {
            throw from(e);
        }
        LOG.info("d{} destroyed", id);
    }

    @Override
    public void crash(String domain) {
        int id = resolve(domain);
        if (id == 0) {
            throw new KernelException(Errno.EPERM, "dom0 cannot be crashed from here");
        }
        try {
            hv.crash(id); // first: from now on every hypercall of its kernel fails
        } catch (XenError e) {
            throw from(e);
        }
        Guest g = guests.remove(id);
        if (g != null) {
            stop(g.fw);
            deleteTree(g.storage);
        }
        LOG.warn("d{} crashed", id);
    }

    @Override
    public void pause(String domain) {
        int id = resolve(domain);
        try {
            hv.pause(id);
        } catch (XenError e) {
            throw from(e);
        }
    }

    @Override
    public void unpause(String domain) {
        int id = resolve(domain);
        try {
            hv.unpause(id);
        } catch (XenError e) {
            throw from(e);
        }
    }

    @Override
    public List<DomainInfo> list() {
        return hv.list();
    }

    @Override
    public BundleContext context(String domain) {
        int id = resolve(domain);
        Guest g = guests.get(id);
        if (g == null) {
            throw new KernelException(Errno.ESRCH, "domain " + domain + " has no framework started by this toolstack");
        }
        return g.fw.getBundleContext();
    }

    @Override
    public String exec(String domain, String command) {
        return GuestShell.exec(context(domain), command);
    }

    @Override
    public List<String> kernel(String name) {
        if (name == null || !name.matches("[a-z0-9_-]+")) {
            throw KernelException.einval("kernel list name '%s'", name);
        }
        var url = ToolstackImpl.class.getResource("/kernels/" + name + ".list");
        if (url == null) {
            throw new KernelException(Errno.ENOENT, "no kernel list '" + name + "'");
        }
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(url.openStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null;) {
                l = l.strip();
                if (!l.isEmpty() && !l.startsWith("#")) {
                    out.add(l);
                }
            }
        } catch (IOException e) {
            throw new KernelException(Errno.EIO, "kernel list " + name + ": " + e.getMessage());
        }
        return out;
    }

    @Override
    public Map<Integer, String> guests() {
        Map<Integer, String> out = new TreeMap<>();
        guests.forEach((k, v) -> out.put(k, v.name()));
        return out;
    }

    @Override
    public List<String> holders() {
        return guests.values().stream().sorted(Comparator.comparingInt(Guest::domid))
                .map(g -> "domain " + g.name() + " (id " + g.domid() + ")").toList();
    }

    private static void stop(Framework fw) {
        try {
            fw.stop();
            fw.waitForStop(10_000);
        } catch (BundleException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("guest framework did not stop cleanly: {}", e.toString());
        }
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            LOG.debug("{}: {}", p, e.toString());
        }
    }

    /**
     * parse - xl create's arguments: a configuration file (xl.cfg's {@code key = value} lines,
     * read with java.util.Properties; quotes and list brackets dropped, so {@code bundles = ["a",
     * "b"]} is "a,b"), then KEY=VALUE overrides, as {@code xl create FILE key=value}. Errors:
     * ENOENT for an unreadable file, EINVAL for an argument that is neither.
     */
    static Map<String, String> parse(List<String> args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String a : args) {
            if (a.indexOf('=') < 0) {
                java.util.Properties p = new java.util.Properties();
                try (var in = Files.newBufferedReader(Path.of(a), StandardCharsets.UTF_8)) {
                    p.load(in);
                } catch (IOException | java.nio.file.InvalidPathException e) {
                    throw new KernelException(Errno.ENOENT, "domain configuration file " + a + ": " + e.getMessage());
                }
                for (String k : p.stringPropertyNames()) {
                    m.put(k.trim(), unquote(p.getProperty(k)));
                }
            }
        }
        for (String kv : args) {
            int i = kv.indexOf('=');
            if (i == 0) {
                throw KernelException.einval("'%s' is not KEY=VALUE", kv);
            }
            if (i > 0) {
                m.put(kv.substring(0, i).trim(), unquote(kv.substring(i + 1)));
            }
        }
        return m;
    }

    private static String unquote(String v) {
        String t = v.trim();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        StringBuilder out = new StringBuilder();
        for (String part : t.split(",")) {
            String p = part.trim();
            if (p.length() >= 2 && (p.startsWith("\"") && p.endsWith("\"") || p.startsWith("'") && p.endsWith("'"))) {
                p = p.substring(1, p.length() - 1);
            }
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(p);
        }
        return out.toString();
    }
}
