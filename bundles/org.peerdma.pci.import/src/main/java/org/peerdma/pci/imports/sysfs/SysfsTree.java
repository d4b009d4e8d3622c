package org.peerdma.pci.imports.sysfs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the PCI functions of a sysfs tree and where each sits: the host bridge directory
 * (/sys/devices/pciDDDD:BB) and the bridges above it, from the real path of the
 * /sys/bus/pci/devices symlinks or from the nesting of a /sys/devices tree.
 */
final class SysfsTree {
    /** A function's directory name (pci_name()); VMD domains have five hex digits. */
    static final Pattern BDF = Pattern.compile("([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\\.([0-7])");
    /** A host bridge's directory name: "pci0000:00". */
    static final Pattern HOST = Pattern.compile("pci([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2})");
    private static final int MAX_DEPTH = 64;

    /** How the given directory is laid out. */
    enum Layout {
        /** A /sys (copy): bus/pci/devices inside. */
        SYSFS_ROOT,
        /** /sys/bus/pci/devices (copy): one entry per function. */
        DEVICE_LIST,
        /** /sys/devices, /sys without bus/, or one pciDDDD:BB directory: functions nested under bridges. */
        DEVICE_TREE
    }

    /**
     * One function.
     *
     * @param bdf lower-case pci_name()
     * @param dir its attribute directory; null when the listing entry is a dangling symlink
     * @param entry the listing entry or tree directory, for messages
     * @param chain host bridge name (when known) then the bridges above, top-down; null when the
     *        copy keeps no nesting (a flat copy of /sys/bus/pci/devices)
     * @param linkTarget the symlink target text, or null
     */
    record Entry(String bdf, Path dir, Path entry, List<String> chain, String linkTarget) {
        /** @return the host bridge directory name, or null when unknown. */
        String host() {
            return chain != null && !chain.isEmpty() && HOST.matcher(chain.get(0)).matches() ? chain.get(0) : null;
        }

        /** @return the upstream bridge's bdf, or null for a root bus device or an unknown chain. */
        String parent() {
            return chain == null || chain.isEmpty() || host() != null && chain.size() == 1 ? null
                    : chain.get(chain.size() - 1);
        }
    }

    /** What a scan found: the layout, the functions and the host bridge directory names. */
    record Found(Layout layout, List<Entry> entries, TreeSet<String> hostDirs) {
    }

    private SysfsTree() {
    }

    /** detect - the layout of {@code dir}; null when it is none of them. */
    static Layout detect(Path dir) throws IOException {
        if (Files.isDirectory(dir.resolve("bus/pci/devices"))) {
            return Layout.SYSFS_ROOT;
        }
        if (!nestsFunctions(dir) && !names(dir, BDF).isEmpty()) {
            return Layout.DEVICE_LIST;
        }
        return treeRoots(dir).isEmpty() ? null : Layout.DEVICE_TREE;
    }

