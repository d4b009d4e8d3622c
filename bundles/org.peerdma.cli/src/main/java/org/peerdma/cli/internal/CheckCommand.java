package org.peerdma.cli.internal;

import java.util.concurrent.Callable;

import org.peerdma.p2pdma.doctor.CheckReport;
import org.peerdma.pci.PciMachine;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** peerdma check PROVIDER CLIENT. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Will P2P DMA work from PROVIDER's memory to CLIENT, and which rule decides: map type, "
            + "distance, the path with each port's ACS state, the fix, the host-bridge and CPU checks, the "
            + "kernel's log lines and the other kernels' answers.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:supported (BUS_ADDR or THRU_HOST_BRIDGE)", "1:not supported",
            "2:depends on a fact the input lacks (see 'if ...' lines)", "64:wrong arguments (an address not in the "
                + "machine)", "65:malformed input", "66:missing input file"})
final class CheckCommand implements Callable<Integer> {
    private final Ctx x;

    @Parameters(index = "0", paramLabel = "PROVIDER", description = "the device whose memory is shared ([[domain:]bus:]dev.fn)")
    String provider;

    @Parameters(index = "1", paramLabel = "CLIENT", description = "the device doing the DMA")
    String client;

    @Option(names = "--topology", paramLabel = "SRC", description = "the machine (default: this host, else the sample)")
    String topology;

    @Option(names = {"-k", "--kernel"}, paramLabel = "VERSION",
            description = "rule set (newest, v5.x, v5.2, v4.20) or kernel release (6.8, 5.15.0-91-generic); default: "
                + "the capture's release, else newest")
    String kernel;

    @Option(names = {"-j", "--json"}, description = "one JSON document (docs/json.md)")
    boolean json;

    CheckCommand(Ctx x) {
        this.x = x;
    }

    @Override
    public Integer call() {
        PciMachine m = x.machine(topology);
        CheckReport r = x.doctor().check(m, x.device(m, provider), x.device(m, client), x.rules(kernel));
        x.print(json ? x.doctor().json(r) : x.doctor().text(r));
        return r.verdict().exitStatus();
    }
}
