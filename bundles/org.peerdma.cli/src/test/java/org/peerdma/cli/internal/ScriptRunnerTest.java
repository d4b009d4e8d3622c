package org.peerdma.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.peerdma.errno.KernelException;

/** Scripts and the interactive loop on a Gogo runtime outside OSGi, with toy commands. */
class ScriptRunnerTest {
    /** Toy commands in two scopes that share a name, as the modules do. */
    public static class Dmabuf {
        @Descriptor("attach a device")
        public String attach(@Descriptor("shell fd") int fd, @Descriptor("device") String bdf) {
            return "attached " + fd + " " + bdf;
        }

        public String listing() {
            return "line one\nline two";
        }

        public String fail() {
            throw KernelException.enodev("no PCI device %s", "0000:09:00.0");
        }
    }

    public static class Displ {
        public String attach(int x) {
            return "displ " + x;
        }
    }

    private ThreadIOImpl tio;
    private CommandProcessorImpl proc;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private ScriptRunner runner;

    @BeforeEach
    void setUp() {
        tio = new ThreadIOImpl();
        tio.start();
        proc = new CommandProcessorImpl(tio);
        Dmabuf d = new Dmabuf();
        Displ x = new Displ();
        proc.addCommand("displ", x, "attach");
        proc.addCommand("dmabuf", d, "attach");
        proc.addCommand("dmabuf", d, "listing");
        proc.addCommand("dmabuf", d, "fail");
        proc.addCommand("cli", new PassCommand(), "pass");
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        Gogo gogo = new Gogo(proc, new ByteArrayInputStream(new byte[0]), o, e);
        runner = new ScriptRunner(gogo, o, e, Usage.of(Map.of("dmabuf:attach", d, "displ:attach", x)));
    }

