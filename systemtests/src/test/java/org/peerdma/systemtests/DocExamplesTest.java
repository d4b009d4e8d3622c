package org.peerdma.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.peerdma.systemtests.Peerdma.Run;

/**
 * Every example of README.md and docs/*.md, run as written: {@code ```gogo} blocks (and the README's
 * untagged "In the shell" block) as a script in the shell on the sample machine, {@code ```sh} blocks
 * in bash from the repository root. A statement may fail only where its comment says so (its errno,
 * "refused", or "(exit N)" for a command); nothing may print "Cannot coerce", "command not found" or
 * an exception. {@code ```console} blocks are developer commands (a build, hours of benchmarks) and
 * are not run.
 */
class DocExamplesTest {
    private static final Pattern FENCE = Pattern.compile("^```(\\w*)\\s*$");
    private static final Pattern COMMENT = Pattern.compile("\\s+#\\s.*$|\\s+#$");
    private static final Pattern ERROR_LINE = Pattern.compile("^stdin:(\\d+): (?:([A-Z][A-Z0-9]{2,}): )?(.*)$");
    private static final Pattern EXPECT_EXIT = Pattern.compile("\\(exit (\\d+)\\)");

    record Block(Path file, int line, String kind, List<String> lines) {
        String name() {
            return Peerdma.repo().relativize(file) + ":" + line + " (" + kind + ")";
        }
    }

    static List<Block> blocks() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(Peerdma.repo().resolve("README.md"));
        try (Stream<Path> s = Files.list(Peerdma.repo().resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<Block> out = new ArrayList<>();
        for (Path f : files) {
            List<String> text = Files.readAllLines(f);
            for (int i = 0; i < text.size(); i++) {
                Matcher m = FENCE.matcher(text.get(i));
                if (!m.matches()) {
                    continue;
                }
                String kind = m.group(1);
                int start = i + 1;
                int end = start;
                while (end < text.size() && !text.get(end).startsWith("```")) {
                    end++;
                }
                boolean shellIntro = f.getFileName().toString().equals("README.md") && kind.isEmpty()
                        && text.subList(Math.max(0, i - 3), i).stream().anyMatch(l -> l.contains("In the shell"));
                if (kind.equals("gogo") || kind.equals("sh") || shellIntro) {
                    out.add(new Block(f, start + 1, shellIntro ? "gogo" : kind, List.copyOf(text.subList(start, end))));
                }
                i = end;
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyExampleRunsAsWritten() throws IOException {
        List<Block> all = blocks();
        assertThat(all).as("examples found").hasSizeGreaterThan(6);
        return all.stream().map(b -> DynamicTest.dynamicTest(b.name(), () -> {
            if (b.kind().equals("gogo")) {
                gogo(b);
            } else {
                sh(b);
            }
        }));
    }

    private static void gogo(Block b) throws IOException {
        StringBuilder script = new StringBuilder();
        for (String l : b.lines()) {
            script.append(COMMENT.matcher(l).replaceFirst("")).append('\n');
        }
        Path dir = Files.createTempDirectory("peerdma-example");
        List<String> cmd = List.of("bash", Peerdma.repo().resolve("peerdma").toString(), "--no-build", "--topology",
                "sample");
        Run r = Peerdma.exec(cmd, script.toString(), Peerdma.repo());
        clean(b, r);
        for (String e : r.err().lines().toList()) {
            Matcher m = ERROR_LINE.matcher(e);
            if (!m.matches()) {
                continue; // the description of what a command made (fd N: ...) goes to stderr too
            }
            String source = b.lines().get(Integer.parseInt(m.group(1)) - 1);
            String errno = m.group(2);
            boolean expected = source.contains(" refused") || errno != null && source.contains(errno);
            assertThat(expected).as(b.name() + ": line " + m.group(1) + " failed: " + e + "\n" + r).isTrue();
        }
        assertThat(r.status()).as(b.name() + "\n" + r).isBetween(0, 1);
        Files.deleteIfExists(dir);
    }

    private static void sh(Block b) {
        StringBuilder script = new StringBuilder("cd \"" + Peerdma.repo() + "\"\no=$(mktemp) ; e=$(mktemp)\n");
        int n = 0;
        for (String raw : b.lines()) {
            n++;
            Matcher exit = EXPECT_EXIT.matcher(raw);
            int expect = exit.find() ? Integer.parseInt(exit.group(1)) : 0;
            String l = COMMENT.matcher(raw).replaceFirst("").strip();
            if (l.isEmpty()) {
                continue;
            }
            l = l.replaceAll("(^|;\\s*)\\./peerdma ", "$1./peerdma --no-build ");
            script.append(l).append(" > $o 2> $e; rc=$?\n")
                    .append("if [ $rc -ne ").append(expect).append(" ]; then echo \"line ").append(n)
                    .append(": exit $rc, expected ").append(expect).append("\" >&2; cat $e >&2; exit 1; fi\n")
                    .append("if grep -a -E 'Cannot coerce|command not found|Exception' $o $e >&2; then echo \"line ")
                    .append(n).append("\" >&2; exit 1; fi\n");
        }
        script.append("rm -f $o $e\n");
        Run r = Peerdma.bash(script.toString(), Peerdma.repo());
        assertThat(r.status()).as(b.name() + "\n" + r).isZero();
    }

    private static void clean(Block b, Run r) {
        for (String bad : List.of("Cannot coerce", "command not found", "Exception", "wrong arguments")) {
            assertThat(r.out() + r.err()).as(b.name() + "\n" + r).doesNotContain(bad);
        }
    }
}
