package org.peerdma.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

/**
 * The kept bundle cache of one runtime: the bundle jars taken out of the exported runtime once, and
 * Felix's storage with them installed, reused by every later start until the runtime is rebuilt
 * (the directory name carries a digest of the exported jars, so a rebuild gets a fresh one).
 * Two processes never share a Felix storage: the second one to start gets a temporary storage of
 * its own (slower, but correct), removed when it exits.
 *
 * <p>Location: {@code $PEERDMA_CACHE}, else {@code $XDG_CACHE_HOME/peerdma}, else
 * {@code ~/.cache/peerdma}.
 */
final class Cache implements AutoCloseable {
    private final Path root;
    private final Path bundles;
    private final Path modules;
    private final Path storage;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final boolean temporary;
    private final List<FileChannel> inUse;
    private Thread hook;
    private Path tmpRoot;

    private Cache(Path root, Path bundles, Path modules, Path storage, FileChannel ch, FileLock lock, boolean temp,
            List<FileChannel> inUse) {
        this.root = root;
        this.bundles = bundles;
        this.modules = modules;
        this.storage = storage;
        this.lockChannel = ch;
        this.lock = lock;
        this.temporary = temp;
        this.inUse = inUse;
    }

    static Path base() {
        String env = System.getenv("PEERDMA_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "peerdma");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "peerdma");
    }

    static Cache open(String name, Distribution rt, Distribution all, List<String> with) throws IOException {
        Path base = base();
        Files.createDirectories(base);
        // one cache per runtime and feature set: --with hmm does not evict the plain runtime's
        String prefix = with.isEmpty() ? name : name + "+" + String.join("+", with);
        String key = digest(rt.jar, all.jar, String.join(",", with));
        Path root = base.resolve(prefix + "-" + key);
        Files.createDirectories(root);
        Path modulesDir = base.resolve("modules-" + digest(all.jar, all.jar, ""));
        Files.createDirectories(modulesDir);
        // Held (shared) while this process runs: no other process deletes what it uses
        List<FileChannel> inUse = new ArrayList<>();
        inUse.add(shared(root));
        inUse.add(shared(modulesDir));
        Path bundles = extract(rt, root.resolve("bundles"));
        Path modules = extract(all, modulesDir.resolve("jars"));
        FileChannel ch = FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException ex) {
            lock = null;
        }
        removeStale(base, prefix, root);
        removeStale(base, "modules", modulesDir);
        removeAbandoned(base);
        if (lock == null) {
            ch.close();
            // another process has the kept storage: a storage of our own, under the cache, locked while we run so
            // a later start removes it if this process is killed
            Path tmpRoot = base.resolve("tmp");
            Files.createDirectories(tmpRoot);
            Path tmp = Files.createTempDirectory(tmpRoot, "fw-");
            inUse.add(shared(tmp));
            Cache c = new Cache(root, bundles, modules, tmp.resolve("fw"), null, null, true, inUse);
            c.hook = new Thread(() -> delete(tmp), "peerdma-cache-cleanup");
            Runtime.getRuntime().addShutdownHook(c.hook);
            c.tmpRoot = tmp;
            return c;
        }
        return new Cache(root, bundles, modules, root.resolve("fw"), ch, lock, false, inUse);
    }

