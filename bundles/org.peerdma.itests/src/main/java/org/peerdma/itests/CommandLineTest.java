package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.cli.PeerdmaCli;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.TopologyIO;

/** The command line inside the framework: the same services as the shell, exit statuses, scripts. */
@ExtendWith(ServiceExtension.class)
class CommandLineTest {
    @InjectService(timeout = 5000)
    PeerdmaCli cli;

    @InjectService(timeout = 5000)
    PciCore core;

    @InjectService(timeout = 5000)
    TopologyIO io;

    record Run(int status, String out, String err) {
    }

    private Run run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = cli.run(List.of(args), new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                false);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @AfterEach
    void sampleAgain() {
        core.load(io.sample());
    }

    @Test
    void checkExitsWithTheVerdict() {
        Run ok = run("", "check", "03:00.0", "05:00.0", "--topology", "sample");
        assertThat(ok.status()).isZero();
        assertThat(ok.out()).contains("PCI_P2PDMA_MAP_THRU_HOST_BRIDGE");
        assertThat(ok.err()).isEmpty();
        Run no = run("", "check", "03:00.0", "05:00.0", "--topology", "sample", "-k", "v4.20");
        assertThat(no.status()).isEqualTo(1);
        assertThat(no.out()).contains("P2P NOT SUPPORTED");
        Run json = run("", "check", "--json", "05:00.0", "06:00.0", "--topology", "sample");
        assertThat(json.status()).isZero();
        assertThat(json.out()).startsWith("{").contains("\"mapType\" : \"BUS_ADDR\"").contains("\"exitStatus\" : 0");
    }

    @Test
    void wrongArgumentsAndMissingInputHaveTheirStatus() throws Exception {
        Run usage = run("", "check", "03:00.0");
        assertThat(usage.status()).isEqualTo(PeerdmaCli.USAGE);
        assertThat(usage.err()).contains("Missing required parameter").contains("usage: peerdma check [-hjV]");
        assertThat(usage.out()).isEmpty();
        Run noDevice = run("", "check", "03:00.0", "77:00.0", "--topology", "sample");
        assertThat(noDevice.status()).isEqualTo(PeerdmaCli.USAGE);
        assertThat(noDevice.err()).contains("ENODEV: no PCI device 0000:77:00.0");
        Run missing = run("", "check", "03:00.0", "05:00.0", "--topology", "/nonexistent/dump.txt");
        assertThat(missing.status()).isEqualTo(PeerdmaCli.NOINPUT);
        assertThat(missing.err()).contains("ENOENT").contains("/nonexistent/dump.txt");
        Path bad = Files.createTempFile("bad-dump", ".txt");
        Files.writeString(bad, "peerdma-topology: 1\ndevices:\n  - bdf: nonsense\n");
        Run data = run("", "check", "03:00.0", "05:00.0", "--topology", bad.toString());
        assertThat(data.status()).isEqualTo(PeerdmaCli.DATAERR);
        assertThat(data.err()).contains("EINVAL");
        Files.delete(bad);
        Run badK = run("", "check", "03:00.0", "05:00.0", "-k", "3.1");
        assertThat(badK.status()).isEqualTo(PeerdmaCli.USAGE);
        assertThat(badK.err()).contains("has no p2pdma");
    }

