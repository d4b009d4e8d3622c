package org.peerdma.kmod;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.AttributeDefinition;
import org.osgi.service.metatype.MetaTypeInformation;
import org.osgi.service.metatype.MetaTypeService;
import org.osgi.service.metatype.ObjectClassDefinition;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * lsmod, modprobe, rmmod, modinfo and modparam for bundles. Module parameters live in
 * ConfigAdmin under the PIDs a module declares, described by its metatype.
 */
@Component(service = KmodCommands.class, property = {"osgi.command.scope=kmod",
    "osgi.command.function=lsmod", "osgi.command.function=modprobe", "osgi.command.function=rmmod",
    "osgi.command.function=modinfo", "osgi.command.function=modparam"})
public class KmodCommands {
    private static final Logger LOG = LoggerFactory.getLogger("kmod");

    @Reference
    ConfigurationAdmin configAdmin;

    @Reference
    MetaTypeService metatype;

    /** To see when a component took a new configuration (its configuration DTO's properties). */
    @Reference
    org.osgi.service.component.runtime.ServiceComponentRuntime scr;

    private BundleContext ctx;
    private Modules modules;

    @Activate
    void activate(BundleContext context) {
        this.ctx = context;
        this.modules = new Modules(context);
    }

    @Descriptor("list loaded modules with their users (like lsmod); -a adds unloaded ones and what modprobe can "
            + "still load from the module path; -b adds the library bundles (Felix, Jackson, ...)")
    public String lsmod(@Descriptor("also modules not loaded: installed but stopped, or in the module path")
            @Parameter(names = {"-a", "--all"}, presentValue = "true", absentValue = "false") boolean all,
            @Descriptor("also the bundles that are not peerdma modules (framework, libraries)")
            @Parameter(names = {"-b", "--bundles"}, presentValue = "true", absentValue = "false") boolean bundles) {
        List<Module> mods = modules.all().stream().filter(m -> bundles || m.declared()).toList();
        List<String[]> available = all ? availableInModulePath(mods) : List.of();
        List<LsmodRow> rows = new ArrayList<>();
        for (Module m : mods) {
            if (!all && !m.isLoaded()) {
                continue;
            }
            Set<Module> users = m.isLoaded() ? modules.users(m) : Set.of();
            if (!bundles) {
                users = users.stream().filter(Module::declared).collect(Collectors.toCollection(java.util.LinkedHashSet::new));
            }
            List<String> holders = m.isLoaded() ? modules.holders(m) : List.of();
            rows.add(new LsmodRow(m.name(), size(m.bundle()), users.stream().map(Module::name).toList(), holders.size(),
                    state(m.bundle().getState())));
        }
        return lsmodTable(rows, available, all);
    }

    /** One line of lsmod: name, size, the modules using it, live objects it reports, its state. */
    record LsmodRow(String name, long size, List<String> users, int live, String state) {
    }

    /**
     * lsmodTable - the lsmod output: "Module Size Used by" with the name column as wide as the longest
     * name (at least 19, as lsmod's), the use count (users plus live objects), the users sorted,
     * "[N live]", the state with {@code all}, then what the module path can still load.
     */
    static String lsmodTable(List<LsmodRow> rows, List<String[]> available, boolean all) {
        int w = Math.max(19, Math.max(rows.stream().mapToInt(r -> r.name().length()).max().orElse(0),
                available.stream().mapToInt(a -> a[0].length()).max().orElse(0)) + 1);
        StringBuilder sb = new StringBuilder(String.format("%-" + w + "s %8s  %s%n", "Module", "Size", "Used by"));
        for (LsmodRow r : rows) {
            String by = r.users().stream().sorted().collect(Collectors.joining(","));
            String line = String.format("%-" + w + "s %8d  %d %s", r.name(), r.size(), r.users().size() + r.live(), by);
            if (r.live() > 0) {
                line += (by.isEmpty() ? "" : " ") + "[" + r.live() + " live]";
            }
            if (all) {
                line += "  " + r.state();
            }
            sb.append(line.stripTrailing()).append('\n');
        }
        for (String[] a : available) {
            sb.append(String.format("%-" + w + "s %8s  %s", a[0], a[1], "-  Available (modprobe " + a[0] + ")"))
                    .append('\n');
        }
        return sb.toString();
    }

