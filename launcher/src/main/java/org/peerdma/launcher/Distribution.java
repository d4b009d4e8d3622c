package org.peerdma.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;

/**
 * A runtime exported by the build (runconfigs/target/NAME.jar, bnd's executable-jar format): its
 * bundles with their start levels, its framework properties, and (in the default runtime, which
 * holds every bundle) the bundle list of each feature.
 */
final class Distribution {
    /** A bundle: its symbolic name, its jar inside the exported runtime, its start level. */
    record Item(String bsn, String entry, int startLevel) {
    }

    private static final Pattern ATTR = Pattern.compile("([^;,\\s]+)((?:;[^,]*)?)");
    private static final Pattern START_LEVEL = Pattern.compile("startlevel\\s*=\\s*'?\"?(\\d+)");

    final String name;
    final Path jar;
    private final Properties props;
    private final List<Item> bundles;

    private Distribution(String name, Path jar, Properties props, List<Item> bundles) {
        this.name = name;
        this.jar = jar;
        this.props = props;
        this.bundles = bundles;
    }

    static Distribution read(Path dir, String name) {
        Path jar = dir.resolve(name + ".jar");
        if (!Files.isRegularFile(jar)) {
            List<String> known = new ArrayList<>();
            try (var s = Files.list(dir)) {
                s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".jar"))
                        .map(f -> f.substring(0, f.length() - 4)).sorted().forEach(known::add);
            } catch (IOException ignored) {
                // no runtimes built
            }
            throw new Main.LaunchException(known.isEmpty() ? Main.SOFTWARE : Main.USAGE, known.isEmpty()
                    ? "no runtimes in " + dir + ": build first (mvn install, or ./peerdma without --no-build)"
                    : "ENOENT: no runtime '" + name + "' (available: " + String.join(", ", known) + ")");
        }
        Properties p = new Properties();
        try (JarFile jf = new JarFile(jar.toFile())) {
            ZipEntry e = jf.getEntry("launcher.properties");
            if (e == null) {
                throw new Main.LaunchException(Main.SOFTWARE, jar + " is not an exported runtime (no launcher.properties)");
            }
            try (InputStream in = jf.getInputStream(e)) {
                p.load(in);
            }
        } catch (IOException ex) {
            throw new Main.LaunchException(Main.SOFTWARE, "reading " + jar + ": " + ex.getMessage());
        }
        String[] entries = p.getProperty("launch.bundles", "").split(",");
        List<String[]> attrs = clauses(p.getProperty("launch.runbundles.attrs", ""));
        if (entries.length != attrs.size()) {
            throw new Main.LaunchException(Main.SOFTWARE, jar + ": launch.bundles and launch.runbundles.attrs disagree");
        }
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < entries.length; i++) {
            items.add(new Item(attrs.get(i)[0], entries[i].strip(), startLevel(attrs.get(i)[1], 1)));
        }
        return new Distribution(name, jar, p, List.copyOf(items));
    }

    /** "bsn;version=...;startlevel=5,bsn2;..." as [bsn, attributes] pairs. */
    static List<String[]> clauses(String list) {
        List<String[]> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i <= list.length(); i++) {
            char c = i < list.length() ? list.charAt(i) : ',';
            if (c == '"' || c == '\'') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                String clause = cur.toString().strip();
                if (!clause.isEmpty()) {
                    int semi = clause.indexOf(';');
                    out.add(new String[] {semi < 0 ? clause : clause.substring(0, semi).strip(),
                        semi < 0 ? "" : clause.substring(semi)});
                }
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        return out;
    }

    private static int startLevel(String attrs, int dflt) {
        Matcher m = START_LEVEL.matcher(attrs);
        return m.find() ? Integer.parseInt(m.group(1)) : dflt;
    }

    List<Item> bundles() {
        return bundles;
    }

    /** feature - the bundles of feature {@code name}, as the default runtime lists them (peerdma.feature.NAME). */
    List<Item> feature(String feature) {
        String list = props.getProperty("peerdma.feature." + feature);
        if (list == null) {
            List<String> known = props.stringPropertyNames().stream().filter(k -> k.startsWith("peerdma.feature."))
                    .map(k -> k.substring("peerdma.feature.".length())).sorted().toList();
            throw new Main.LaunchException(Main.USAGE, "ENOENT: no feature '" + feature + "' (features: "
                    + String.join(", ", known) + ")");
        }
        Map<String, Item> byBsn = new HashMap<>();
        for (Item it : bundles) {
            byBsn.put(it.bsn(), it);
        }
        List<Item> out = new ArrayList<>();
        for (String[] c : clauses(list)) {
            Item it = byBsn.get(c[0]);
            if (it == null) {
                throw new Main.LaunchException(Main.SOFTWARE, "feature " + feature + " names " + c[0]
                        + ", which the default runtime does not contain");
            }
            out.add(new Item(it.bsn(), it.entry(), startLevel(c[1], it.startLevel())));
        }
        return out;
    }

    /** The framework properties: everything in launcher.properties that is not the launcher's own. */
    Map<String, String> frameworkProperties() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : props.stringPropertyNames()) {
            if (!k.startsWith("launch.") && !k.startsWith("peerdma.feature.")) {
                out.put(k, props.getProperty(k));
            }
        }
        String sys = props.getProperty("launch.system.packages");
        if (sys != null && !sys.isBlank()) {
            out.put("org.osgi.framework.system.packages.extra", sys);
        }
        String level = props.getProperty("org.osgi.framework.startlevel.beginning");
        if (level != null) {
            out.put("org.osgi.framework.startlevel.beginning", level);
        }
        return out;
    }

    /** Every feature name the default runtime lists. */
    List<String> features() {
        return props.stringPropertyNames().stream().filter(k -> k.startsWith("peerdma.feature."))
                .map(k -> k.substring("peerdma.feature.".length())).sorted().toList();
    }
}