    @Test
    void matrixLspciAndWhatIf() {
        Run m = run("", "matrix", "--class", "PIX", "--topology", "sample");
        assertThat(m.status()).isZero();
        assertThat(m.out()).contains("BUS(4) PIX").doesNotContain(" PHB");
        // by device kind: the sample's three GPUs only (03:00.0, 04:00.0 and the one on socket 1)
        Run gpus = run("", "matrix", "--kind", "gpu", "--json", "--topology", "sample");
        assertThat(gpus.status()).as(gpus.err()).isZero();
        assertThat(gpus.out()).contains("\"0000:03:00.0\"").contains("\"0000:04:00.0\"")
                .doesNotContain("\"0000:05:00.0\"").doesNotContain("\"0000:06:00.0\"");
        Run badKind = run("", "matrix", "--kind", "toaster", "--topology", "sample");
        assertThat(badKind.status()).isEqualTo(64);
        assertThat(badKind.err()).contains("unknown device kind 'toaster'");
        Run tree = run("", "lspci", "-tv", "--topology", "sample");
        assertThat(tree.status()).isZero();
        assertThat(tree.out()).contains("-[0000:00]-").contains("A100");
        Run w = run("", "whatif", "03:00.0", "05:00.0", "acs:02:08.0=-RR,-CR", "--topology", "sample");
        assertThat(w.status()).isZero();
        assertThat(w.out()).contains("after:  PCI_P2PDMA_MAP_BUS_ADDR distance 4");
        Run badChange = run("", "whatif", "03:00.0", "05:00.0", "nonsense", "--topology", "sample");
        assertThat(badChange.status()).isEqualTo(PeerdmaCli.USAGE);
        assertThat(badChange.err()).contains("EINVAL: what-if change 'nonsense' is not key=value");
    }

