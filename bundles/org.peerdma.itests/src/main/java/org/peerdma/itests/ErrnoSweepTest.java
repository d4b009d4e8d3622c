package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.cli.PeerdmaCli;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.TopologyIO;
import org.peerdma.xen.hv.Hypervisor;

/**
 * Every shell command of every module, called with missing, wrong-typed, negative, huge, wrapping and
 * non-existent arguments: each call either works or fails with an errno-style KernelException (or Gogo's
 * "no form takes these arguments", which the command line reports as EINVAL with the usage). No other
 * exception, no hang, and nothing left behind: device references, hypervisor memory and the machine are
 * as they were.
 */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class ErrnoSweepTest {
    /** Scopes that are not the project's (the framework's, the shell's, SCR's). */
    private static final Set<String> FOREIGN = Set.of("felix", "gogo", "scr", "obr", "equinox", "cm");
    /**
     * Commands not swept: they stop the framework or replace the whole runtime by design (each has its own
     * test), or run another shell.
     */
    private static final Set<String> SKIPPED = Set.of("cli:shutdown", "cli:exit", "kmod:shutdown", "xl:exec",
            "gntdev:exec", "cli:source");
    /** Values no command should accept silently, or at least not crash on. */
    private static final List<String> BAD = List.of("x", "-1", "0", "0xffffffffffffffff", "99999999999999999999",
            "-9223372036854775808", "/nonexistent/x", "''", "0xfffffffffffff000", "1G", "null");
    /** The calls issue 13 names, with the errno each must fail with. */
    private static final java.util.Map<String, String> MUST_FAIL = java.util.Map.ofEntries(
            java.util.Map.entry("dma:map 05:00.0 page 0xfffffffffffff000 8192", "EINVAL"),
            java.util.Map.entry("hmm:proc sweep1\nhmm:munmap sweep1 0x7effffff0000 0x7fffffffffffffff", "EINVAL"),
            // mprotect and madvise of a range nothing maps: ENOMEM, as do_mprotect_pkey and madvise answer
            java.util.Map.entry("hmm:proc sweep2\nhmm:mprotect sweep2 0x7effffff0000 0x7fffffffffffffff r", "ENOMEM"),
            java.util.Map.entry("hmm:proc sweep3\nhmm:madvise sweep3 0x7effffff0000 0x7fffffffffffffff hugepage",
                    "ENOMEM"),
            java.util.Map.entry("xen:end -1", "EINVAL"),
            java.util.Map.entry("xen:end 0", "EINVAL"),
            java.util.Map.entry("iommu:identity 03:00.0 maybe", "EINVAL"),
            java.util.Map.entry("displ:png 1 /nonexistent/x.png", "ENOENT"),
            java.util.Map.entry("dmabuf:wait", "EINVAL"));
    /** A first argument that names something real on the sample, so the second one is what gets checked. */
    private static final List<String> REAL = List.of("03:00.0", "05:00.0", "1", "p");

    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    PeerdmaCli cli;

    @InjectService(timeout = 5000)
    PciCore core;

    @InjectService(timeout = 5000)
    TopologyIO io;

    @Test
    void everyCommandAnswersBadArgumentsWithAnErrno() throws Exception {
        Runtime.eventually("sample booted", 5000, () -> core.machine().devices().size() == 22);
        Hypervisor hv = Runtime.await(ctx, Hypervisor.class, 5000);
        long free0 = hv.freeFrames();
        List<String> refs0 = core.references();
        Path cwd = Files.createTempDirectory("sweep");

        List<String> commands = commands();
        assertThat(commands).as("the project's shell commands").hasSizeGreaterThan(100);
        List<String> lines = new ArrayList<>();
        for (String c : commands) {
            for (int arity = 0; arity <= 3; arity++) {
                for (String v : BAD) {
                    lines.add(c + " " + String.join(" ", java.util.Collections.nCopies(arity, v)));
                }
            }
            for (String first : REAL) {
                for (String v : BAD) {
                    lines.add(c + " " + first + " " + v);
                    lines.add(c + " " + first + " " + v + " " + v);
                }
            }
        }

        TreeMap<String, String> wrong = new TreeMap<>();
        TreeSet<String> hung = new TreeSet<>();
        int ok = 0;
        int errno = 0;
        int usage = 0;
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            for (String line : lines) {
                Future<String[]> f = pool.submit(() -> call(line, cwd));
                String[] r;
                try {
                    r = f.get(10, TimeUnit.SECONDS);
                } catch (TimeoutException t) {
                    f.cancel(true);
                    hung.add(line);
                    continue;
                }
                String err = r[1];
                if (r[0].equals("0")) {
                    ok++;
                } else if (err.startsWith("EINVAL: wrong arguments for ") && err.contains("\nusage: ")) {
                    usage++;
                } else if (err.matches("(?s)E[A-Z0-9]+: .+") && !err.contains("internal error")) {
                    errno++;
                } else {
                    wrong.put(line, "exit " + r[0] + ": " + clip(err));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        // the calls the issue names: each fails with its errno, none is accepted
        for (var e : MUST_FAIL.entrySet()) {
            String[] r = call(e.getKey(), cwd);
            String err = r[1];
            if (r[0].equals("0") || !err.startsWith(e.getValue() + ": ")) {
                wrong.put(e.getKey(), "expected " + e.getValue() + ", got exit " + r[0] + ": " + clip(err));
            }
        }
        for (int i = 1; i <= 3; i++) {
            call("hmm:exit sweep" + i, cwd);
        }
        // what the sweep's successful calls may have changed for the next tests: the hugetlb pool
        call("hmm:hugepages 0", cwd);
        System.err.printf("errno sweep: %d commands, %d calls: %d worked, %d errno, %d wrong arguments (usage), "
                + "%d other failures, %d hung%n", commands.size(), lines.size(), ok, errno, usage, wrong.size(),
                hung.size());
        wrong.forEach((k, v) -> System.err.println("  " + k + " -> " + v));
        hung.forEach(h -> System.err.println("  hung: " + h));
        assertThat(wrong).as("calls that failed with something other than an errno").isEmpty();
        assertThat(hung).as("calls that did not return within 10 s").isEmpty();

        // nothing left behind once the sweep's own successes are undone by loading the sample again
        Runtime.startAll(ctx);
        core.load(io.sample());
        Runtime.eventually("device references back: " + refs0, 10_000, () -> core.references().equals(refs0));
        Runtime.eventually("hypervisor memory back", 10_000, () -> hv.freeFrames() == free0);
    }

    /** call - one statement as a script through the command line. Return: {exit status, stderr}. */
    private String[] call(String line, Path cwd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        String script = "cd " + cwd + "\n" + line + "\n";
        int status = cli.run(List.of(), new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)), o, e, false);
        // the statement's own report: from its "stdin:N:" line on (log lines before it are the kernel log)
        String text = err.toString(StandardCharsets.UTF_8);
        int at = text.indexOf("stdin:" + (line.split("\n").length + 1) + ": ");
        return new String[] {Integer.toString(status), (at < 0 ? text : text.substring(at)).strip()
                .replaceFirst("^stdin:\\d+: ", "")};
    }

    private List<String> commands() {
        TreeSet<String> out = new TreeSet<>();
        for (Bundle b : List.of(ctx.getBundles())) {
            ServiceReference<?>[] refs = b.getRegisteredServices();
            if (refs == null) {
                continue;
            }
            for (ServiceReference<?> r : refs) {
                Object scope = r.getProperty(CommandProcessor.COMMAND_SCOPE);
                Object fn = r.getProperty(CommandProcessor.COMMAND_FUNCTION);
                if (scope == null || fn == null || FOREIGN.contains(scope.toString())) {
                    continue;
                }
                for (String f : fn instanceof String[] a ? a : new String[] {fn.toString()}) {
                    String name = scope + ":" + f;
                    if (!SKIPPED.contains(name)) {
                        out.add(name);
                    }
                }
            }
        }
        return new ArrayList<>(out);
    }

    private static String clip(String s) {
        return s.length() <= 160 ? s : s.substring(0, 160) + "...";
    }
}
