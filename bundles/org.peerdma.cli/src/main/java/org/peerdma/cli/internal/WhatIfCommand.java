package org.peerdma.cli.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.peerdma.p2pdma.doctor.WhatIfReport;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** peerdma whatif PROVIDER CLIENT CHANGE... */
@Command(name = "whatif", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "check on a changed copy of the machine, before and after. CHANGE is one of: "
            + "acs:BDF=HEX or acs:BDF=-RR,-CR,+EC (a port's ACS control), redirect=off (clear RR/CR/EC "
            + "everywhere), cpu=VENDOR[/FAMILY] (cpu=AuthenticAMD/0x19), arch=ARCH (x86_64, arm64), kernel=VERSION, "
            + "iommu=on|pt|off (booting with an IOMMU enables ACS SV RR CR UF on every port that has it).",
        exitCodeListHeading = "%nExit status (of the changed machine's verdict, as for check):%n",
        exitCodeList = {"0:supported", "1:not supported", "2:depends on a missing fact", "64:wrong arguments",
            "65:malformed input", "66:missing input file"})
final class WhatIfCommand implements Callable<Integer> {
    private final Ctx x;

    @Parameters(index = "0", paramLabel = "PROVIDER", description = "the device whose memory is shared")
    String provider;

    @Parameters(index = "1", paramLabel = "CLIENT", description = "the device doing the DMA")
    String client;

    @Parameters(index = "2..*", arity = "1..*", paramLabel = "CHANGE", description = "what to change")
    List<String> changes = new ArrayList<>();

    @Option(names = "--topology", paramLabel = "SRC", description = "the machine (default: this host, else the sample)")
    String topology;

    @Option(names = {"-k", "--kernel"}, paramLabel = "VERSION", description = "rule set or kernel release before the change")
    String kernel;

    @Option(names = {"-j", "--json"}, description = "one JSON document (docs/json.md)")
    boolean json;

    WhatIfCommand(Ctx x) {
        this.x = x;
    }

    @Override
    public Integer call() {
        x.machine(topology);
        WhatIfReport r = x.doctor().whatIf(provider, client, changes, x.rules(kernel));
        x.print(json ? x.doctor().json(r) : x.doctor().text(r));
        return r.after().verdict().exitStatus();
    }
}
