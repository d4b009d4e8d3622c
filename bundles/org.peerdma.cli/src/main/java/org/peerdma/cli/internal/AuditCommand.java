package org.peerdma.cli.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.peerdma.cli.PeerdmaCli;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.doctor.MachineAudit;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.MachineDTO;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** peerdma audit SRC...: a fleet of machines, one line each, a summary by cause, and a policy gate. */
@Command(name = "audit", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Audit many machines: every SRC (a dump, a topology file, a capture directory or archive, or a "
            + "directory of them, read recursively) is one machine. Per machine one line: devices by kind, endpoint "
            + "pairs by map type, redirecting ports and the pci= fix; then the fleet summary grouped by the rule that "
            + "refused or rerouted pairs. With --expect, pairs that break the policy are listed and the exit status "
            + "is 1 (docs/cli.md describes the policy file)."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every machine read (and met the policy)", "1:a machine breaks the policy",
            "2:no machine breaks the policy, but the inputs cannot settle it for some (unknown ACS state or device "
                + "kinds)", "65:some inputs could not be read (the rest are reported)",
            "66:a SRC or the policy does not exist", "64:wrong arguments"})
final class AuditCommand implements Callable<Integer> {
    /** Files larger than this are not dumps: skipped with a note (a dump of 10,000 devices is ~20 MB). */
    static final long MAX_DUMP = 64L << 20;

    private final Ctx x;

    @Parameters(arity = "1..*", paramLabel = "SRC", description = "machines: files, capture directories, or directories of them")
    List<String> sources = new ArrayList<>();

    @Option(names = {"-e", "--expect"}, paramLabel = "POLICY", description = "a YAML policy the machines must meet")
    String policyFile;

    @Option(names = {"-k", "--kernel"}, paramLabel = "VERSION",
            description = "rule set or kernel release for every machine (default: each capture's, else newest)")
    String kernel;

    @Option(names = {"-j", "--json"}, description = "one JSON document (docs/json.md)")
    boolean json;

    @Option(names = "--jobs", paramLabel = "N", description = "machines read in parallel (default: the number of cores)")
    int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--quiet", description = "no per-machine lines (the summary and violations only)")
    boolean quiet;

    AuditCommand(Ctx x) {
        this.x = x;
    }

    /** One machine's outcome: its audit, or why it could not be read. */
    record Entry(String source, MachineAudit audit, String error, int status) {
    }

