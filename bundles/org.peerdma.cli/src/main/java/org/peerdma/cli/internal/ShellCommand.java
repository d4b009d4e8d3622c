package org.peerdma.cli.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import org.peerdma.cli.PeerdmaCli;
import org.peerdma.pci.PciMachine;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** peerdma shell [SCRIPT]: the Gogo shell of every module, interactive or running a script. */
@Command(name = "shell", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"The shell: every module's commands (docs/shell.md). On a terminal it prompts (g!); otherwise "
            + "it runs the statements of SCRIPT, or of standard input, one after another, printing each result on "
            + "stdout and each failure on stderr, and goes on after a failure."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every statement succeeded", "1:a statement failed", "65:the script has a syntax error",
            "66:SCRIPT or --topology SRC does not exist", "N:the script ran 'exit N'"})
final class ShellCommand implements Callable<Integer> {
    private final Ctx x;

    @Parameters(arity = "0..1", paramLabel = "SCRIPT", description = "a file of shell statements (default: stdin)")
    String script;

    @Option(names = "--topology", paramLabel = "SRC", description = "boot on SRC (default: this host, else the sample)")
    String topology;

    ShellCommand(Ctx x) {
        this.x = x;
    }

    @Override
    public Integer call() {
        return shell(x, topology, script);
    }

    static int shell(Ctx x, String topology, String script) {
        String text = null;
        if (script != null) {
            text = Ctx.readText(script, "a script", 16 << 20);
        }
        PciMachine m = x.machine(topology);
        try (Gogo gogo = new Gogo(x.cli.processor, x.in, x.out, x.err)) {
            ScriptRunner runner = new ScriptRunner(gogo, x.out, x.err, x.cli.usage());
            if (text != null) {
                return runner.script(script, text);
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(x.in, StandardCharsets.UTF_8));
            if (x.terminal) {
                // stdout piped (./peerdma | tee log): the prompt goes where an interactive shell's goes, stderr
                PrintStream prompt = "false".equals(System.getProperty("peerdma.stdout.tty")) ? x.err : x.out;
                prompt.println("peerdma shell on '" + m.name() + "' (" + m.devices().size() + " PCI devices): "
                        + "'help' lists commands, 'help NAME' explains one, 'exit' leaves");
                return runner.loop(in, prompt);
            }
            StringBuilder sb = new StringBuilder();
            char[] buf = new char[8192];
            for (int n; (n = in.read(buf)) >= 0;) {
                sb.append(buf, 0, n);
            }
            return runner.script("stdin", sb.toString());
        } catch (IOException ex) {
            x.err.println("peerdma: EIO: reading the script: " + ex.getMessage());
            return PeerdmaCli.IOERR;
        }
    }
}