    @AfterEach
    void tearDown() {
        tio.stop();
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void resultsGoToStdoutAndTheRunGoesOnAfterAFailure() {
        int status = runner.script("s.gosh", "listing\nfail\nattach 3 05:00.0\n");
        assertThat(status).isEqualTo(1);
        assertThat(out()).isEqualTo("line one\nline two\nattached 3 05:00.0\n");
        assertThat(err()).isEqualTo("s.gosh:2: ENODEV: no PCI device 0000:09:00.0\n");
        assertThat(runner.failed()).isEqualTo(1);
    }

    @Test
    void theDocumentedScopeWinsAndWrongArgumentsGiveTheUsage() {
        assertThat(runner.script("s", "attach 3 05:00.0\n")).isZero();
        assertThat(out()).contains("attached 3 05:00.0");
        assertThat(runner.script("s", "attach x y z\n")).isEqualTo(1);
        assertThat(err()).contains("s:1: EINVAL: wrong arguments for attach\nusage: dmabuf:attach FD BDF\n")
                .contains("FD             shell fd").doesNotContain("Cannot coerce");
    }

    @Test
    void aMistypedCommandNamesTheClosestOnes() {
        assertThat(runner.script("s", "atach 1 2\n")).isEqualTo(1);
        assertThat(err()).contains("s:1: atach: command not found; did you mean: attach?");
    }

    @Test
    void assignmentsAreQuietAndVariablesCarryValues() {
        assertThat(runner.script("s", "v = (attach 3 05:00.0)\n$v\n")).isZero();
        assertThat(out()).isEqualTo("attached 3 05:00.0\n");
    }

    @Test
    void aRedirectedCommandWritesItsResultToTheFile() throws Exception {
        Path f = Files.createTempFile("out", ".txt");
        assertThat(runner.script("s", "listing > " + f + "\n")).isZero();
        assertThat(Files.readString(f)).isEqualTo("line one\nline two\n");
        assertThat(runner.script("s", "listing >> " + f + "\n")).isZero();
        assertThat(Files.readString(f)).isEqualTo("line one\nline two\nline one\nline two\n");
        assertThat(out()).isEmpty();
        Files.delete(f);
    }

    @Test
    void statementsSpanLinesAndSemicolonsSplitThem() {
        assertThat(runner.script("s", "listing ; attach 1 a\nattach 2 \"b;c\"\n")).isZero();
        assertThat(out()).isEqualTo("line one\nline two\nattached 1 a\nattached 2 b;c\n");
        assertThat(ScriptRunner.statements("a = {\n listing\n}\nlisting\n")).hasSize(2);
    }

    @Test
    void aSyntaxErrorRunsNothing() {
        assertThat(runner.script("s", "listing\necho (oops\n")).isEqualTo(65);
        assertThat(out()).isEmpty();
        assertThat(err()).startsWith("s:");
    }

    @Test
    void theLoopContinuesUnfinishedStatementsAndStopsAtExit() throws Exception {
        BufferedReader in = new BufferedReader(new StringReader("v = {\nlisting\n}\nlisting\nexit 4\nlisting\n"));
        assertThat(runner.loop(in, null)).isEqualTo(4);
        assertThat(out()).isEqualTo("line one\nline two\n");
        assertThat(err()).isEmpty();
    }

    @Test
    void aPastedBootOptionKeepsItsSemicolons() {
        assertThat(runner.script("s", "attach 2 pci=disable_acs_redir=0000:02:08.0;0000:02:09.0\n"
                + "attach 3 \"pci=disable_acs_redir=a;b\" ; listing\n")).isZero();
        assertThat(out()).isEqualTo("attached 2 pci=disable_acs_redir=0000:02:08.0;0000:02:09.0\n"
                + "attached 3 pci=disable_acs_redir=a;b\nline one\nline two\n");
        assertThat(ScriptRunner.quoteBootOptions("a ; b")).isEqualTo("a ; b");
    }

    @Test
    void aFailureBeforeAPipeOrARedirectIsReportedAndCounted() throws Exception {
        Path f = Files.createTempFile("out", ".txt");
        assertThat(runner.script("s", "fail > " + f + "\nlisting\n")).isEqualTo(1);
        assertThat(err()).isEqualTo("s:1: ENODEV: no PCI device 0000:09:00.0\n");
        assertThat(Files.readString(f)).isEmpty();
        assertThat(out()).isEqualTo("line one\nline two\n");
        err.reset();
        assertThat(runner.script("t", "attach x y z | cli:pass\nnosuch | cli:pass\n")).isEqualTo(1);
        assertThat(err()).contains("t:1: EINVAL: wrong arguments for attach\nusage: dmabuf:attach FD BDF\n")
                .contains("t:2: nosuch: command not found").doesNotContain("gogo:").doesNotContain("Cannot coerce");
        assertThat(runner.failed()).isEqualTo(3);
        Files.delete(f);
    }

    @Test
    void aRedirectionThatCannotBeOpenedIsAnErrnoNotATrace() {
        assertThat(runner.script("s", "listing > /nonexistent-dir/x\n")).isEqualTo(1);
        assertThat(err()).isEqualTo("s:1: ENOENT: /nonexistent-dir/x: no such file or directory\n");
    }

    @Test
    void exitTakesAStatusFrom0To255() {
        assertThat(runner.script("s", "exit 255\n")).isEqualTo(255);
        assertThat(runner.script("s", "exit 300\nlisting\n")).isEqualTo(64);
        assertThat(err()).contains("s:1: EINVAL: exit status '300' is not a number from 0 to 255");
        assertThat(out()).isEmpty();
    }

    @Test
    void aNonNumericExitIsAUsageError() {
        assertThat(runner.script("s", "exit abc\n")).isEqualTo(64);
        assertThat(err()).contains("exit status 'abc'").contains("hmm:exit PROCESS");
    }

    @Test
    void aNestedShellIsRefused() {
        assertThat(runner.script("s", "gosh\nlisting\n")).isEqualTo(1);
        assertThat(err()).contains("s:1: EINVAL: gosh would start a shell inside this one");
        assertThat(out()).isEqualTo("line one\nline two\n");
    }

    @Test
    void commandNames() {
        assertThat(ScriptRunner.commandName("x = (dmabuf:attach 1 2)")).isEqualTo("dmabuf:attach");
        assertThat(ScriptRunner.commandName("  lspci -t")).isEqualTo("lspci");
        assertThat(Usage.distance("lspic", "lspci")).isEqualTo(2);
    }

    @Test
    void theBareWordNullIsTextNotJavasNull() {
        assertThat(ScriptRunner.quoteNullWords("dma:mask 03:00.0 null")).isEqualTo("dma:mask 03:00.0 'null'");
        assertThat(ScriptRunner.quoteNullWords("a null null; b (c null)|d null")).isEqualTo(
                "a 'null' 'null'; b (c 'null')|d 'null'");
        // quoted, part of a word, or the command itself: as typed
        assertThat(ScriptRunner.quoteNullWords("echo \"null\" 'null' nullify anull")).isEqualTo(
                "echo \"null\" 'null' nullify anull");
        assertThat(ScriptRunner.quoteNullWords("null x")).isEqualTo("null x");
    }
}
