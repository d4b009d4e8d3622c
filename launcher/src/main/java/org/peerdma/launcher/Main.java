package org.peerdma.launcher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * The peerdma launcher: starts one runtime (a runconfig exported by the build, plus features added
 * with {@code --with}) in Felix, keeping the installed bundles in a cache between runs, hands the
 * command line to the bundle that registers the main thread ({@code main.thread=true}, as bnd's
 * launcher does) and exits with its status.
 *
 * <p>Why not bnd's launcher: it reinstalls every bundle into a fresh cache at each start, and with a
 * kept cache ({@code launch.keep}) it fails on the second start ("No inital startlevel yet"); it
 * cannot add features at launch either. This one reads bnd's own exported runtime (its
 * {@code launcher.properties} and embedded jars), so what the build resolved is what runs.
 */
public final class Main {
    static final String MAIN_FILTER = "(&(objectClass=java.util.concurrent.Callable)(main.thread=true))";
    /** Exit status when the runtime cannot start (EX_SOFTWARE). */
    static final int SOFTWARE = 70;
    /** Exit status for launcher usage errors (EX_USAGE). */
    static final int USAGE = 64;

    private final long t0 = System.nanoTime();
    private final boolean trace = System.getenv("PEERDMA_LAUNCH_TRACE") != null;

    public static void main(String[] args) {
        int status;
        try {
            status = new Main().run(args);
        } catch (LaunchException ex) {
            System.err.println("peerdma: " + ex.getMessage());
            status = ex.status;
        }
        System.out.flush();
        System.err.flush();
        System.exit(status);
    }

    int run(String[] args) {
        // Results go to the command line's own stream on file descriptor 1 (LauncherMain); anything else that
        // prints to System.out (EventAdmin's warnings when the framework stops, a library's notice) would end
        // up in a user's --json document, so it goes to stderr instead.
        System.setOut(System.err);
        quietJavaLogging();
        Options o = Options.parse(args);
        Path home = Path.of(System.getProperty("peerdma.home", ".")).toAbsolutePath().normalize();
        Path runtimes = home.resolve("runconfigs/target");
        String name = o.runtime();
        Distribution rt = Distribution.read(runtimes, name);
        Distribution all = name.equals("default") ? rt : Distribution.read(runtimes, "default");
        List<Distribution.Item> bundles = new ArrayList<>(rt.bundles());
        for (String f : o.with()) {
            for (Distribution.Item it : all.feature(f)) {
                if (bundles.stream().noneMatch(b -> b.bsn().equals(it.bsn()))) {
                    bundles.add(it);
                }
            }
        }
        mark("read runtime " + name);
        try (Cache cache = Cache.open(name, rt, all, o.with())) {
            mark("cache " + cache.root());
            Map<String, String> props = rt.frameworkProperties();
            props.put(Constants.FRAMEWORK_STORAGE, cache.storage().toString());
            props.put("peerdma.modpath", cache.modules().toString());
            props.put("peerdma.cli", "true");
            props.put("peerdma.runtime", name);
            props.put("peerdma.features", String.join(",", o.with()));
            props.putIfAbsent("peerdma.topology", "none");
            props.put("gosh.args", "--nointeractive --noshutdown");
            props.put("felix.cache.locking", "false");
            for (Map.Entry<String, String> e : props.entrySet()) {
                if (System.getProperty(e.getKey()) == null) {
                    System.setProperty(e.getKey(), e.getValue()); // slf4j-simple reads system properties
                }
            }
            Framework fw = factory().newFramework(props);
            try {
                try {
                    fw.init();
                } catch (BundleException | RuntimeException unreadable) {
                    cache.wipeStorage(); // a cache left half-written by a killed run: start afresh
                    fw = factory().newFramework(props);
                    fw.init();
                }
                mark("framework init");
                sync(fw.getBundleContext(), bundles, cache);
                mark("bundles in place");
                if (trace) {
                    long[] last = {System.nanoTime()};
                    fw.getBundleContext().addBundleListener((org.osgi.framework.SynchronousBundleListener) e -> {
                        if (e.getType() == org.osgi.framework.BundleEvent.STARTED) {
                            long now = System.nanoTime();
                            System.err.printf("peerdma-launch:   %5.1f ms to start %s%n", (now - last[0]) / 1e6,
                                    e.getBundle().getSymbolicName());
                            last[0] = now;
                        }
                    });
                }
                fw.start();
                mark("framework started");
                return callMain(fw, o.argv());
            } catch (BundleException ex) {
                throw new LaunchException(SOFTWARE, "the framework failed to start: " + ex.getMessage());
            } finally {
                stop(fw);
                mark("stopped");
            }
        } catch (IOException ex) {
            throw new LaunchException(SOFTWARE, "bundle cache: " + ex.getMessage());
        }
    }

    private static FrameworkFactory factory() {
        for (FrameworkFactory f : ServiceLoader.load(FrameworkFactory.class, Main.class.getClassLoader())) {
            return f;
        }
        throw new LaunchException(SOFTWARE, "no OSGi framework on the class path (Felix's jar is missing)");
    }