    @Test
    void aScriptRunsEveryStatementAndFailsIfOneFailed() throws Exception {
        Path out = Files.createTempFile("lspci", ".txt");
        String script = "lspci -s 03:00.0\n"
                + "lspic -t\n"
                + "lspci -t > " + out + "\n"
                + "attach 1\n"
                + "check 03:00.0 05:00.0\n";
        Run r = run(script, "shell", "--topology", "sample");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.out()).contains("03:00.0 3D controller").contains("PCI_P2PDMA_MAP_THRU_HOST_BRIDGE")
                .doesNotContain("g!").doesNotContain("Welcome");
        assertThat(r.err()).contains("stdin:2: lspic: command not found; did you mean: lspci?")
                .contains("stdin:4: EINVAL: wrong arguments for attach").contains("usage: dmabuf:attach")
                .doesNotContain("Cannot coerce");
        assertThat(Files.readString(out)).contains("-[0000:00]-");
        Files.delete(out);
        Run clean = run("lspci -s 03:00.0\n", "shell");
        assertThat(clean.status()).isZero();
        Run syntax = run("echo (unclosed\n", "shell");
        assertThat(syntax.status()).isEqualTo(PeerdmaCli.DATAERR);
        assertThat(syntax.err()).contains("syntax error");
        Run exit = run("exit 3\nlspci\n", "shell");
        assertThat(exit.status()).isEqualTo(3);
        assertThat(exit.out()).isEmpty();
    }

    @Test
    void modparamIsInForceForTheNextCommandAndCheckedAgainstMetatype() {
        for (int i = 0; i < 5; i++) {
            Run r = run("modparam p2pdma kernel_version=v5.2\ncheck 03:00.0 05:00.0\nmodparam p2pdma\n"
                    + "modparam p2pdma kernel_version=newest\ncheck 03:00.0 05:00.0\n", "shell", "--topology", "sample");
            assertThat(r.status()).as(r.err()).isZero();
            String[] checks = r.out().split("\nverdict  ");
            assertThat(checks[1]).contains("[v5.2 rules]").contains("distance -2");
            assertThat(r.out()).containsPattern("kernel_version\\s+rw\\s+v5.2");
            assertThat(checks[2]).contains("[newest (v7.x) rules]");
        }
        Run bad = run("modparam p2pdma kernel_version=bogus\nmodparam p2pdma release_wait_ms=-5\n"
                + "modparam dma_heap cma_mb=-1\nmodparam p2pdma\n", "shell");
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).contains("stdin:1: EINVAL: p2pdma: bad value 'bogus' for kernel_version")
                .contains("(one of: newest, v5.x, v5.2, v4.20)")
                .contains("stdin:2: EINVAL: p2pdma: bad value '-5' for release_wait_ms")
                .contains("stdin:3: EINVAL: dma_heap: bad value '-1' for cma_mb");
        assertThat(bad.out()).containsPattern("kernel_version\\s+rw\\s+newest").containsPattern("release_wait_ms\\s+rw\\s+5000");
    }

    @Test
    void valuesAScriptCanUse() {
        Run r = run("p2p:addres 04:00.0 3 1M\na = (p2p:alloc 04:00.0 8K)\np2p:free 04:00.0 $a 8K\np2p:release 04:00.0\n",
                "shell", "--topology", "sample");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).contains("available now");
        assertThat(r.out()).contains("available 1048576");
    }

    @Test
    void auditReadsAFleetAndGatesOnAPolicy() throws Exception {
        Path fleet = Files.createTempDirectory("fleet");
        Path sample = fleet.resolve("rack1/gpu01.yaml");
        Files.createDirectories(sample.getParent());
        io.write(io.sample(), sample);
        Files.writeString(fleet.resolve("rack1/broken.txt"), "this is not a dump\n");
        Files.createDirectories(fleet.resolve(".hidden"));
        Files.writeString(fleet.resolve(".hidden/skipped.txt"), "never read\n");
        Path fixed = fleet.resolve("rack2/gpu02.yaml");
        Files.createDirectories(fixed.getParent());
        var dto = io.sample();
        dto.name = "gpu02";
        dto.devices.forEach(d -> {
            if (d.acs != null && d.acs.ctrl != null) {
                d.acs.ctrl &= ~(org.peerdma.pci.Acs.REDIRECT_BITS);
            }
        });
        io.write(dto, fixed);
        Path policy = fleet.resolve("policy.yaml");
        Files.writeString(policy, "rules:\n  - name: gpu-nic-same-switch\n    pair: [gpu, nic]\n    where: same-switch\n"
                + "    expect: [BUS_ADDR]\n");
        Run r = run("", "audit", fleet.resolve("rack1").toString(), fleet.resolve("rack2").toString(), "--expect",
                policy.toString(), "--jobs", "2");
        assertThat(r.status()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("peerdma audit: " + fleet.resolve("rack1/broken.txt") + ": ");
        assertThat(r.out()).contains("fleet: 2 machine(s), 1 input(s) unreadable (named on stderr)")
                .contains("acs-redirect-host-bridge")
                .contains("rule gpu-nic-same-switch: 0000:03:00.0 (gpu) -> 0000:05:00.0 (nic) is THRU_HOST_BRIDGE")
                .contains("fix: pci=disable_acs_redir=0000:02:08.0")
                .doesNotContain("gpu02: rule").doesNotContain("skipped.txt");
        assertThat(r.out().lines().filter(l -> l.startsWith("gpu02 (sample): "))).singleElement()
                .satisfies(l -> assertThat(l).contains("0 redirecting port(s)"));
        // the same fleet without the broken file and with the fixed machine only: complies
        Run ok = run("", "audit", fixed.toString(), "--expect", policy.toString());
        assertThat(ok.status()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("every machine complies");
        // an unreadable input alone: 65; a policy with a typo: 65 naming its line; no policy: 66
        assertThat(run("", "audit", fleet.resolve("rack1/broken.txt").toString()).status()).isEqualTo(65);
        Files.writeString(policy, "rules:\n  - name: x\n    pair: [gpu, nic]\n    expct: [BUS_ADDR]\n");
        Run typo = run("", "audit", fixed.toString(), "--expect", policy.toString());
        assertThat(typo.status()).isEqualTo(65);
        assertThat(typo.err()).contains(policy + ":4:").contains("expct");
        assertThat(run("", "audit", fixed.toString(), "--expect", "/nonexistent.yaml").status()).isEqualTo(66);
        assertThat(run("", "audit", "/nonexistent-fleet").status()).isEqualTo(66);
    }

    @Test
    void unscopedCommandsRunTheModuleTheDocumentationMeans() {
        // attach is dmabuf's (not displ's), find p2pdma's (not p2pmem's), load the PCI core's
        Run r = run("find 05:00.0\nload sample\n", "shell");
        assertThat(r.err()).doesNotContain("Cannot coerce").doesNotContain("p2pmem");
        assertThat(r.out()).contains("no published provider reaches every client").contains("from sample: 22 devices");
    }
}
