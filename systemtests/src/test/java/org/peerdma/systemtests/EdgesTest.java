package org.peerdma.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peerdma.systemtests.Peerdma.Run;
import org.peerdma.testkit.Schemas;

/**
 * The command line where a hostile review found it wanting: options in unexpected places, failures
 * inside pipes and redirections, captures with odd kernel releases, streams that fail, terminals.
 */
class EdgesTest {
    @TempDir
    Path tmp;

    private static String repo(String rel) {
        return Peerdma.repo().resolve(rel).toString();
    }

    /** A capture of the pasted sample: its listing, a manifest and the kernel release given. */
    private Path capture(String name, String release) throws Exception {
        Path c = tmp.resolve(name);
        Files.createDirectories(c);
        Files.writeString(c.resolve("peerdma-capture.txt"), "peerdma-capture: 1\nhost: " + name + "\n");
        Files.copy(Path.of(repo("examples/sample-pasted.md")), c.resolve("lspci-vvvnn.txt"));
        Files.writeString(c.resolve("uname-r.txt"), release + "\n");
        return c;
    }

    @Test
    void topologyBeforeTheCommandIsTheCommandsMachine() {
        Run r = Peerdma.run("", "--topology", "sample", "check", "03:00.0", "05:00.0");
        assertThat(r.status()).as(r.toString()).isZero();
        assertThat(r.out()).contains("provider 0000:03:00.0").contains("THRU_HOST_BRIDGE");
        Run twice = Peerdma.run("", "--topology", "sample", "check", "03:00.0", "05:00.0", "--topology",
                repo("examples/sample-pasted.md"));
        assertThat(twice.status()).as(twice.toString()).isEqualTo(64);
        assertThat(twice.err()).contains("--topology given twice");
        Run missing = Peerdma.run("lspci\n", "--topology", "/nonexistent", "shell");
        assertThat(missing.status()).as(missing.toString()).isEqualTo(66);
        Run audit = Peerdma.run("", "--topology", "sample", "audit", repo("examples/sample-pasted.md"));
        assertThat(audit.status()).as(audit.toString()).isEqualTo(64);
        assertThat(audit.err()).contains("--topology does not apply to audit");
    }

    @Test
    void aFailureInsideAPipeOrARedirectFailsTheScript() {
        Path f = tmp.resolve("x.txt");
        Run r = Peerdma.run("check 03:00.0 > " + f + "\nbogus | grep x\ncheck 99:00.0 05:00.0 | grep x\n"
                + "lspci > /proc/nope/x\n", "--topology", "sample");
        assertThat(r.status()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("stdin:1: EINVAL: wrong arguments for check\nusage: p2p:check")
                .contains("stdin:2: bogus: command not found")
                .contains("stdin:3: ENODEV: no PCI device 0000:99:00.0")
                .contains("stdin:4: ENOENT: /proc/nope/x: no such file or directory")
                .doesNotContain("gogo:").doesNotContain("Cannot coerce");
    }

    @Test
    void lspciArgumentsAsLspciTreatsThem() {
        Run noValue = Peerdma.run("", "lspci", "--topology", "sample", "-s");
        assertThat(noValue.status()).as(noValue.toString()).isEqualTo(64);
        assertThat(noValue.err()).contains("option -s needs a value").doesNotContain("internal error");
        Run none = Peerdma.run("", "lspci", "--topology", "sample", "-s", "99:00.0");
        assertThat(none.status()).isZero();
        assertThat(none.out()).isEmpty();
    }

    @Test
    void aCapturesKernelReleaseChoosesTheRulesEverywhere() throws Exception {
        Path c = capture("gpu07", "5.2.9-arch1");
        String expect = "[v5.2 rules, for kernel 5.2.9-arch1]";
        assertThat(Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology", c.toString()).out()).contains(expect);
        assertThat(Peerdma.run("check 03:00.0 05:00.0\n", "--topology", c.toString()).out()).contains(expect);
        assertThat(Peerdma.run("load " + c + "\ncheck 03:00.0 05:00.0\n").out()).contains(expect);
        Run weird = Peerdma.run("", "matrix", "--topology", capture("odd", "weird-kernel").toString());
        assertThat(weird.status()).as(weird.toString()).isZero();
        assertThat(weird.out()).contains("kernel release 'weird-kernel' is not a version number");
        Run el7 = Peerdma.run("", "audit", capture("el7", "3.10.0-1160.el7.x86_64").toString());
        assertThat(el7.status()).as(el7.toString()).isZero();
        assertThat(el7.out()).contains("el7 (").contains("note: kernel 3.10.0-1160.el7.x86_64 predates p2pdma");
        Run empty = Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology", "sample", "-k", "");
        assertThat(empty.status()).as(empty.toString()).isEqualTo(64);
    }

    @Test
    void scriptsThatAreNotTextOrNotFilesHaveTheirStatus() throws Exception {
        Path bin = tmp.resolve("bin.gosh");
        Files.write(bin, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, 3});
        Run b = Peerdma.run("", "shell", bin.toString());
        assertThat(b.status()).as(b.toString()).isEqualTo(65);
        assertThat(b.err()).contains("not UTF-8 text");
        Run d = Peerdma.run("", "shell", tmp.toString());
        assertThat(d.status()).as(d.toString()).isEqualTo(66);
        assertThat(d.err()).contains("EISDIR");
        Run nested = Peerdma.run("gosh\n", "--topology", "sample");
        assertThat(nested.status()).isEqualTo(1);
        assertThat(nested.out()).doesNotContain("g!");
        Run exit = Peerdma.run("exit 300\n", "--topology", "sample");
        assertThat(exit.status()).isEqualTo(64);
    }

    @Test
    void aFullDiskIsReportedAndAClosedPipeIsNot() {
        Run full = Peerdma.bash("bash ./peerdma --no-build check 03:00.0 05:00.0 --topology sample > /dev/full",
                Peerdma.repo());
        assertThat(full.status()).as(full.toString()).isEqualTo(74);
        assertThat(full.err()).contains("EIO: writing standard output: No space left on device");
        Run head = Peerdma.bash("bash ./peerdma --no-build matrix --topology sample | head -c 10", Peerdma.repo());
        assertThat(head.err()).as(head.toString()).doesNotContain("EIO");
    }

    @Test
    void jsonStaysValidWhenManyRunsEndAtOnce() {
        List<CompletableFuture<Run>> runs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            runs.add(CompletableFuture.supplyAsync(() -> Peerdma.run("", "check", "03:00.0", "05:00.0", "--topology",
                    "sample", "--json")));
        }
        for (CompletableFuture<Run> f : runs) {
            Run r = f.join();
            assertThat(r.status()).as(r.toString()).isZero();
            assertThat(Schemas.problems(r.out())).as(r.out()).isEmpty();
        }
    }

