package org.peerdma.cli.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.peerdma.errno.KernelException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/** peerdma lspci [lspci's switches]: the shell's pci:lspci on the machine SRC describes. */
@Command(name = "lspci", mixinStandardHelpOptions = true,
        description = {"List PCI devices in pciutils' formats: -t tree, -v/-vv/-vvv details (BARs, capabilities, "
            + "ACSCap/ACSCtl), -n/-nn IDs, -D domains, -k drivers, -s [[dom:]bus:]dev.fn, -d [vendor]:[device]. "
            + "Switches combine as lspci's do (-tvnn)."})
final class LspciCommand implements Callable<Integer> {
    private final Ctx x;

    @Option(names = "--topology", paramLabel = "SRC", description = "the machine (default: this host, else the sample)")
    String topology;

    @Unmatched
    List<String> args = new ArrayList<>();

    LspciCommand(Ctx x) {
        this.x = x;
    }

    @Override
    public Integer call() {
        x.machine(topology);
        StringBuilder line = new StringBuilder("pci:lspci");
        for (String a : args) {
            if (a.indexOf('\'') >= 0) {
                throw KernelException.einval("lspci argument '%s' contains a quote", org.peerdma.util.Texts.clip(a));
            }
            line.append(" '").append(a).append('\'');
        }
        Object r = new Gogo(x.cli.processor, x.in, x.out, x.err).execute(line.toString());
        x.print(r == null ? "" : String.valueOf(r));
        return 0;
    }
}
