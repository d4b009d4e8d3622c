package org.peerdma.cli.internal;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** peerdma with no command: the shell (interactive on a terminal, else the script on stdin). */
@Command(name = "peerdma", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"An executable model of Linux's peer-to-peer DMA stack: will P2P DMA work between two "
            + "devices on this machine, and if not, which rule refuses it and what is the smallest fix.", "",
            "Without a command: the interactive shell on a terminal, or the commands read from standard "
                + "input (./peerdma < script.gosh). SRC is a dump (lspci -vvv, lspci -tv, lstopo, hwloc or NCCL "
                + "XML), a topology file, a sysfs or capture directory, a capture .tar.gz, 'sample' or 'host'."},
        synopsisSubcommandLabel = "[COMMAND]",
        footer = {"", "Launcher options (read by ./peerdma before the framework starts):",
            "      --run NAME            the runtime: doctor (one-shot commands' default), xen, hmm, default",
            "                              (all modules; the shell's default)",
            "      --with FEATURE[,...]  add features at launch (lsmod -a shows what modprobe can load)",
            "      --no-build            do not rebuild when sources changed", "",
            "Exit status: 0 success (check: supported), 1 check: not supported / a script command failed, "
                + "2 check: depends on a fact the input lacks, 64 usage, 65 bad input data, 66 missing input, "
                + "70 internal error, 74 stdout could not be written.",
            "Documentation: docs/cli.md, docs/json.md, docs/shell.md."})
final class TopCommand implements Callable<Integer> {
    private final Ctx x;

    @Option(names = "--topology", paramLabel = "SRC", description = "the machine, for the shell or the COMMAND "
            + "that follows")
    void topology(String src) {
        x.topTopology = src;
    }

    @Option(names = "--run", paramLabel = "NAME", hidden = true, description = "read by the launcher")
    String run;

    @Option(names = "--with", paramLabel = "FEATURE", split = ",", hidden = true, description = "read by the launcher")
    java.util.List<String> with;

    TopCommand(Ctx x) {
        this.x = x;
    }

    @Override
    public Integer call() {
        return ShellCommand.shell(x, null, null);
    }
}