    @Test
    void auditsThatCannotBeSettledSaySo() throws Exception {
        Path noAcs = tmp.resolve("noacs.md");
        Files.write(noAcs, Files.readAllLines(Path.of(repo("examples/sample-pasted.md"))).stream()
                .filter(l -> !l.contains("ACSCap") && !l.contains("ACSCtl")).toList());
        Run r = Peerdma.run("", "audit", noAcs.toString(), "--expect", repo("examples/policy.yaml"));
        assertThat(r.status()).as(r.toString()).isEqualTo(2);
        assertThat(r.out()).contains("cannot be judged from their inputs").contains("cannot tell for 0000:03:00.0");
        Run json = Peerdma.run("", "audit", noAcs.toString(), "--expect", repo("examples/policy.yaml"), "--json");
        assertThat(Schemas.problems(json.out())).isEmpty();
        assertThat(json.out()).contains("\"undetermined\" : [ {");
        Run nothing = Peerdma.run("", "audit", "/dev/null");
        assertThat(nothing.status()).as(nothing.toString()).isEqualTo(65);
        assertThat(nothing.out()).contains("no machine could be read").doesNotContain("every endpoint pair");
        assertThat(nothing.err()).contains("/dev/null");
    }

    @Test
    void p2pMemoryAScriptLeavesBehindDoesNotHoldUpTheExit() {
        Run r = Peerdma.run("p2p:addres 04:00.0 3 1M\na = (p2p:alloc 04:00.0 8K)\n", "--topology", "sample");
        assertThat(r.status()).as(r.toString()).isZero();
        assertThat(r.err()).doesNotContain("ETIMEDOUT").doesNotContain("still held");
    }

    @Test
    void aTerminalOnStdinPromptsEvenWhenStdoutIsPiped() {
        Run r = Peerdma.bash("printf 'lspci -s 03:00.0\\nexit 3\\n' | script -qec \"bash -o pipefail -c "
                + "'bash ./peerdma --no-build --topology sample | cat'\" /dev/null", Peerdma.repo());
        assertThat(r.status()).as(r.toString()).isEqualTo(3);
        assertThat(r.out()).contains("g! ").contains("03:00.0 3D controller");
    }
}