    /** scan - every function of the tree in the given layout. */
    static Found scan(Path dir, Layout layout) throws IOException {
        TreeSet<String> hosts = new TreeSet<>();
        List<Entry> entries = new ArrayList<>();
        if (layout == Layout.DEVICE_TREE) {
            for (Path root : treeRoots(dir)) {
                String name = root.getFileName() == null ? "" : root.getFileName().toString().toLowerCase(Locale.ROOT);
                if (HOST.matcher(name).matches()) {
                    hosts.add(name); // a copy of pciDDDD:BB under another name has no host bridge name
                }
                walk(root, entries);
            }
            return new Found(layout, entries, hosts);
        }
        Path list = layout == Layout.SYSFS_ROOT ? dir.resolve("bus/pci/devices") : dir;
        if (layout == Layout.SYSFS_ROOT) {
            for (Path h : names(dir.resolve("devices"), HOST)) {
                hosts.add(h.getFileName().toString().toLowerCase(Locale.ROOT));
            }
        }
        TreeSet<Path> hostParents = new TreeSet<>();
        for (Path e : names(list, BDF)) {
            String bdf = e.getFileName().toString().toLowerCase(Locale.ROOT);
            if (Files.isSymbolicLink(e)) {
                Path target = Files.readSymbolicLink(e);
                Path resolved = e.getParent().resolve(target).normalize();
                boolean exists = Files.isDirectory(resolved);
                Path real = exists ? resolved.toRealPath() : resolved;
                List<String> chain = chain(real);
                if (exists && chain != null && !chain.isEmpty() && HOST.matcher(chain.get(0)).matches()) {
                    Path hostDir = real;
                    for (int i = 0; i < chain.size(); i++) {
                        hostDir = hostDir.getParent();
                    }
                    hostParents.add(hostDir.getParent());
                }
                entries.add(new Entry(bdf, exists ? real : null, e, chain, target.toString()));
            } else if (Files.isDirectory(e)) {
                entries.add(new Entry(bdf, e, e, null, null));
            }
        }
        for (Path p : hostParents) {
            for (Path h : names(p, HOST)) {
                hosts.add(h.getFileName().toString().toLowerCase(Locale.ROOT));
            }
        }
        return new Found(layout, entries, hosts);
    }

    /** The pciDDDD:BB directories of a tree layout: the directory itself, its children, or devices/. */
    private static List<Path> treeRoots(Path dir) throws IOException {
        if (nestsFunctions(dir)) {
            return List.of(dir);
        }
        List<Path> roots = names(dir, HOST);
        return roots.isEmpty() ? names(dir.resolve("devices"), HOST) : roots;
    }

    /**
     * Whether dir is (a copy of) a pciDDDD:BB directory: named so, or holding a function
     * directory (not symlink) that holds another function directory.
     */
    private static boolean nestsFunctions(Path dir) throws IOException {
        Path name = dir.getFileName();
        if (name != null && HOST.matcher(name.toString()).matches()) {
            return true;
        }
        for (Path fn : names(dir, BDF)) {
            if (!Files.isSymbolicLink(fn)) {
                for (Path child : names(fn, BDF)) {
                    if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Walk a host bridge directory without following symlinks, into function directories only. */
    private static void walk(Path root, List<Entry> out) throws IOException {
        Files.walkFileTree(root, EnumSet.noneOf(FileVisitOption.class), MAX_DEPTH, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                if (d.equals(root)) {
                    return FileVisitResult.CONTINUE;
                }
                String n = d.getFileName().toString();
                boolean fn = BDF.matcher(n).matches();
                if (!fn && !HOST.matcher(n).matches()) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (fn && (Files.exists(d.resolve("config")) || Files.exists(d.resolve("vendor")))) {
                    out.add(new Entry(n.toLowerCase(Locale.ROOT), d, d, chain(d), null));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * The names above a function's path, top-down: the nearest pciDDDD:BB ancestor (when there is
     * one before a non-PCI directory) and the bridge functions between it and the function.
     */
    static List<String> chain(Path fn) {
        LinkedList<String> chain = new LinkedList<>();
        for (Path p = fn.getParent(); p != null && p.getFileName() != null; p = p.getParent()) {
            String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
            if (BDF.matcher(n).matches()) {
                chain.addFirst(n);
            } else {
                if (HOST.matcher(n).matches()) {
                    chain.addFirst(n);
                }
                break;
            }
        }
        return chain;
    }

    /** The entries of {@code dir} whose names match {@code p}, sorted; empty when dir is unreadable. */
    static List<Path> names(Path dir, Pattern p) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path e : ds) {
                if (p.matcher(e.getFileName().toString()).matches()) {
                    out.add(e);
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** @return {domain, bus, device, function} of a bdf name. */
    static long[] parts(String bdf) {
        Matcher m = BDF.matcher(bdf);
        if (!m.matches()) {
            throw new IllegalArgumentException(bdf);
        }
        return new long[] {Long.parseLong(m.group(1), 16), Integer.parseInt(m.group(2), 16),
            Integer.parseInt(m.group(3), 16), Integer.parseInt(m.group(4))};
    }
}