    /**
     * sync - make the installed bundles exactly {@code want}: a kept cache already has them (Felix
     * restores them at init), a new one gets them installed by reference from the cache's jars.
     */
    static void sync(BundleContext ctx, List<Distribution.Item> want, Cache cache) throws BundleException {
        Map<String, Bundle> installed = new java.util.HashMap<>();
        for (Bundle b : ctx.getBundles()) {
            if (b.getBundleId() != 0) {
                installed.put(b.getLocation(), b);
            }
        }
        List<String> locations = new ArrayList<>();
        for (Distribution.Item it : want) {
            String loc = "reference:" + cache.jar(it).toUri();
            locations.add(loc);
            Bundle b = installed.remove(loc);
            if (b == null) {
                b = ctx.installBundle(loc);
            }
            BundleStartLevel sl = b.adapt(BundleStartLevel.class);
            if (sl.getStartLevel() != it.startLevel()) {
                sl.setStartLevel(it.startLevel());
            }
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null && !sl.isPersistentlyStarted()) {
                b.start(Bundle.START_ACTIVATION_POLICY);
            }
        }
        for (Bundle extra : installed.values()) {
            extra.uninstall();
        }
    }

    private int callMain(Framework fw, String[] argv) {
        BundleContext ctx = fw.getBundleContext();
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("launcher.arguments", argv);
        p.put("launcher.ready", "true");
        ctx.registerService(Object.class.getName(), this, p);
        Callable<?> main = awaitMain(ctx, 30_000);
        mark("main thread found");
        try {
            Object r = main.call();
            mark("command done");
            return r instanceof Integer i ? i : 0;
        } catch (Exception ex) {
            throw new LaunchException(SOFTWARE, "the command line failed: " + ex);
        }
    }

    private static Callable<?> awaitMain(BundleContext ctx, long millis) {
        CountDownLatch seen = new CountDownLatch(1);
        ServiceListener l = e -> {
            if (e.getType() == ServiceEvent.REGISTERED) {
                seen.countDown();
            }
        };
        try {
            ctx.addServiceListener(l, MAIN_FILTER);
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            while (true) {
                ServiceReference<?>[] refs = ctx.getServiceReferences((String) null, MAIN_FILTER);
                if (refs != null && refs.length > 0) {
                    Object o = ctx.getService(refs[0]);
                    if (o instanceof Callable<?> c) {
                        return c;
                    }
                }
                long left = end - System.nanoTime();
                if (left <= 0 || !seen.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS)
                        && System.nanoTime() > end) {
                    throw new LaunchException(SOFTWARE, "the command line did not start within " + millis / 1000
                            + " s; bundles not active: " + inactive(ctx));
                }
            }
        } catch (org.osgi.framework.InvalidSyntaxException ex) {
            throw new IllegalStateException("BUG: " + ex.getMessage(), ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new LaunchException(SOFTWARE, "interrupted while starting");
        } finally {
            ctx.removeServiceListener(l);
        }
    }

    private static String inactive(BundleContext ctx) {
        List<String> out = new ArrayList<>();
        for (Bundle b : ctx.getBundles()) {
            if (b.getState() != Bundle.ACTIVE && b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                out.add(b.getSymbolicName() + " (state " + b.getState() + ")");
            }
        }
        return out.isEmpty() ? "none (a component is missing a service)" : String.join(", ", out);
    }

    private void stop(Framework fw) {
        try {
            // EventAdmin first: it turns every bundle and service event of the shutdown into an asynchronous
            // delivery, and stopping it while those are queued makes it print warnings on stdout
            BundleContext ctx = fw.getBundleContext();
            if (ctx != null) {
                for (Bundle b : ctx.getBundles()) {
                    if ("org.apache.felix.eventadmin".equals(b.getSymbolicName()) && b.getState() == Bundle.ACTIVE) {
                        b.stop(Bundle.STOP_TRANSIENT);
                    }
                }
            }
            fw.stop();
            fw.waitForStop(10_000);
        } catch (BundleException | InterruptedException | IllegalStateException ex) {
            System.err.println("peerdma: stopping the framework: " + ex.getMessage());
        }
    }

    /** JUL (SPI Fly, Felix's own messages) at WARNING unless configured: results on stdout stay clean. */
    private static void quietJavaLogging() {
        if (System.getProperty("java.util.logging.config.file") == null) {
            Logger root = Logger.getLogger("");
            root.setLevel(Level.WARNING);
            for (var h : root.getHandlers()) {
                h.setLevel(Level.WARNING);
            }
        }
    }

    private void mark(String what) {
        if (trace) {
            System.err.printf("peerdma-launch: %6.1f ms %s%n", (System.nanoTime() - t0) / 1e6, what);
        }
    }

    /** A launcher failure with the exit status it means. */
    static final class LaunchException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        LaunchException(int status, String message) {
            super(message);
            this.status = status;
        }
    }
}
