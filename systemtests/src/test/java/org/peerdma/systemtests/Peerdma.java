package org.peerdma.systemtests;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** ./peerdma run as a user runs it: a process with arguments, standard input, and its three results. */
final class Peerdma {
    /** One finished run. */
    record Run(int status, String out, String err) {
        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Peerdma() {
    }

    /** $TMPDIR of the processes run, removed when the tests end. */
    private static final Path TMP = tmp();

    private static Path tmp() {
        try {
            Path t = Files.createTempDirectory("peerdma-systemtests-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var walk = Files.walk(t)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
                } catch (IOException ignored) {
                    // best effort
                }
            }));
            return t;
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The repository root: the nearest ancestor with the peerdma script. */
    static Path repo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("peerdma")) && Files.isDirectory(p.resolve("runconfigs"))) {
                return p;
            }
        }
        throw new IllegalStateException("the peerdma script is not above " + Path.of("").toAbsolutePath());
    }

    static Run run(String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", repo().resolve("peerdma").toString(), "--no-build"));
        cmd.addAll(List.of(args));
        return exec(cmd, stdin, repo());
    }

    /** bash -c SCRIPT in {@code dir}. */
    static Run bash(String script, Path dir) {
        return exec(List.of("bash", "-c", script), "", dir);
    }

    static Run exec(List<String> cmd, String stdin, Path dir) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
            pb.environment().remove("PEERDMA_TRACE");
            pb.environment().put("TMPDIR", TMP.toString()); // what examples write under $TMPDIR goes with the run
            Process p = pb.start();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Run(p.exitValue(), out.get(), err.get());
        } catch (IOException | java.util.concurrent.ExecutionException ex) {
            throw new IllegalStateException(ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    /** A thread per stream (the common pool may have a single thread on 2 cores: stdout and stderr would block each other). */
    private static final java.util.concurrent.ExecutorService DRAIN = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "peerdma-drain");
        t.setDaemon(true);
        return t;
    });

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException ex) {
                return "(unreadable: " + ex + ")";
            }
        }, DRAIN);
    }
}
