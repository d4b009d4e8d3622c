package org.peerdma.cli.internal;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.cli.PeerdmaCli;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.TopologyIO;

import picocli.CommandLine;

/**
 * The command line: picocli parses, the commands run on the framework's services (the same PCI
 * core, importers and doctor as the shell), and every failure becomes a message on stderr and an
 * exit status (docs/cli.md).
 */
@Component(service = PeerdmaCli.class)
public class CliImpl implements PeerdmaCli {
    @Reference
    PciCore core;

    @Reference
    TopologyIO io;

    @Reference
    P2pDoctor doctor;

    @Reference
    CommandProcessor processor;

    /** The pictures (draw); absent when the draw module is not in the runtime. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC)
    volatile org.peerdma.draw.PciDrawing drawing;

    /** To wait, at the end of a run, for the uevents it caused to be delivered (see {@link #drainEvents}). */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC)
    volatile org.osgi.service.event.EventAdmin events;

    BundleContext context;

    @Activate
    void activate(BundleContext ctx) {
        this.context = ctx;
    }

    /** The usage helper over the command services registered now. */
    Usage usage() {
        return new Usage(this::commandTarget);
    }

    private Object commandTarget(String scope, String function) {
        BundleContext c = context;
        if (c == null) {
            return null;
        }
        try {
            var refs = c.getServiceReferences((String) null, "(&(osgi.command.scope=" + scope + ")(osgi.command.function="
                    + function + "))");
            if (refs == null || refs.length == 0) {
                return null;
            }
            Object o = c.getService(refs[0]);
            if (o != null) {
                c.ungetService(refs[0]);
            }
            return o;
        } catch (org.osgi.framework.InvalidSyntaxException ex) {
            return null;
        }
    }

    @Override
    public int run(List<String> args, InputStream in, PrintStream out, PrintStream err, boolean terminal) {
        Ctx x = new Ctx(this, in, out, err, terminal);
        CommandLine cl = commandLine(x);
        int status;
        try {
            status = cl.execute(args.toArray(String[]::new));
        } finally {
            drainEvents();
            out.flush();
            err.flush();
        }
        if (out.checkError()) {
            return IOERR;
        }
        return status;
    }

    static final String DRAIN_TOPIC = "org/peerdma/cli/DRAIN";

    /**
     * drainEvents - wait (at most 2 s) until EventAdmin has delivered the events this thread posted (the
     * uevents of a load): events from one thread arrive in order, so when a marker posted last arrives, the
     * rest have. Without it the framework stops in the middle of a delivery and EventAdmin complains.
     */
    void drainEvents() {
        org.osgi.service.event.EventAdmin ea = events;
        BundleContext c = context;
        if (ea == null || c == null) {
            return;
        }
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        java.util.Hashtable<String, Object> p = new java.util.Hashtable<>();
        p.put(org.osgi.service.event.EventConstants.EVENT_TOPIC, DRAIN_TOPIC);
        var reg = c.registerService(org.osgi.service.event.EventHandler.class, e -> done.countDown(), p);
        try {
            ea.postEvent(new org.osgi.service.event.Event(DRAIN_TOPIC, java.util.Map.of()));
            done.await(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        } finally {
            reg.unregister();
        }
    }

    /** The command tree with its handlers, writing to the context's streams. */
    static CommandLine commandLine(Ctx x) {
        CommandLine cl = new CommandLine(new TopCommand(x));
        cl.addSubcommand("check", new CheckCommand(x));
        cl.addSubcommand("matrix", new MatrixCommand(x));
        cl.addSubcommand("lspci", new LspciCommand(x));
        cl.addSubcommand("whatif", new WhatIfCommand(x));
        cl.addSubcommand("audit", new AuditCommand(x));
        cl.addSubcommand("draw", new DrawCommand(x));
        cl.addSubcommand("shell", new ShellCommand(x));
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(x.out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(x.err, StandardCharsets.UTF_8), true));
        cl.setUsageHelpWidth(100);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, argv) -> {
            CommandLine c = ex.getCommandLine();
            PrintWriter e = c.getErr();
            e.println("peerdma" + (c.getParent() == null ? "" : " " + c.getCommandName()) + ": EINVAL: "
                    + org.peerdma.util.Texts.clip(ex.getMessage()));
            e.print("usage: " + c.getHelp().synopsis(0));
            e.println("Try 'peerdma " + (c.getParent() == null ? "" : c.getCommandName() + " ") + "--help'.");
            e.flush();
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            PrintWriter e = c.getErr();
            e.println("peerdma" + (c.getParent() == null ? "" : " " + c.getCommandName()) + ": " + Errors.message(ex));
            if (x.trace) {
                ex.printStackTrace(e);
            }
            e.flush();
            return Errors.status(ex);
        });
        return cl;
    }
}
