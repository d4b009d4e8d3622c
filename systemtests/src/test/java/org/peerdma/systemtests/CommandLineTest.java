package org.peerdma.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.peerdma.systemtests.Peerdma.Run;
import org.peerdma.testkit.Schemas;

/** The launched command line: exit statuses, clean streams, JSON that follows the schema. */
class CommandLineTest {
    private static final String REAL = "/topologies/real/";

    private static String shared(String name) {
        for (String base : new String[] {System.getProperty("peerdma.shared"), Peerdma.repo().resolveSibling("shared")
                .toString(), "/work/shared"}) {
            if (base != null && Files.isRegularFile(Path.of(base + REAL + name))) {
                return base + REAL + name;
            }
        }
        throw new IllegalStateException("shared/topologies/real not found");
    }

    @Test
    void checkExitsZeroOneOrTwoAndWritesOnlyTheReportOnStdout() {
        Run ok = Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology", "sample");
        assertThat(ok.status()).as(ok.toString()).isZero();
        assertThat(ok.out()).startsWith("provider 0000:03:00.0").contains("PCI_P2PDMA_MAP_THRU_HOST_BRIDGE");
        assertThat(ok.err()).as(ok.toString()).isEmpty();
        Run no = Peerdma.run("", "check", "81:00.0", "82:00.0", "--topology", shared("dell-r730-broadwell-ep-2xp100-nvme.txt"));
        assertThat(no.status()).as(no.toString()).isEqualTo(1);
        // hwloc has no ACS: below the on-board PEX 8747 the answer depends on a fact the dump lacks
        Run depends = Peerdma.run("", "check", "06:00.0", "07:00.0", "--topology",
                shared("hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt"));
        assertThat(depends.status()).as(depends.toString()).isEqualTo(2);
        assertThat(depends.out()).contains("DEPENDS").contains("  if 0000:");
    }

    @Test
    void drawWritesThePictureAndSaysWhatItDrewOnStderr() throws Exception {
        Path dir = Files.createTempDirectory("draw");
        Path png = dir.resolve("tree.png");
        Run tree = Peerdma.run("", "draw", "--topology", shared("asus-esc8000a-e12-genoa.txt"), "-o", png.toString(),
                "01:00.0", "41:00.0");
        assertThat(tree.status()).as(tree.toString()).isZero();
        assertThat(tree.out()).isEmpty();
        assertThat(tree.err()).startsWith("wrote " + png + ": png, ").contains("PCI_P2PDMA_MAP_THRU_HOST_BRIDGE");
        assertThat(javax.imageio.ImageIO.read(png.toFile()).getWidth()).isGreaterThan(500);
        Run svg = Peerdma.run("", "draw", "--topology", "sample", "--matrix", "--kind", "gpu", "-o", "-");
        assertThat(svg.status()).as(svg.toString()).isZero();
        assertThat(svg.out()).startsWith("<?xml").contains("cell-0000-03-00.0--0000-81-00.0").endsWith("</svg>\n");
        assertThat(Peerdma.run("", "draw", "--topology", "sample", "-o", dir.resolve("t.gif").toString()).status())
                .isEqualTo(64);
        assertThat(Peerdma.run("", "draw", "--topology", "sample").status()).isEqualTo(64);
        Run nodir = Peerdma.run("", "draw", "--topology", "sample", "-o", dir.resolve("no/t.svg").toString());
        assertThat(nodir.status()).as(nodir.toString()).isEqualTo(66);
        assertThat(nodir.err()).contains("ENOENT").doesNotContain("Exception");
    }

    @Test
    void everyJsonDocumentFollowsTheSchema() {
        String[][] runs = {
            {"check", "03:00.0", "05:00.0", "--topology", "sample", "--json"},
            {"check", "06:00.0", "07:00.0", "--json", "--topology", shared("hwloc-2rc-haswell-ep-2xk80-onboard-plx.txt")},
            {"matrix", "--json", "--topology", shared("puget-wrx90-threadripper-pro.txt")},
            {"matrix", "--json", "--class", "PIX,PXB", "--topology", "sample"},
            {"whatif", "03:00.0", "05:00.0", "redirect=off", "kernel=5.15", "--json", "--topology", "sample"},
            {"audit", "--json", "--expect", Peerdma.repo().resolve("examples/policy.yaml").toString(),
                Peerdma.repo().resolve("examples/sample-pasted.md").toString(),
                shared("asus-esc8000a-e12-genoa.txt"), Peerdma.repo().resolve("examples/policy.yaml").toString()},
        };
        for (String[] args : runs) {
            Run r = Peerdma.run("", args);
            assertThat(r.status()).as(String.join(" ", args) + "\n" + r).isBetween(0, 65);
            assertThat(Schemas.problems(r.out())).as(String.join(" ", args)).isEmpty();
        }
    }

