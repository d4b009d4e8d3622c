package org.peerdma.cli.internal;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
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
            Stdout fd1 = new Stdout(new FileOutputStream(FileDescriptor.out));
            PrintStream out = new PrintStream(fd1, false, StandardCharsets.UTF_8);
            PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
            String tty = ctx.getProperty("peerdma.stdin.tty"); // set by ./peerdma ([ -t 0 ])
            boolean terminal = tty != null ? tty.equals("true") : System.console() != null;
            int status = cli.run(argv, new FileInputStream(FileDescriptor.in), out, err, terminal);
            out.flush();
            IOException failed = fd1.failure;
            if (failed != null) {
                if (String.valueOf(failed.getMessage()).contains("Broken pipe")) {
                    return 141; // the reader went away (| head): as a shell reports a process killed by SIGPIPE
                }
                err.println("peerdma: EIO: writing standard output: " + failed.getMessage());
                status = PeerdmaCli.IOERR;
            }
            err.flush();
            return status;
        };
        registration = ctx.registerService(Callable.class.getName(), main, props);
    }

    /** File descriptor 1, remembering why a write failed (PrintStream only says that one did). */
    static final class Stdout extends java.io.FilterOutputStream {
        volatile IOException failure;

        Stdout(java.io.OutputStream fd) {
            super(fd);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException ex) {
                failure = failure == null ? ex : failure;
                throw ex;
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException ex) {
                failure = failure == null ? ex : failure;
                throw ex;
            }
        }
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
