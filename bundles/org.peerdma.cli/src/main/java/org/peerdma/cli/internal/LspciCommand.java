package org.peerdma.cli.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.peerdma.errno.KernelException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/** peerdma lspci [lspci's switches]: the shell's pci:lspci on the machine SRC describes. */
@Command(name = "lspci", mixinStandardHelpOptions = true, versionProvider = Version.class,
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
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.matches("-[A-Za-z]*[sd]") && i == args.size() - 1) {
                throw KernelException.einval("option %s needs a value (-s [[[[domain]:]bus]:][slot][.[func]], "
                        + "-d [vendor]:[device][:class])", "-" + a.charAt(a.length() - 1));
            }
        }
        x.machine(topology);
        StringBuilder line = new StringBuilder("pci:lspci");
        for (String a : args) {
            if (a.indexOf('\'') >= 0) {
                throw KernelException.einval("lspci argument '%s' contains a quote", org.peerdma.util.Texts.clip(a));
            }
            line.append(" '").append(a).append('\'');
        }
        Object r;
        try (Gogo gogo = new Gogo(x.cli.processor, x.in, x.out, x.err)) {
            r = gogo.execute(line.toString());
        } catch (IllegalArgumentException ex) {
            if (String.valueOf(ex.getMessage()).startsWith("Cannot coerce")) {
                throw KernelException.einval("wrong lspci arguments %s (usage: peerdma lspci [-tvnnDk] [-s SLOT] "
                        + "[-d ID])", String.join(" ", args));
            }
            throw ex;
        }
        String text = r == null ? "" : String.valueOf(r);
        if (!text.isEmpty()) {
            x.print(text); // lspci prints nothing at all when no device matches
        }
        return 0;
    }
}