    /** The modules of the module path that are not installed: [name, size] rows, by name. */
    private List<String[]> availableInModulePath(List<Module> installed) {
        Set<String> have = new java.util.HashSet<>();
        for (Module m : modules.all()) {
            have.add(m.name().replace('-', '_'));
            have.add(m.bundle().getSymbolicName());
        }
        return available(modpath(), have);
    }

    /**
     * available - the modules of the module path {@code dirs} that are not installed ({@code have}:
     * module and symbolic names): [name, size in bytes] rows, by name, the first jar of a name winning.
     * Jars without a module capability are left out.
     */
    static List<String[]> available(List<Path> dirs, Set<String> have) {
        java.util.TreeMap<String, String[]> out = new java.util.TreeMap<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path jar : s.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
                    List<String> names = jarNames(jar);
                    if (names.size() < 2 || names.stream().anyMatch(have::contains)) {
                        continue; // not a peerdma module (no module capability), or already installed
                    }
                    String name = names.get(names.size() - 1);
                    out.putIfAbsent(name, new String[] {name, String.valueOf(Files.size(jar))});
                }
            } catch (IOException ex) {
                LOG.warn("cannot list module path {}: {}", dir, ex.getMessage());
            }
        }
        return List.copyOf(out.values());
    }

    @Descriptor("load a module and what it depends on, installing it from the module path if needed; "
            + "NAME param=value ... sets load-time parameters")
    public String modprobe(@Descriptor("module name, symbolic name, bundle id or jar path") String name,
            @Descriptor("param=value settings") String... params) {
        Map<String, String> settings = ParamValues.parse(params);
        Module m = findOrInstall(name);
        if (m.isLoaded()) {
            if (settings.isEmpty()) {
                return m.name() + " is already loaded";
            }
            return modparamSet(m, settings);
        }
        applyParams(m, settings, false);
        List<String> loaded = new ArrayList<>();
        load(m, loaded, new ArrayList<>());
        return "loaded " + String.join(", ", loaded);
    }

    private void load(Module m, List<String> loaded, List<Module> path) {
        if (m.isLoaded()) {
            return;
        }
        if (path.contains(m)) {
            return;
        }
        path.add(m);
        Bundle b = m.bundle();
        FrameworkWiring fw = ctx.getBundle(0).adapt(FrameworkWiring.class);
        if (b.getState() == Bundle.INSTALLED && !fw.resolveBundles(List.of(b))) {
            throw new KernelException(Errno.ENOENT, "Unknown symbol in module " + m.name()
                    + ": its dependencies cannot be resolved (a module it imports from is not installed)");
        }
        for (Module dep : modules.dependencies(m)) {
            load(dep, loaded, path);
        }
        try {
            b.start(Bundle.START_TRANSIENT);
        } catch (BundleException ex) {
            throw new KernelException(Errno.EIO, "could not insert module " + m.name() + ": " + ex.getMessage(), ex);
        }
        loaded.add(m.name());
        LOG.info("modprobe: loaded {}", m.name());
    }

    @Descriptor("unload a module (like rmmod); refused while loaded modules or live objects use it unless -f")
    public String rmmod(@Descriptor("force: unload even while in use; users lose it and recover when it returns")
            @Parameter(names = {"-f", "--force"}, presentValue = "true", absentValue = "false") boolean force,
            @Descriptor("module name") String name) {
        Module m = modules.find(name);
        if (!m.isLoaded()) {
            throw new KernelException(Errno.ENOENT, "Module " + m.name() + " is not currently loaded");
        }
        if (m.bundle().getBundleId() == ctx.getBundle().getBundleId()) {
            throw new KernelException(Errno.EBUSY, "Module " + m.name() + " is the module tool itself");
        }
        Set<Module> users = modules.users(m);
        List<String> holders = modules.holders(m);
        StringBuilder warn = new StringBuilder();
        if (!users.isEmpty() || !holders.isEmpty()) {
            String msg = inUse(m.name(), users.stream().map(Module::name).toList(), holders);
            if (!force) {
                throw new KernelException(Errno.EBUSY, msg);
            }
            warn.append("forced: ").append(msg).append('\n');
        }
        try {
            m.bundle().stop(Bundle.STOP_TRANSIENT);
        } catch (BundleException ex) {
            throw new KernelException(Errno.EIO, "could not remove module " + m.name() + ": " + ex.getMessage(), ex);
        }
        LOG.info("rmmod: unloaded {}{}", m.name(), force ? " (forced)" : "");
        return warn + "unloaded " + m.name();
    }

    /** The EBUSY text of rmmod: "Module X is in use by: a b (N live: ...)". */
    static String inUse(String name, List<String> users, List<String> holders) {
        return "Module " + name + " is in use"
                + (users.isEmpty() ? "" : " by: " + users.stream().sorted().collect(Collectors.joining(" ")))
                + (holders.isEmpty() ? "" : " (" + holders.size() + " live: " + String.join("; ", holders) + ")");
    }

    @Descriptor("show a module's information and parameters (like modinfo)")
    public String modinfo(@Descriptor("module name") String name) {
        Module m = modules.find(name);
        Bundle b = m.bundle();
        StringBuilder sb = new StringBuilder();
        row(sb, "filename", b.getLocation());
        row(sb, "name", m.name());
        row(sb, "version", Modules.header(b, Constants.BUNDLE_VERSION));
        row(sb, "description", Modules.description(b));
        row(sb, "license", Modules.header(b, "Bundle-License"));
        row(sb, "bsn", b.getSymbolicName());
        row(sb, "state", state(b.getState()));
        row(sb, "depends", modules.dependencies(m).stream().map(Module::name).sorted()
                .collect(Collectors.joining(",")));
        for (Param p : params(m)) {
            row(sb, "parm", p.name + ":" + p.description + " (" + p.type + ")" + (p.runtime ? "" : " [load time]"));
        }
        return sb.toString();
    }

    @Descriptor("show a module's parameters and values (/sys/module/NAME/parameters), or set those writable at run time")
    public String modparam(@Descriptor("module name") String name,
            @Descriptor("param=value settings; none to show") String... params) {
        Map<String, String> settings = ParamValues.parse(params);
        Module m = modules.find(name);
        if (!settings.isEmpty()) {
            if (!m.isLoaded()) {
                throw new KernelException(Errno.ENOENT, "module " + m.name() + " is not loaded: use modprobe "
                        + m.name() + " " + String.join(" ", params));
            }
            return modparamSet(m, settings);
        }
        StringBuilder sb = new StringBuilder();
        for (Param p : params(m)) {
            sb.append(String.format("%-24s %-6s %s%n", p.name, p.runtime ? "rw" : "ro", value(m, p)));
        }
        return sb.length() == 0 ? m.name() + " has no parameters\n" : sb.toString();
    }

    private String modparamSet(Module m, Map<String, String> settings) {
        for (Map.Entry<String, String> e : settings.entrySet()) {
            // every value checked before any is set, as a sysfs store reads it (no bare names)
            ParamValues.value(m.name(), param(m, e.getKey()).ad, e.getValue(), false);
        }
        for (String key : settings.keySet()) {
            Param p = param(m, key);
            if (!p.runtime) {
                throw new KernelException(Errno.EPERM, "parameter " + key + " of " + m.name()
                        + " is read-only while the module is loaded (set it at load time: rmmod " + m.name()
                        + "; modprobe " + m.name() + " " + key + "=...)");
            }
        }
        applyParams(m, settings, true);
        return "set " + settings.entrySet().stream().map(e -> e.getValue() == null ? e.getKey() : e.getKey() + "="
                + e.getValue()).collect(Collectors.joining(" ")) + " on " + m.name();
    }

    private record Param(String pid, String name, String description, String type, boolean runtime,
            AttributeDefinition ad) {
    }

    private List<Param> params(Module m) {
        List<Param> out = new ArrayList<>();
        MetaTypeInformation info = metatype.getMetaTypeInformation(m.bundle());
        if (info == null) {
            return out;
        }
        List<String> pids = m.pids().isEmpty() ? List.of(info.getPids()) : m.pids();
        for (String pid : pids) {
            ObjectClassDefinition ocd;
            try {
                ocd = info.getObjectClassDefinition(pid, null);
            } catch (IllegalArgumentException ex) {
                continue;
            }
            if (ocd == null) {
                continue;
            }
            AttributeDefinition[] ads = ocd.getAttributeDefinitions(ObjectClassDefinition.ALL);
            for (AttributeDefinition ad : ads == null ? new AttributeDefinition[0] : ads) {
                out.add(new Param(pid, ad.getID(), ad.getDescription() == null ? ad.getName() : ad.getDescription(),
                        ParamValues.typeName(ad.getType()), m.runtimeParams().contains(ad.getID()), ad));
            }
        }
        return out;
    }

    private Param param(Module m, String key) {
        for (Param p : params(m)) {
            if (ParamValues.sameName(key, p.name)) {
                return p;
            }
        }
        throw KernelException.einval("%s: unknown parameter '%s' (modinfo %s lists them)", m.name(), key, m.name());
    }

    private String value(Module m, Param p) {
        for (Map<String, Object> props : componentProperties(m, p.pid)) {
            Object v = props.get(p.name);
            if (v != null) {
                return String.valueOf(v);
            }
        }
        try {
            Configuration c = configAdmin.getConfiguration(p.pid, "?");
            Dictionary<String, Object> props = c.getProperties();
            Object v = props == null ? null : props.get(p.name);
            if (v != null) {
                return String.valueOf(v);
            }
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, "reading configuration " + p.pid + ": " + ex.getMessage());
        }
        String[] d = p.ad.getDefaultValue();
        return d == null || d.length == 0 ? "" : String.join(",", d);
    }

    private void applyParams(Module m, Map<String, String> settings, boolean runtime) {
        Map<String, Dictionary<String, Object>> byPid = new LinkedHashMap<>();
        Map<Param, Object> values = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : settings.entrySet()) { // every value checked before anything is written
            Param p = param(m, e.getKey());
            values.put(p, ParamValues.value(m.name(), p.ad, e.getValue(), !runtime)); // modprobe: parse_args
        }
        for (Map.Entry<Param, Object> e : values.entrySet()) {
            byPid.computeIfAbsent(e.getKey().pid, pid -> current(pid)).put(e.getKey().name, e.getValue());
        }
        for (Map.Entry<String, Dictionary<String, Object>> e : byPid.entrySet()) {
            try {
                configAdmin.getConfiguration(e.getKey(), "?").update(e.getValue());
            } catch (IOException ex) {
                throw new KernelException(Errno.EIO, "writing configuration " + e.getKey() + ": " + ex.getMessage());
            }
        }
        if (runtime) {
            for (Map.Entry<String, Dictionary<String, Object>> e : byPid.entrySet()) {
                awaitInForce(m, e.getKey(), e.getValue());
            }
        }
    }

    /** How long a run-time parameter change may take to reach the module's component. */
    static final long IN_FORCE_MS = 5000;

    /**
     * awaitInForce - ConfigAdmin hands a change to the module's component asynchronously: wait until the
     * services the component registers (DS copies its configuration into their properties) show the new
     * values, so the next command sees them, as a write to /sys/module/NAME/parameters/X is seen at once.
     * Errors: ETIMEDOUT when the component did not take the change.
     */
    private void awaitInForce(Module m, String pid, Dictionary<String, Object> want) {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(IN_FORCE_MS);
        while (true) {
            List<Map<String, Object>> configs = componentProperties(m, pid);
            if (configs.isEmpty()) {
                return; // no component of the module reads this configuration: nothing to wait for
            }
            boolean all = true;
            for (Map<String, Object> props : configs) {
                for (var keys = want.keys(); keys.hasMoreElements();) {
                    String k = keys.nextElement();
                    if (!String.valueOf(want.get(k)).equals(String.valueOf(props.get(k)))) {
                        all = false;
                    }
                }
            }
            if (all) {
                return;
            }
            if (System.nanoTime() > end) {
                throw new KernelException(Errno.ETIMEDOUT, "module " + m.name() + " did not take the new parameters "
                        + "within " + IN_FORCE_MS + " ms");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new KernelException(Errno.EINTR, "interrupted waiting for " + m.name());
            }
        }
    }

    /** The properties in force of every live configuration of the module's components that read {@code pid}. */
    private List<Map<String, Object>> componentProperties(Module m, String pid) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (var desc : scr.getComponentDescriptionDTOs(m.bundle())) {
            if (desc.configurationPid == null || !List.of(desc.configurationPid).contains(pid)) {
                continue;
            }
            for (var cc : scr.getComponentConfigurationDTOs(desc)) {
                if (cc.state == org.osgi.service.component.runtime.dto.ComponentConfigurationDTO.ACTIVE
                        || cc.state == org.osgi.service.component.runtime.dto.ComponentConfigurationDTO.SATISFIED) {
                    // SCR sets the configuration's properties before it calls the modified method and updates the
                    // services' properties after it returns: those of the services say the change is in force
                    List<Map<String, Object>> services = serviceProperties(cc.id);
                    out.addAll(services.isEmpty() ? List.of(cc.properties) : services);
                }
            }
        }
        return out;
    }

    /** The properties of the services component configuration {@code id} registered, none when it has none. */
    private List<Map<String, Object>> serviceProperties(long id) {
        List<Map<String, Object>> out = new ArrayList<>();
        try {
            org.osgi.framework.ServiceReference<?>[] refs = ctx.getServiceReferences((String) null,
                    "(component.id=" + id + ")");
            for (org.osgi.framework.ServiceReference<?> r : refs == null
                    ? new org.osgi.framework.ServiceReference<?>[0] : refs) {
                Map<String, Object> props = new java.util.HashMap<>();
                for (String k : r.getPropertyKeys()) {
                    props.put(k, r.getProperty(k));
                }
                out.add(props);
            }
        } catch (org.osgi.framework.InvalidSyntaxException cannot) {
            throw new IllegalStateException("BUG: component.id filter", cannot);
        }
        return out;
    }

    private Dictionary<String, Object> current(String pid) {
        try {
            Dictionary<String, Object> d = configAdmin.getConfiguration(pid, "?").getProperties();
            Hashtable<String, Object> copy = new Hashtable<>();
            if (d != null) {
                for (var keys = d.keys(); keys.hasMoreElements();) {
                    String k = keys.nextElement();
                    copy.put(k, d.get(k));
                }
            }
            return copy;
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, "reading configuration " + pid + ": " + ex.getMessage());
        }
    }

    /** The module by name, or installed from a jar path or from the module path. */
    private Module findOrInstall(String name) {
        try {
            return modules.find(name);
        } catch (KernelException notInstalled) {
            Path jar = locate(name);
            if (jar == null) {
                throw new KernelException(Errno.ENOENT, "modprobe: FATAL: Module " + name
                        + " not found in the module path " + modpath());
            }
            try {
                Bundle b = ctx.installBundle(jar.toUri().toString());
                LOG.info("modprobe: installed {} from {}", b.getSymbolicName(), jar);
                return Module.of(b);
            } catch (BundleException ex) {
                throw new KernelException(Errno.ENOEXEC, "modprobe: " + jar + " is not a loadable module: "
                        + ex.getMessage(), ex);
            }
        }
    }

    private List<Path> modpath() {
        return modpath(ctx.getProperty("peerdma.modpath"));
    }

    /** modpath - the module path from {@code peerdma.modpath} (directories split on the path separator), default "modules". */
    static List<Path> modpath(String p) {
        List<Path> out = new ArrayList<>();
        for (String s : (p == null || p.isBlank() ? "modules" : p).split(java.io.File.pathSeparator)) {
            if (!s.isBlank()) {
                out.add(Path.of(s.strip()));
            }
        }
        return out;
    }

    private Path locate(String name) {
        return locate(name, modpath());
    }

    /** locate - a jar given by path, or the first one in {@code dirs} whose module or symbolic name is {@code name}. */
    static Path locate(String name, List<Path> dirs) {
        Path direct;
        try {
            direct = Path.of(name);
        } catch (java.nio.file.InvalidPathException e) {
            direct = null; // not a path (a NUL in it): only a module name
        }
        if (direct != null && name.endsWith(".jar") && Files.isRegularFile(direct)) {
            return direct;
        }
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path jar : s.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
                    if (jarNames(jar).contains(name.replace('-', '_'))) {
                        return jar;
                    }
                }
            } catch (IOException ex) {
                LOG.warn("cannot list module path {}: {}", dir, ex.getMessage());
            }
        }
        return null;
    }

    /**
     * jarNames - what a jar answers to: its symbolic name, then its peerdma module names ('-' read as
     * '_'); empty for a file that is not a jar or has no manifest.
     */
    static List<String> jarNames(Path jar) {
        try (JarFile jf = new JarFile(jar.toFile())) {
            var mf = jf.getManifest();
            if (mf == null) {
                return List.of();
            }
            List<String> names = new ArrayList<>();
            String bsn = mf.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME);
            if (bsn != null) {
                names.add(bsn.split(";")[0].strip());
            }
            String caps = mf.getMainAttributes().getValue(Constants.PROVIDE_CAPABILITY);
            if (caps != null) {
                var mm = java.util.regex.Pattern.compile(Module.NAMESPACE + "=\"?([\\w.-]+)").matcher(caps);
                while (mm.find()) {
                    names.add(mm.group(1).replace('-', '_'));
                }
            }
            return names;
        } catch (IOException ex) {
            return List.of();
        }
    }

    private static long size(Bundle b) {
        String loc = b.getLocation().replaceFirst("^reference:", "");
        try {
            if (loc.startsWith("file:")) {
                return Files.size(Path.of(java.net.URI.create(loc)));
            }
        } catch (IOException | IllegalArgumentException ex) {
            // fall through: size unknown
        }
        var e = b.findEntries("/", "*.class", true);
        long n = 0;
        while (e != null && e.hasMoreElements()) {
            e.nextElement();
            n++;
        }
        return n * 1024;
    }

    /** The module's state as lsmod -a and modinfo show it, from the bundle state. */
    static String state(int bundleState) {
        return switch (bundleState) {
            case Bundle.ACTIVE -> "Live";
            case Bundle.STARTING -> "Loading";
            case Bundle.STOPPING -> "Unloading";
            case Bundle.RESOLVED -> "Unloaded";
            case Bundle.INSTALLED -> "Installed (unresolved)";
            default -> "Uninstalled";
        };
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append(String.format("%-16s%s%n", k + ":", v == null ? "" : v));
    }
}
