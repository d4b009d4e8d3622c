package org.peerdma.cli.internal;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.cli.PeerdmaCli;

/**
 * Hands the process's command line to {@link PeerdmaCli} on the launcher's main thread: the launcher
 * (bnd's, or peerdma's own) registers itself with its arguments as {@code launcher.arguments} and
 * calls a {@code Callable<Integer>} registered with {@code main.thread=true}, exiting with its
 * result. Only when the framework property {@code peerdma.cli} is true, so a test framework's
 * launcher is never taken over.
 */
@Component(immediate = true)
public class LauncherMain {
    @Reference
    PeerdmaCli cli;

    /** The launcher, once it is ready to call the main thread (bnd's sets launcher.ready after starting bundles). */
    @Reference(service = Object.class, target = "(&(launcher.arguments=*)(launcher.ready=true))")
    Map<String, Object> launcher;

    private ServiceRegistration<?> registration;

    @Activate
    void activate(BundleContext ctx) {
        if (!"true".equals(ctx.getProperty("peerdma.cli"))) {
            return;
        }
        Object args = launcher.get("launcher.arguments");
        List<String> argv = args instanceof String[] a ? Arrays.asList(a) : List.of();
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("main.thread", "true");
        Callable<Integer> main = () -> {
            PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
            PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
            boolean terminal = System.console() != null && !"false".equals(ctx.getProperty("peerdma.terminal"));
            int status = cli.run(argv, new FileInputStream(FileDescriptor.in), out, err, terminal);
            out.flush();
            err.flush();
            return status;
        };
        registration = ctx.registerService(Callable.class.getName(), main, props);
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework is stopping
            }
        }
    }
}