    @Override
    public Integer call() throws Exception {
        if (jobs < 1 || jobs > 256) {
            throw KernelException.einval("--jobs %d: give 1 to 256", jobs);
        }
        if (x.topTopology != null) {
            throw KernelException.einval("--topology does not apply to audit: give the machines as SRC arguments");
        }
        Policy policy = policyFile == null ? null : Policy.read(policyFile);
        List<Path> inputs = expand();
        RuleSet fixed = x.rules(kernel);
        Progress progress = new Progress(x.err, inputs.size());
        List<Entry> entries = new ArrayList<>(inputs.size());
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, Math.max(1, inputs.size())), r -> {
            Thread t = new Thread(r, "peerdma-audit");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Entry>> futures = new ArrayList<>();
            for (Path p : inputs) {
                futures.add(pool.submit(() -> one(p, fixed)));
            }
            for (Future<Entry> f : futures) {
                Entry e = f.get();
                entries.add(e);
                progress.step();
                if (e.audit() == null) {
                    x.err.println("peerdma audit: " + e.source() + ": " + e.error()); // listed in the summary too
                } else if (!json && !quiet) {
                    x.out.println(x.doctor().text(e.audit()));
                }
            }
        } finally {
            pool.shutdownNow();
            progress.done();
        }
        List<Policy.Violation> violations = new ArrayList<>();
        List<Policy.Undetermined> undetermined = new ArrayList<>();
        if (policy != null) {
            for (Entry e : entries) {
                if (e.audit() != null) {
                    violations.addAll(policy.check(e.audit()));
                    undetermined.addAll(policy.undetermined(e.audit()));
                }
            }
        }
        AuditReport report = AuditReport.of(entries, policy, violations, undetermined);
        if (json) {
            x.print(x.doctor().json(report));
        } else {
            x.print(report.text());
        }
        if (!violations.isEmpty()) {
            return PeerdmaCli.NOT_SUPPORTED;
        }
        if (entries.stream().anyMatch(e -> e.audit() == null)) {
            return PeerdmaCli.DATAERR;
        }
        return undetermined.isEmpty() ? PeerdmaCli.OK : PeerdmaCli.DEPENDS;
    }

    private Entry one(Path p, RuleSet fixed) {
        try {
            if (Files.isRegularFile(p) && Files.size(p) > MAX_DUMP) {
                return new Entry(p.toString(), null, "EFBIG: " + Files.size(p) + " bytes is too large for a dump",
                        PeerdmaCli.DATAERR);
            }
            MachineDTO dto = x.cli.io.read(p, "auto");
            PciMachine m = x.cli.core.detached(dto);
            // without -k each machine is judged by its own kernel release (a capture's), see P2pDoctor.rulesFor
            return new Entry(p.toString(), x.doctor().audit(m, fixed), null, PeerdmaCli.OK);
        } catch (KernelException ex) {
            return new Entry(p.toString(), null, ex.getMessage(), Errors.status(ex));
        } catch (IOException ex) {
            return new Entry(p.toString(), null, "EIO: " + ex.getMessage(), PeerdmaCli.DATAERR);
        } catch (RuntimeException ex) {
            return new Entry(p.toString(), null, Errors.message(ex), PeerdmaCli.SOFTWARE);
        }
    }

    /**
     * The machines named: a file is one; a directory that is a capture (or a sysfs tree) is one; any
     * other directory holds machines, read recursively (hidden entries skipped), in name order.
     */
    private List<Path> expand() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String s : sources) {
            Path p = Ctx.path(s);
            if (!Files.isDirectory(p) || isMachineDir(p)) {
                out.add(p);
                continue;
            }
            try (Stream<Path> walk = Files.walk(p)) {
                List<Path> all = walk.filter(q -> !q.equals(p)).sorted().toList();
                List<Path> machineDirs = new ArrayList<>();
                for (Path q : all) {
                    if (hidden(p, q) || machineDirs.stream().anyMatch(q::startsWith)) {
                        continue;
                    }
                    if (Files.isDirectory(q) && isMachineDir(q)) {
                        machineDirs.add(q);
                        out.add(q);
                    } else if (Files.isRegularFile(q)) {
                        out.add(q);
                    }
                }
            }
        }
        if (out.isEmpty()) {
            throw new KernelException(Errno.ENOENT, "no machines found in " + String.join(" ", sources));
        }
        return out;
    }

    private static boolean hidden(Path root, Path q) {
        for (Path part : root.relativize(q)) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** A capture directory (it has the capture's manifest) or a sysfs copy. */
    static boolean isMachineDir(Path d) {
        return Files.isRegularFile(d.resolve("peerdma-capture.txt")) || Files.isDirectory(d.resolve("bus/pci/devices"))
                || Files.isDirectory(d.resolve("devices")) && Files.isDirectory(d.resolve("bus"));
    }

    /** Progress on stderr for long runs: at most one line every 2 s, only once the run takes over 2 s. */
    static final class Progress {
        private final java.io.PrintStream err;
        private final int total;
        private final long start = System.nanoTime();
        private long last = start;
        private int done;
        private boolean shown;

        Progress(java.io.PrintStream err, int total) {
            this.err = err;
            this.total = total;
        }

        void step() {
            done++;
            long now = System.nanoTime();
            if (now - last > 2_000_000_000L && now - start > 2_000_000_000L) {
                last = now;
                shown = true;
                double s = (now - start) / 1e9;
                err.printf(java.util.Locale.ROOT, "audit: %d/%d machines, %.0f/s%n", done, total, done / s);
                err.flush();
            }
        }

        void done() {
            if (shown) {
                err.printf(java.util.Locale.ROOT, "audit: %d machines in %.1f s%n", done, (System.nanoTime() - start) / 1e9);
            }
        }
    }

    /** The fleet summary: counts by map type and by cause. */
    record AuditReport(String schemaVersion, String kind, int machines, int unreadable, Map<String, Long> pairs,
            List<Cause> causes, List<MachineAudit> results, List<Unreadable> errors, String policy,
            List<Policy.Violation> violations, long uncertainPairs, List<Policy.Undetermined> undetermined) {
        record Cause(String ruleId, int machines, long pairs, String example) {
        }

        record Unreadable(String source, String error) {
        }

        static AuditReport of(List<Entry> entries, Policy policy, List<Policy.Violation> violations,
                List<Policy.Undetermined> undetermined) {
            Map<String, Long> pairs = new LinkedHashMap<>();
            Map<String, int[]> machinesBy = new TreeMap<>();
            Map<String, long[]> pairsBy = new TreeMap<>();
            Map<String, String> example = new TreeMap<>();
            List<MachineAudit> results = new ArrayList<>();
            List<Unreadable> errors = new ArrayList<>();
            for (Entry e : entries) {
                if (e.audit() == null) {
                    errors.add(new Unreadable(e.source(), e.error()));
                    continue;
                }
                MachineAudit a = e.audit();
                results.add(a);
                a.pairs().forEach((k, v) -> pairs.merge(k, (long) v, Long::sum));
                a.causes().forEach((k, v) -> {
                    machinesBy.computeIfAbsent(k, q -> new int[1])[0]++;
                    pairsBy.computeIfAbsent(k, q -> new long[1])[0] += v;
                    example.putIfAbsent(k, a.machine().name() + (k.startsWith("acs-redirect") && !a.fix().isEmpty()
                            ? " (fix: " + a.fix() + ")" : ""));
                });
            }
            List<Cause> causes = new ArrayList<>();
            machinesBy.forEach((k, v) -> causes.add(new Cause(k, v[0], pairsBy.get(k)[0], example.get(k))));
            causes.sort((a, b) -> Integer.compare(b.machines(), a.machines()));
            long uncertain = results.stream().mapToLong(MachineAudit::uncertainPairs).sum();
            return new AuditReport(P2pDoctor.SCHEMA_VERSION, "audit", entries.size(), errors.size(), pairs, causes,
                    results, errors, policy == null ? null : policy.source, violations, uncertain, undetermined);
        }

        String text() {
            StringBuilder sb = new StringBuilder();
            int read = machines - unreadable;
            sb.append(String.format(java.util.Locale.ROOT, "fleet: %d machine(s)%s; endpoint pairs:", read,
                    unreadable == 0 ? "" : ", " + unreadable + " input(s) unreadable (named on stderr)"));
            pairs.forEach((k, v) -> sb.append(' ').append(k).append(' ').append(v));
            sb.append('\n');
            if (uncertainPairs > 0) {
                sb.append(String.format(java.util.Locale.ROOT, "%d pair(s) depend on ACS state the inputs lack (BUS_ADDR "
                        + "as described)%n", uncertainPairs));
            }
            if (read == 0) {
                sb.append("no machine could be read\n");
            } else if (causes.isEmpty()) {
                sb.append("every endpoint pair is BUS_ADDR\n");
            } else {
                sb.append("pairs that are not BUS_ADDR, by the rule that decided:\n");
                for (Cause c : causes) {
                    sb.append(String.format(java.util.Locale.ROOT, "  %-26s %6d machine(s) %9d pair(s)   e.g. %s%n",
                            c.ruleId(), c.machines(), c.pairs(), c.example()));
                }
            }
            if (policy != null) {
                long open = undetermined.stream().map(Policy.Undetermined::source).distinct().count();
                sb.append(!violations.isEmpty() ? "policy " + policy + ": " + violations.size() + " violation(s)\n"
                        : read == 0 ? "policy " + policy + ": no machine to judge\n"
                        : undetermined.isEmpty() ? "policy " + policy + ": every machine complies\n"
                        : "policy " + policy + ": no violation as described, but " + open
                                + " machine(s) cannot be judged from their inputs\n");
                for (Policy.Violation v : violations) {
                    sb.append(String.format(java.util.Locale.ROOT, "  %s: rule %s: %s (%s) -> %s (%s) is %s (%s)%s, "
                            + "expected %s%s%n", v.machine(), v.rule(), v.provider(), v.providerKind(), v.client(),
                            v.clientKind(), v.mapType(), v.ruleId(), v.redirecting().isEmpty() ? ""
                                    : ", ACS redirect on " + v.redirecting().replace(";", " "),
                            v.expected(), v.fix().isEmpty() ? "" : "; fix: " + v.fix()));
                }
                for (Policy.Undetermined u : undetermined) {
                    sb.append(String.format(java.util.Locale.ROOT, "  %s: rule %s: cannot tell%s: %s%n", u.machine(),
                            u.rule(), u.provider() == null ? "" : " for " + u.provider() + " -> " + u.client() + " ("
                                    + u.mapType() + " as described)", u.reason()));
                }
            }
            return sb.toString();
        }
    }
}