    /** A shared lock on DIR/inuse, held until the cache is closed (or the process ends). */
    private static FileChannel shared(Path dir) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve("inuse"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            ch.lock(0, Long.MAX_VALUE, true);
        } catch (OverlappingFileLockException sameJvm) {
            // this JVM holds it already
        }
        return ch;
    }

    /**
     * removeIfUnused - delete DIR when no process holds it: under an exclusive lock on its inuse file, it is
     * first renamed out of the way (atomically, so of two processes cleaning up only one deletes it).
     */
    private static void removeIfUnused(Path dir) {
        try (FileChannel ch = FileChannel.open(dir.resolve("inuse"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE); FileLock l = ch.tryLock()) {
            if (l == null) {
                return;
            }
            Path trash = dir.resolveSibling(".trash-" + dir.getFileName() + "-" + ProcessHandle.current().pid() + "-"
                    + System.nanoTime());
            Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
            delete(trash);
        } catch (IOException | OverlappingFileLockException | java.io.UncheckedIOException inUseOrGone) {
            // another process holds it, or removed it first
        }
    }

    /**
     * Storages of processes that were killed (their lock is free) and extractions a killed process left
     * half-written (older than an hour).
     */
    private static void removeAbandoned(Path base) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(base.resolve("tmp"), "fw-*")) {
            for (Path d : ds) {
                removeIfUnused(d);
            }
        } catch (IOException none) {
            // no temporary storages
        }
        long hourAgo = System.currentTimeMillis() - 3_600_000L;
        try (Stream<Path> all = Files.walk(base, 2)) {
            for (Path d : all.filter(q -> q.getFileName().toString().contains(".tmp-")
                    || q.getFileName().toString().startsWith(".trash-")).toList()) {
                if (Files.getLastModifiedTime(d).toMillis() < hourAgo) {
                    delete(d);
                }
            }
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // best effort (another process may be cleaning up too)
        }
    }

    /** A digest of the exported jars (path, size, modification time) and the features added. */
    private static String digest(Path jar, Path other, String extra) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path p : new Path[] {jar, other}) {
                md.update(p.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8));
                md.update(Long.toString(Files.size(p)).getBytes(StandardCharsets.UTF_8));
                md.update(Long.toString(Files.getLastModifiedTime(p).toMillis()).getBytes(StandardCharsets.UTF_8));
            }
            md.update(extra.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(), 0, 6);
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("BUG: no SHA-256", ex);
        }
    }

    /** The runtime's bundle jars in {@code dir}, written once (to a temporary name, then renamed). */
    private static Path extract(Distribution d, Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(".complete"))) {
            return dir;
        }
        Path tmp = Files.createTempDirectory(dir.getParent(), dir.getFileName() + ".tmp-");
        try (JarFile jf = new JarFile(d.jar.toFile())) {
            for (Distribution.Item it : d.bundles()) {
                ZipEntry e = jf.getEntry(it.entry());
                if (e == null) {
                    throw new IOException(d.jar + " lacks " + it.entry());
                }
                try (InputStream in = jf.getInputStream(e)) {
                    Files.copy(in, tmp.resolve(fileName(it)), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Files.writeString(tmp.resolve(".complete"), "ok\n");
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileSystemException lost) {
            delete(tmp);
            if (!Files.isRegularFile(dir.resolve(".complete"))) {
                throw lost; // not another process's finished copy: a real failure
            }
            // another process extracted it first
        }
        return dir;
    }

    private static String fileName(Distribution.Item it) {
        String e = it.entry();
        return e.substring(e.lastIndexOf('/') + 1);
    }

    /** Older caches of the same runtime and features (or module sets) that no process holds. */
    private static void removeStale(Path base, String prefix, Path keep) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(base, prefix + "-*")) {
            for (Path d : ds) {
                if (d.equals(keep) || !Files.isDirectory(d) || !d.getFileName().toString().matches(
                        java.util.regex.Pattern.quote(prefix) + "-[0-9a-f]{12}")) {
                    continue;
                }
                removeIfUnused(d);
            }
        } catch (IOException ignored) {
            // nothing to clean
        }
    }

    static void delete(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // best effort: what another process removed meanwhile is gone anyway
        }
    }

    Path root() {
        return root;
    }

    Path storage() {
        return storage;
    }

    Path modules() {
        return modules;
    }

    /** The jar of a bundle: the runtime's own copy, or (a feature added with --with) the default runtime's. */
    Path jar(Distribution.Item it) {
        Path own = bundles.resolve(fileName(it));
        return Files.isRegularFile(own) ? own : modules.resolve(fileName(it));
    }

    /** Forget Felix's storage (it could not be read): the next init installs everything again. */
    void wipeStorage() {
        delete(storage);
    }

    @Override
    public void close() {
        try {
            if (lock != null) {
                lock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException ignored) {
            // released with the process anyway
        }
        if (temporary) {
            delete(tmpRoot);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exiting) {
                // the hook runs anyway
            }
        }
        for (FileChannel ch : inUse) {
            try {
                ch.close(); // releases the shared lock
            } catch (IOException ignored) {
                // released with the process anyway
            }
        }
    }
}
