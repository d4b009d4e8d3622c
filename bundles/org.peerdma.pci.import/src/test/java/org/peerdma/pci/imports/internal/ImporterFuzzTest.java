package org.peerdma.pci.imports.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.internal.FuzzCorpus.Seed;
import org.peerdma.pci.imports.internal.FuzzMutator.Mutation;
import org.peerdma.pci.imports.internal.FuzzMutator.Op;
import org.peerdma.pci.imports.sysfs.SysfsFuzzTrees;
import org.peerdma.pci.spi.TopologyImporter;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Bounded, crash-free input (issue 13): every importer of the module, through {@link TopologyIO} as the
 * commands use it, on mutated real dumps (docs/fuzzing.md). Each input is read into a machine, or refused with
 * the documented format error: a {@link TopologyFormatException} (EINVAL) naming the file, whose message
 * quotes at most about 80 characters of the input. Anything else fails: another exception or error (also
 * one the importer safety net in TopologyIOImpl turned into a format error, seen as its cause), a stack
 * overflow, running out of memory, a machine with a device address the PCI core cannot read, a machine the
 * project's own format cannot save and load again, and an input that takes longer than
 * {@code -Dpeerdma.fuzz.limit-ms} (3,000 ms of CPU time), or writes to stderr.
 * <p>
 * The unit-test run tries {@value #SHORT_TRIES} inputs (about 30 s here); {@code -Dpeerdma.fuzz.tries=N} runs N,
 * {@code -Dpeerdma.fuzz.seed=S} repeats a run. The figures per importer are printed at the end and written to
 * target/fuzz-report.txt; a failing input, shrunk, to target/fuzz-failures/.
 */
class ImporterFuzzTest {
    static final int SHORT_TRIES = 5000;
    /**
     * The CPU time one input may take: it catches super-linear reading, not a slow machine. The largest input
     * the mutator makes, a chain of 30,000 bridges on one lspci -t line (390 KB), reads in linear time (43, 158
     * and 433 ms for 3,000, 10,000 and 30,000 bridges as lspci-tv, three times that through auto's detection)
     * and took 1,943 ms, once 2,042 ms, of CPU on the 2-core machine beside other builds: 3,000 ms leaves it room.
     */
    static final long LIMIT_MS = Long.getLong("peerdma.fuzz.limit-ms", 3000);
    /**
     * Wall-clock time after which an input is taken to hang: generous, as the wall-clock time of a read on a busy
     * build machine (and of the checks after it) can be many times its CPU time.
     */
    static final long HANG_MS = Math.max(60_000, 30 * LIMIT_MS);
    /** Machines up to this many devices are saved and loaded again (larger ones, from nesting mutations, cost seconds). */
    private static final int ROUND_TRIP_DEVICES = 2_000;
    private static final int MAX_QUOTE_RUN = 85;
    private static final int MAX_DETAIL = 500;

    /** What an input is and how it reaches the importers. */
    enum Kind {
        /** readText with a format (one of the importers, or auto). */
        TEXT,
        /** The same text written to a file and read with read(path): the bytes path (NUL, UTF-8). */
        FILE,
        /** A FakeSysfs tree, its files mutated, read as sysfs or auto. */
        SYSFS,
        /** A scripts/peerdma-capture directory. */
        CAPTURE_DIR,
        /** The same packed as .tar.gz. */
        CAPTURE_ARCHIVE
    }

    /**
     * One generated input: numbers that select a seed, an importer, a window of the seed's lines and the
     * mutations; all are read modulo what they select, so that shrinking any of them gives a valid input.
     */
    record Input(Kind kind, int seed, int entry, int from, int len, List<Mutation> mutations, int variant) {
        @Override
        public String toString() {
            return Shared.get().describe(this);
        }
    }

    /**
     * The result of one input: read (accepted) or refused, what went wrong, the CPU time of the read (what the
     * limit applies to: a busy machine stretches the wall-clock time, not this) and its wall-clock time.
     */
    record Outcome(String label, boolean accepted, Throwable unexpected, String problem, long nanos, long wallNanos) {
    }

    /** Figures of one importer (label). */
    static final class Figures {
        long inputs;
        long accepted;
        long refused;
        long unexpected;
        long slowestNanos;
        long slowestWallNanos;
        String slowest = "";
    }

    /** Corpus, importers, the worker thread and the figures, shared by every try of a run. */
    static final class Shared {
        private static Shared instance;
        final TopologyIOImpl io = RealDumpsTest.io();
        final Map<String, TopologyImporter> textImporters = new LinkedHashMap<>();
        final FuzzCorpus corpus;
        final List<String> textFormats = new ArrayList<>();
        final Path tmp;
        final Map<String, Figures> figures = new LinkedHashMap<>();
        final AtomicLong counter = new AtomicLong();
        private ExecutorService worker;
        private volatile Thread workerThread;
        /** What the worker thread wrote to stderr during the current input: an importer must not (the CLI's stderr is its errors). */
        private final StringBuffer workerErr = new StringBuffer();

        private Shared() {
            textImporters.put("peerdma", new PeerdmaImporter());
            textImporters.put("lspci-vvv", new LspciVerboseImporter());
            textImporters.put("lspci-tv", new LspciTreeImporter());
            textImporters.put("hwloc-xml", new HwlocXmlImporter());
            textImporters.put("lstopo-v", new LstopoTextImporter());
            textImporters.put("nccl-topo-xml", new NcclXmlImporter());
            corpus = new FuzzCorpus(io, textImporters);
            for (String f : io.formats()) {
                textFormats.add(f);
            }
            try {
                Path shm = Path.of("/dev/shm");
                tmp = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "peerdma-fuzz-")
                        : Files.createTempDirectory("peerdma-fuzz-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(tmp)));
            newWorker();
            warmUp();
            java.io.PrintStream err = System.err;
            System.setErr(new java.io.PrintStream(new OutputStream() {
                @Override
                public void write(int b) {
                    if (Thread.currentThread() == workerThread && workerErr.length() < 2000) {
                        workerErr.append((char) b);
                    }
                    err.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    if (Thread.currentThread() == workerThread && workerErr.length() < 2000) {
                        workerErr.append(new String(b, off, Math.min(len, 2000), StandardCharsets.ISO_8859_1));
                    }
                    err.write(b, off, len);
                }

                @Override
                public void flush() {
                    err.flush();
                }
            }, true));
        }

        /** Every seed read once, untimed: the first reads of a cold JVM (JIT, pci.ids) are not the importers' time. */
        private void warmUp() {
            for (Seed seed : corpus.seeds()) {
                for (String format : new String[] {seed.format(), TopologyIO.AUTO}) {
                    try {
                        io.readText(seed.name(), seed.text(), format);
                    } catch (RuntimeException e) {
                        // a section may not be a document on its own
                    }
                }
            }
        }

        static synchronized Shared get() {
            if (instance == null) {
                instance = new Shared();
            }
            return instance;
        }

        private void newWorker() {
            worker = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "fuzz-worker");
                t.setDaemon(true);
                workerThread = t;
                return t;
            });
        }

        Seed seed(int i) {
            List<Seed> s = corpus.seeds();
            return s.get(Math.floorMod(i, s.size()));
        }

        /** Seed i among those of one format, any seed when there are none. */
        Seed seedOf(String format, int i) {
            List<Seed> s = corpus.of(format);
            return s.isEmpty() ? seed(i) : s.get(Math.floorMod(i, s.size()));
        }

        /** The format a text input is read with: mostly the seed's own, often auto, sometimes another importer's. */
        String format(Input in) {
            int e = Math.floorMod(in.entry(), 100);
            if (e < 50) {
                return seed(in.seed()).format();
            }
            if (e < 85) {
                return TopologyIO.AUTO;
            }
            return textFormats.get(e % textFormats.size());
        }

        /** The lines [from, from + len) of the seed (all of it when len is 0), then the mutations. */
        byte[] text(Input in) {
            return text(seed(in.seed()).bytes(), in.from(), in.len(), in.mutations());
        }

        byte[] text(byte[] seed, int from, int len, List<Mutation> ms) {
            byte[] b = seed;
            if (len > 0) {
                int[] starts = FuzzMutator.lineStarts(b);
                int f = Math.floorMod(from, starts.length);
                int t = Math.min(starts.length, f + len);
                b = java.util.Arrays.copyOfRange(b, starts[f], t < starts.length ? starts[t] : b.length);
            }
            return FuzzMutator.apply(b, ms, i -> seed(i).bytes());
        }

        String label(Input in) {
            return switch (in.kind()) {
                case TEXT, FILE -> format(in);
                case SYSFS -> "sysfs";
                case CAPTURE_DIR -> "capture-dir";
                case CAPTURE_ARCHIVE -> "capture-tar.gz";
            };
        }

        String describe(Input in) {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "Input(%s, seed %d, entry %d, from %d, len %d, variant %d, %s): ", in.kind(),
                    in.seed(), in.entry(), in.from(), in.len(), in.variant(), in.mutations()));
            sb.append(label(in)).append(" <- ");
            switch (in.kind()) {
                case TEXT, FILE -> {
                    Seed s = seed(in.seed());
                    sb.append('\'').append(s.name()).append("' (").append(s.format()).append(')')
                            .append(in.len() == 0 ? " whole" : " lines from " + in.from() + " (mod), " + in.len());
                    byte[] t = text(in);
                    sb.append(", mutations ").append(in.mutations()).append(", ").append(t.length).append(" bytes: \"")
                            .append(escape(t, 1500)).append('"');
                }
                default -> sb.append("tree ").append(in.variant()).append(", seed ").append(in.seed())
                        .append(", mutations ").append(in.mutations());
            }
            return sb.toString();
        }

        /**
         * Run one input on the worker thread; one that has not answered after {@link #HANG_MS} of wall-clock time
         * (a parse looping for ever, or waiting on a FIFO) is a hang, and the thread is stopped.
         */
        Outcome run(Input in) {
            String label = label(in);
            Path root = tmp.resolve("in-" + counter.incrementAndGet());
            Prepared call;
            try {
                call = prepare(in, root);
            } catch (IOException e) {
                throw new UncheckedIOException("preparing " + in.kind() + " input", e);
            }
            String rootText = root.toString();
            Future<Outcome> f = worker.submit(() -> execute(label, call, rootText));
            try {
                return f.get(HANG_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                Thread t = workerThread;
                f.cancel(true);
                stop(t);
                newWorker();
                return new Outcome(label, false, null, "no answer after " + HANG_MS + " ms (hang)", HANG_MS * 1_000_000,
                        HANG_MS * 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (ExecutionException e) {
                return new Outcome(label, false, e.getCause(), "the fuzz harness failed", 0, 0);
            } finally {
                deleteTree(root);
            }
        }

        @SuppressWarnings({"deprecation", "removal"})
        private static void stop(Thread t) {
            if (t != null) {
                try {
                    t.stop(); // a runaway parse (a regular expression backtracking for ever) does not heed interrupts
                } catch (UnsupportedOperationException e) {
                    // newer JDKs: the daemon thread is left behind
                }
            }
        }

        private Outcome execute(String label, Prepared call, String root) {
            java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
            long c0 = cpu.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            MachineDTO m = null;
            Throwable thrown = null;
            workerErr.setLength(0);
            try {
                m = call.read().call();
            } catch (Throwable e) {
                thrown = e;
            }
            long nanos = cpu.getCurrentThreadCpuTime() - c0;
            long wall = System.nanoTime() - t0;
            if (workerErr.length() > 0) {
                return new Outcome(label, thrown == null, null, "the read wrote to stderr: "
                        + escape(workerErr.toString().getBytes(StandardCharsets.UTF_8), 300), nanos, wall);
            }
            if (thrown instanceof TopologyFormatException e) {
                return new Outcome(label, false, null, refusalProblem(e, root), nanos, wall);
            }
            if (thrown instanceof KernelException e && e.errno() == Errno.ENOENT && call.path() != null
                    && !Files.exists(call.path(), LinkOption.NOFOLLOW_LINKS)) {
                return new Outcome(label, false, null, null, nanos, wall); // documented: ENOENT for a missing path
            }
            if (thrown != null) {
                return new Outcome(label, false, thrown, "unexpected " + thrown.getClass().getName(), nanos, wall);
            }
            String problem;
            try {
                problem = machineProblem(m);
            } catch (Throwable e) {
                return new Outcome(label, true, e, "checking the machine that was read failed", nanos, wall);
            }
            return new Outcome(label, true, null, problem, nanos, wall);
        }

        /** What is wrong with a refusal (null when it is the documented one). */
        static String refusalProblem(TopologyFormatException e, String root) {
            if (e.errno() != Errno.EINVAL) {
                return "format error with errno " + e.errno();
            }
            if (e.getCause() instanceof RuntimeException || e.getCause() instanceof Error) {
                return "an importer failed with " + e.getCause().getClass().getName()
                        + " (turned into a format error by the safety net): " + trace(e.getCause());
            }
            if (e.getMessage().contains(": cannot read it as ")) {
                return "an importer failed (the safety net's message): " + e.getMessage();
            }
            if (e.file() == null || e.file().isEmpty()) {
                return "format error without a file name: " + e.getMessage();
            }
            String detail = e.detail();
            if (detail.startsWith(e.file())) { // the file named (a path may be long): not a value quoted
                detail = detail.substring(e.file().length()).replaceFirst("^:(\\d+:)? ", "");
            }
            detail = detail.replace(root, "");
            if (detail.length() > MAX_DETAIL) {
                return "format error message of " + detail.length() + " characters (at most " + MAX_DETAIL
                        + "; values are clipped to 80): " + escape(detail.getBytes(StandardCharsets.UTF_8), 300);
            }
            int run = 1;
            for (int i = 1; i < detail.length(); i++) {
                run = detail.charAt(i) == detail.charAt(i - 1) ? run + 1 : 1;
                if (run > MAX_QUOTE_RUN) {
                    return "format error message quotes more than 80 characters of a value: "
                            + escape(detail.getBytes(StandardCharsets.UTF_8), 300);
                }
            }
            return null;
        }

        /** What is wrong with a machine that was read (null when nothing). */
        String machineProblem(MachineDTO m) {
            if (m == null || m.devices == null || m.hostBridges == null || m.notes == null) {
                return "a machine with null parts";
            }
            for (DeviceDTO d : m.devices) {
                if (d == null || d.bdf == null) {
                    return "a device without an address";
                }
                Bdf.parse(d.bdf); // what the PCI core does first with it
                if (d.physfn != null) {
                    Bdf.parse(d.physfn);
                }
            }
            for (HostBridgeDTO h : m.hostBridges) {
                if (h == null) {
                    return "a null host bridge";
                }
            }
            if (m.devices.size() > ROUND_TRIP_DEVICES) {
                return null;
            }
            String yaml = io.format(m, "yaml");
            try {
                MachineDTO again = io.readText("saved.yaml", yaml, TopologyIO.AUTO);
                if (again.devices.size() != m.devices.size()) {
                    return "saved and loaded again, " + m.devices.size() + " devices became " + again.devices.size();
                }
            } catch (TopologyFormatException e) {
                return "the machine read cannot be loaded once saved: " + e.getMessage();
            }
            return null;
        }

        /** What to read and the path it reads (null for a text in memory). */
        record Prepared(Callable<MachineDTO> read, Path path) {
        }

        /** Materialize an input under root; return the read to time. */
        Prepared prepare(Input in, Path root) throws IOException {
            switch (in.kind()) {
                case TEXT -> {
                    String text = new String(text(in), StandardCharsets.UTF_8);
                    String format = format(in);
                    return new Prepared(() -> io.readText("fuzz-input.txt", text, format), null);
                }
                case FILE -> {
                    Files.createDirectories(root);
                    Path file = root.resolve("fuzz-input.txt");
                    Files.write(file, text(in));
                    String format = format(in);
                    return new Prepared(() -> io.read(file, format), file);
                }
                case SYSFS -> {
                    Path dir = SysfsFuzzTrees.write(root, in.variant());
                    mutateTree(root, in, 3800); // PATH_MAX is 4096
                    String format = Math.floorMod(in.entry(), 2) == 0 ? "sysfs" : TopologyIO.AUTO;
                    return new Prepared(() -> io.read(dir, format), dir);
                }
                case CAPTURE_DIR -> {
                    Path cap = capture(root.resolve("cap"), in);
                    mutateTree(root, in, 3800);
                    return new Prepared(() -> io.read(cap, TopologyIO.AUTO), cap);
                }
                case CAPTURE_ARCHIVE -> {
                    Path cap = capture(root.resolve("cap"), in);
                    // commons-compress writes a long entry name in time quadratic in its length: keep them short
                    mutateTree(root, in, root.toString().length() + 300);
                    Path archive = root.resolve("capture.tar.gz");
                    pack(root, cap, archive, in);
                    return new Prepared(() -> io.read(archive, TopologyIO.AUTO), archive);
                }
                default -> throw new IllegalStateException();
            }
        }

        /** A capture directory as scripts/peerdma-capture writes it: listings (or a sysfs copy) and /proc files. */
        private Path capture(Path cap, Input in) throws IOException {
            Files.createDirectories(cap);
            int v = Math.floorMod(in.variant(), 1 << 10);
            Files.writeString(cap.resolve(CaptureReader.MANIFEST), "host: fuzzhost\nnote: not root: ACS unknown\n"
                    + "missing: nvidia-smi\n");
            boolean any = false;
            if ((v & 1) != 0) {
                Seed s = seedOf("lspci-vvv", in.seed());
                Files.write(cap.resolve("lspci-vvvnn.txt"), text(s.bytes(), in.from(), in.len(), List.of()));
                any = true;
            }
            if ((v & 2) != 0) {
                Seed s = seedOf("lspci-tv", in.seed() / 3);
                Files.write(cap.resolve("lspci-tvnn.txt"), text(s.bytes(), in.from() / 5, in.len(), List.of()));
                any = true;
            }
            if (!any || (v & 4) != 0) {
                SysfsFuzzTrees.write(cap.resolve("sys"), in.variant() >> 3 & ~3);
            }
            Files.writeString(cap.resolve("cpuinfo.txt"), "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                    + "model\t\t: 79\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\nphysical id\t: 0\n");
            Files.writeString(cap.resolve("uname-r.txt"), "5.15.0-91-generic\n");
            Files.writeString(cap.resolve("cmdline.txt"), "BOOT_IMAGE=/vmlinuz ro pci=disable_acs_redir=0000:80:01.0\n");
            Files.writeString(cap.resolve("dmesg-p2pdma.txt"), "[    1.0] pci 0000:00:01.0: ACS redirect disabled\n"
                    + "[    2.0] nvme 0000:81:00.0: p2pdma: 2 MiB published\n");
            if ((v & 8) != 0) {
                Files.writeString(cap.resolve("nvidia-smi-topo-m.txt"), "\tGPU0\tGPU1\nGPU0\t X \tPHB\n");
            }
            return cap;
        }

        /** Pack root's capture as a .tar.gz, with hostile entries and damaged bytes in some variants. */
        private void pack(Path root, Path cap, Path archive, Input in) throws IOException {
            int v = Math.floorMod(in.variant() >> 10, 1 << 8);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (OutputStream gz = new GZIPOutputStream(bytes); TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                List<Path> all = List.of(); // a mutation may have deleted the whole capture
                if (Files.exists(cap, LinkOption.NOFOLLOW_LINKS)) {
                    try (Stream<Path> s = Files.walk(cap)) {
                        all = s.sorted().toList();
                    }
                }
                for (Path p : all) {
                    String name = "cap/" + cap.relativize(p).toString().replace('\\', '/');
                    if (Files.isSymbolicLink(p)) {
                        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                        e.setLinkName(Files.readSymbolicLink(p).toString());
                        tar.putArchiveEntry(e);
                        tar.closeArchiveEntry();
                    } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        tar.putArchiveEntry(new TarArchiveEntry(name + "/"));
                        tar.closeArchiveEntry();
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        byte[] data = Files.readAllBytes(p);
                        TarArchiveEntry e = new TarArchiveEntry(name);
                        e.setSize(data.length);
                        tar.putArchiveEntry(e);
                        tar.write(data);
                        tar.closeArchiveEntry();
                    }
                }
                String[] hostile = {"../escape.txt", "/etc/peerdma-fuzz", "cap/../../x", "cap/lspci-vvvnn.txt",
                    "other/peerdma-capture.txt", "cap/sub/peerdma-capture.txt", "./cap/uname-r.txt", "cap//cmdline.txt"};
                if ((v & 1) != 0) {
                    String name = hostile[(v >> 1) % hostile.length];
                    byte[] data = "host: evil\n".getBytes(StandardCharsets.UTF_8);
                    TarArchiveEntry e = new TarArchiveEntry(name, true);
                    e.setSize(data.length);
                    tar.putArchiveEntry(e);
                    tar.write(data);
                    tar.closeArchiveEntry();
                }
                if ((v & 16) != 0) {
                    TarArchiveEntry e = new TarArchiveEntry("cap/hardlink", TarArchiveEntry.LF_LINK);
                    e.setLinkName("cap/peerdma-capture.txt");
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                }
            }
            byte[] b = bytes.toByteArray();
            if ((v & 32) != 0 && !in.mutations().isEmpty()) {
                Mutation m = in.mutations().get(0);
                Op op = switch (Math.floorMod(m.c(), 4)) {
                    case 0 -> Op.TRUNCATE;
                    case 1 -> Op.FLIP_BIT;
                    case 2 -> Op.DELETE_BYTES;
                    default -> Op.INSERT_BYTES;
                };
                b = FuzzMutator.apply(b, new Mutation(op, m.a(), m.b(), m.c()), i -> seed(i).bytes());
            }
            Files.write(archive, b);
        }

        /** Mutations of a directory tree: file contents with the text mutations, and structural changes. */
        private void mutateTree(Path root, Input in, int maxPath) throws IOException {
            List<Path> files = new ArrayList<>();
            List<Path> dirs = new ArrayList<>();
            boolean walk = true;
            for (Mutation m : in.mutations()) {
                if (walk) {
                    files.clear();
                    dirs.clear();
                    try (Stream<Path> s = Files.walk(root)) {
                        s.sorted().forEach(p -> {
                            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                                files.add(p);
                            } else if (!p.equals(root)) {
                                dirs.add(p);
                            }
                        });
                    }
                    walk = false;
                }
                if (files.isEmpty()) {
                    return;
                }
                Path f = files.get(Math.floorMod(m.a(), files.size()));
                if (m.op() != Op.SPLICE && m.op() != Op.DEEP_NESTING) {
                    byte[] b = Files.readAllBytes(f);
                    Files.write(f, FuzzMutator.apply(b, new Mutation(m.op(), m.b(), m.c(), m.a()), i -> seed(i).bytes()));
                    continue;
                }
                Path any = dirs.isEmpty() ? f : dirs.get(Math.floorMod(m.b(), dirs.size()));
                try {
                    structural(root, m.op() == Op.DEEP_NESTING ? 7 : Math.floorMod(m.c(), 10), f, any, m, maxPath);
                } catch (IOException e) {
                    // the tree as earlier mutations left it does not allow this one (a link where a directory was): skip it
                }
                walk = true;
            }
        }

        private void structural(Path root, int what, Path file, Path dir, Mutation m, int maxPath) throws IOException {
            switch (what) {
                case 0 -> deleteTree(Math.floorMod(m.a(), 2) == 0 ? file : dir);
                case 1 -> {
                    Files.delete(file);
                    Files.createDirectories(file); // a directory where a file was
                }
                case 2 -> {
                    Files.delete(file);
                    Files.createSymbolicLink(file, Path.of("no-such-target"));
                }
                case 3 -> {
                    Files.delete(file);
                    Files.createSymbolicLink(file, file.getFileName()); // a link to itself
                }
                case 4 -> {
                    Files.delete(file);
                    Files.createSymbolicLink(file, Path.of("/dev/zero"));
                }
                case 5 -> {
                    Files.delete(file);
                    try {
                        Process p = new ProcessBuilder("mkfifo", file.toString()).start();
                        if (p.waitFor() != 0) {
                            Files.createFile(file);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                case 6 -> {
                    // the same function a second time, spelled in upper case
                    String n = dir.getFileName().toString();
                    Path twin = dir.resolveSibling(n.toUpperCase(Locale.ROOT).replace("PCI", "pci"));
                    if (!twin.equals(dir) && !Files.exists(twin, LinkOption.NOFOLLOW_LINKS)) {
                        if (Files.isSymbolicLink(dir)) {
                            Files.createSymbolicLink(twin, Files.readSymbolicLink(dir));
                        } else if (Files.isDirectory(dir)) {
                            copyTree(dir, twin);
                        }
                    }
                }
                case 7 -> {
                    // function directories nested deeper than any real machine
                    Path d = Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? dir : root;
                    int depth = Math.min(250, FuzzMutator.DEPTHS[FuzzMutator.biased(m.c(), FuzzMutator.DEPTHS.length)]);
                    for (int i = 0; i < depth && d.toString().length() < maxPath; i++) {
                        d = d.resolve(String.format(Locale.ROOT, "0000:%02x:00.0", 1 + i % 255));
                    }
                    Files.createDirectories(d);
                    Files.writeString(d.resolve("vendor"), "0x8086\n");
                    Files.write(d.resolve("config"), SysfsFuzzTrees.config(Math.floorMod(m.b(), 4097)));
                }
                case 8 -> {
                    byte[] big = new byte[1 << 20];
                    new java.util.Random(m.b()).nextBytes(big);
                    Files.write(file, big);
                }
                default -> {
                    String[] odd = {"ffffffff:00:00.0", "0000:ff:1f.7", "00000000:00:00.0", "0000:00:00.8", "pciffff:ff",
                        "pci00000000:00", "0000:00:20.0"};
                    Path p = dir.resolveSibling(odd[Math.floorMod(m.b(), odd.length)]);
                    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createDirectories(p);
                        Files.writeString(p.resolve("vendor"), "0x10de\n");
                        Files.writeString(p.resolve("class"), "0x030200\n");
                    }
                }
            }
        }

        synchronized void record(Outcome o, Input in) {
            Figures f = figures.computeIfAbsent(o.label(), k -> new Figures());
            f.inputs++;
            boolean bad = o.unexpected() != null || o.problem() != null;
            if (bad) {
                f.unexpected++;
            } else if (o.accepted()) {
                f.accepted++;
            } else {
                f.refused++;
            }
            if (o.nanos() > f.slowestNanos) {
                f.slowestNanos = o.nanos();
                f.slowestWallNanos = o.wallNanos();
                f.slowest = shortDescription(in);
            }
        }

        String shortDescription(Input in) {
            String d = describe(in);
            return d.length() > 400 ? d.substring(0, 400) + "..." : d;
        }

        String report(long elapsedMs, String seed, int tries) {
            StringBuilder sb = new StringBuilder();
            long inputs = 0;
            long accepted = 0;
            long refused = 0;
            long unexpected = 0;
            sb.append(String.format(Locale.ROOT, "peerdma importer fuzz run of %s: %d tries, seed %s, %.1f s, limit %d ms"
                    + " of CPU time per input%n", LocalDateTime.now().withNano(0).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME),
                    tries, seed, elapsedMs / 1000.0, LIMIT_MS));
            sb.append(String.format(Locale.ROOT, "%-15s %9s %9s %9s %10s %12s %12s%n", "importer", "inputs", "accepted",
                    "refused", "unexpected", "slowest(cpu)", "its wall"));
            List<Map.Entry<String, Figures>> rows = new ArrayList<>(figures.entrySet());
            rows.sort(Map.Entry.comparingByKey());
            for (Map.Entry<String, Figures> e : rows) {
                Figures f = e.getValue();
                sb.append(String.format(Locale.ROOT, "%-15s %9d %9d %9d %10d %9.1f ms %9.1f ms%n", e.getKey(), f.inputs,
                        f.accepted, f.refused, f.unexpected, f.slowestNanos / 1e6, f.slowestWallNanos / 1e6));
                inputs += f.inputs;
                accepted += f.accepted;
                refused += f.refused;
                unexpected += f.unexpected;
            }
            sb.append(String.format(Locale.ROOT, "%-15s %9d %9d %9d %10d%n", "total", inputs, accepted, refused, unexpected));
            sb.append("slowest input per importer:\n");
            for (Map.Entry<String, Figures> e : rows) {
                sb.append(String.format(Locale.ROOT, "  %-15s %8.1f ms  %s%n", e.getKey(), e.getValue().slowestNanos / 1e6,
                        e.getValue().slowest));
            }
            return sb.toString();
        }
    }

    /** Sets the tries and seed from system properties, prints and writes the figures at the end. */
    static final class FuzzRun implements AroundPropertyHook {
        @Override
        public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
            Integer tries = Integer.getInteger("peerdma.fuzz.tries");
            int n = tries != null ? tries : context.attributes().tries().orElse(SHORT_TRIES);
            context.attributes().setTries(n);
            String seed = System.getProperty("peerdma.fuzz.seed");
            if (seed != null && !seed.isBlank()) {
                context.attributes().setSeed(seed);
            }
            Shared s = Shared.get();
            long t0 = System.currentTimeMillis();
            PropertyExecutionResult r = property.execute();
            String report = s.report(System.currentTimeMillis() - t0, r.seed().orElse("?"), r.countTries());
            System.out.print(report);
            try {
                Path target = Path.of("target");
                Files.createDirectories(target);
                Files.writeString(target.resolve("fuzz-report.txt"), report);
                if (r.status() == PropertyExecutionResult.Status.FAILED && r.falsifiedParameters().isPresent()
                        && !r.falsifiedParameters().get().isEmpty()
                        && r.falsifiedParameters().get().get(0) instanceof Input in) {
                    Path dir = Files.createDirectories(target.resolve("fuzz-failures"));
                    String name = s.label(in) + "-" + Integer.toHexString(in.hashCode());
                    if (in.kind() == Kind.TEXT || in.kind() == Kind.FILE) {
                        Files.write(dir.resolve(name + ".input"), s.text(in));
                    }
                    Files.writeString(dir.resolve(name + ".txt"), s.describe(in) + "\n");
                    System.out.println("shrunk failing input written to " + dir.resolve(name + ".*"));
                }
            } catch (IOException e) {
                System.out.println("cannot write the fuzz report: " + e);
            }
            return r;
        }
    }

    @Provide
    Arbitrary<Input> inputs() {
        Arbitrary<Kind> kind = Arbitraries.frequency(Tuple.of(172, Kind.TEXT), Tuple.of(12, Kind.FILE),
                Tuple.of(8, Kind.SYSFS), Tuple.of(5, Kind.CAPTURE_DIR), Tuple.of(3, Kind.CAPTURE_ARCHIVE));
        Arbitrary<Integer> small = Arbitraries.integers().between(0, 1_000_000);
        Arbitrary<Integer> len = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(0)),
                Tuple.of(44, Arbitraries.integers().between(1, 8)),
                Tuple.of(40, Arbitraries.integers().between(9, 60)),
                Tuple.of(12, Arbitraries.integers().between(61, 400)));
        Arbitrary<Mutation> mutation = Combinators.combine(Arbitraries.of(Op.class), small, small, small).as(Mutation::new);
        Arbitrary<List<Mutation>> mutations = mutation.list().ofMinSize(0).ofMaxSize(6);
        return Combinators.combine(kind, small, Arbitraries.integers().between(0, 99), small, len, mutations, small)
                .as(Input::new);
    }

    @Property(tries = SHORT_TRIES, shrinking = ShrinkingMode.BOUNDED, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FuzzRun.class)
    void everyInputIsReadOrRefusedWithAFormatError(@ForAll("inputs") Input in) {
        Shared s = Shared.get();
        Outcome o = s.run(in);
        s.record(o, in);
        if (o.unexpected() != null) {
            throw new AssertionError(o.label() + ": " + o.problem() + "\n" + trace(o.unexpected()));
        }
        if (o.problem() != null) {
            throw new AssertionError(o.label() + ": " + o.problem());
        }
        if (o.nanos() > LIMIT_MS * 1_000_000) {
            throw new AssertionError(String.format(Locale.ROOT, "%s: %.0f ms of CPU time for one input (limit %d ms)",
                    o.label(), o.nanos() / 1e6, LIMIT_MS));
        }
    }

    /** Every importer the module registers is fuzzed, from seeds written in its format (the corpus is complete). */
    @Example
    void everyImporterHasSeeds() {
        Shared s = Shared.get();
        for (String f : s.io.formats()) {
            if (f.equals("sysfs")) {
                continue; // directories: SysfsFuzzTrees
            }
            assertThat(s.corpus.of(f)).as("seeds in format " + f).isNotEmpty();
        }
        assertThat(s.textImporters.keySet()).containsAll(s.io.formats().stream()
                .filter(f -> !f.equals("sysfs") && !f.equals(TopologyIO.AUTO)).toList());
        for (Seed seed : s.corpus.seeds()) {
            if (!seed.name().contains(" lines ")) {
                assertThat(s.io.readText(seed.name(), seed.text(), seed.format()).devices).as(seed.name()).isNotEmpty();
            }
        }
    }

    static String trace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String s = w.toString();
        return s.length() > 4000 ? s.substring(0, 4000) + "..." : s;
    }

    /** The bytes as Java string text, control characters escaped, at most {@code max} characters. */
    static String escape(byte[] b, int max) {
        String s = new String(b, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < max; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || Character.isSurrogate(c) || c == '\ufffd'
                            || c == '\u2028' || c == '\ufeff') {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        if (sb.length() >= max) {
            sb.append("... (").append(s.length()).append(" characters)");
        }
        return sb.toString();
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory; the shutdown hook tries again
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted().toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isSymbolicLink(p)) {
                    Files.createSymbolicLink(t, Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(t);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.copy(p, t); // not a FIFO: copying one waits for a writer
                }
            }
        }
    }
}
