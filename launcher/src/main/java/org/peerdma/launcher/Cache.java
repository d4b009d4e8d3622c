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

    private Cache(Path root, Path bundles, Path modules, Path storage, FileChannel ch, FileLock lock, boolean temp) {
        this.root = root;
        this.bundles = bundles;
        this.modules = modules;
        this.storage = storage;
        this.lockChannel = ch;
        this.lock = lock;
        this.temporary = temp;
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
        String key = digest(rt.jar, all.jar, String.join(",", with));
        Path root = base.resolve(name + "-" + key);
        Files.createDirectories(root);
        Path bundles = extract(rt, root.resolve("bundles"));
        Path modules = extract(all, base.resolve("modules-" + digest(all.jar, all.jar, "")));
        FileChannel ch = FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException ex) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            Path tmp = Files.createTempDirectory("peerdma-fw-");
            return new Cache(root, bundles, modules, tmp, null, null, true);
        }
        removeStale(base, name, root);
        return new Cache(root, bundles, modules, root.resolve("fw"), ch, lock, false);
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

    /** Older caches of the same runtime that no process holds. */
    private static void removeStale(Path base, String name, Path keep) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(base, name + "-*")) {
            for (Path d : ds) {
                if (d.equals(keep) || !Files.isDirectory(d) || !d.getFileName().toString().matches(
                        java.util.regex.Pattern.quote(name) + "-[0-9a-f]{12}")) {
                    continue;
                }
                try (FileChannel ch = FileChannel.open(d.resolve("lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock l = ch.tryLock()) {
                    if (l != null) {
                        delete(d);
                    }
                } catch (IOException | OverlappingFileLockException busy) {
                    // in use or already gone
                }
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
        } catch (IOException ignored) {
            // best effort
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
            delete(storage);
        }
    }
}