    @Test
    void wrongArgumentsMissingAndBadInputHaveTheirStatus() throws Exception {
        Run usage = Peerdma.run("", "check", "03:00.0");
        assertThat(usage.status()).isEqualTo(64);
        assertThat(usage.err()).contains("EINVAL: Missing required parameter: 'CLIENT'").contains("usage: peerdma check");
        assertThat(usage.out()).isEmpty();
        Run missing = Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology", "/nonexistent");
        assertThat(missing.status()).as(missing.toString()).isEqualTo(66);
        assertThat(missing.out()).isEmpty();
        Path bad = Files.createTempFile("bad", ".txt");
        Files.writeString(bad, "00:00.0 Host bridge: Intel\n\tRegion 0: Memory at zz\n");
        Run data = Peerdma.run("", "lspci", "--topology", bad.toString());
        assertThat(data.status()).as(data.toString()).isEqualTo(65);
        assertThat(data.err()).contains(bad + ":2:");
        Files.delete(bad);
        Run unknown = Peerdma.run("", "chek", "03:00.0", "05:00.0");
        assertThat(unknown.status()).isEqualTo(64);
        assertThat(unknown.err()).contains("chek").doesNotContain("Exception");
        assertThat(Peerdma.run("", "--run", "nosuch", "check").err()).contains("no runtime 'nosuch'");
    }

    @Test
    void helpAndVersion() {
        Run help = Peerdma.run("", "--help");
        assertThat(help.status()).isZero();
        assertThat(help.out()).contains("Usage: peerdma").contains("check").contains("audit").contains("Exit status");
        Run check = Peerdma.run("", "check", "--help");
        assertThat(check.out()).contains("Usage: peerdma check").contains("2    depends on a fact the input lacks");
        // --version names the schema version the reports carry, which is the newest row of docs/json.md
        Run json = Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology", "sample", "--json");
        java.util.regex.Matcher v = java.util.regex.Pattern.compile("\"schemaVersion\"\\s*:\\s*\"([0-9.]+)\"")
                .matcher(json.out());
        assertThat(v.find()).as(json.out()).isTrue();
        String version = v.group(1);
        assertThat(Peerdma.run("", "--version").out()).contains("JSON schema " + version);
        assertThat(Peerdma.run("", "check", "--version").out()).startsWith("peerdma ").contains("JSON schema " + version);
        java.util.List<String> rows = new java.util.ArrayList<>();
        java.util.regex.Matcher row = java.util.regex.Pattern.compile("(?m)^\\| (1\\.[0-9]+) \\|").matcher(
                readDoc("docs/json.md"));
        while (row.find()) {
            rows.add(row.group(1));
        }
        assertThat(rows).as("docs/json.md's versions").isNotEmpty().last().isEqualTo(version);
    }

    @Test
    void aScriptOnStdinPrintsResultsAndExitsNonZeroWhenAStatementFailed() throws Exception {
        Path out = Files.createTempFile("tree", ".txt");
        Run r = Peerdma.run("lspci -s 03:00.0\nlspci -t > " + out + "\nnosuch\nmatrix 03:00.0 05:00.0\n",
                "--topology", "sample");
        assertThat(r.status()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("03:00.0 3D controller").contains("BUS = PCI_P2PDMA_MAP_BUS_ADDR")
                .doesNotContain("g!").doesNotContain("Welcome").doesNotContain("WARNING");
        assertThat(r.err()).contains("stdin:3: nosuch: command not found");
        assertThat(Files.readString(out)).contains("-[0000:00]-");
        Files.delete(out);
        Run clean = Peerdma.run("lspci -s 03:00.0\n", "--topology", "sample");
        assertThat(clean.status()).as(clean.toString()).isZero();
        assertThat(clean.err()).isEmpty();
    }

    /** A file of the checkout, from the module directory or the repository root. */
    static String readDoc(String path) {
        for (java.nio.file.Path p : new java.nio.file.Path[] {java.nio.file.Path.of(path), java.nio.file.Path.of("..", path)}) {
            if (java.nio.file.Files.isRegularFile(p)) {
                try {
                    return java.nio.file.Files.readString(p);
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            }
        }
        throw new IllegalStateException(path + " not found from " + java.nio.file.Path.of("").toAbsolutePath());
    }
}
