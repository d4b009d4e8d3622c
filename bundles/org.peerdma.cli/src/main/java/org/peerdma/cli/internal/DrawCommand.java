package org.peerdma.cli.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.peerdma.draw.PciDrawing;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.PciMachine;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** peerdma draw [-m] [-a] [--kind K] -o FILE.svg|FILE.png|- [BDF...]. */
@Command(name = "draw", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "The machine as a picture: the PCI tree (host bridges and their whitelist state, ports that "
            + "redirect in red, endpoints by kind; with PROVIDER CLIENT their path and the verdict), or with "
            + "--matrix the verdict matrix as a heatmap. -o FILE.svg or FILE.png; -o - writes SVG on stdout.")
final class DrawCommand implements Callable<Integer> {
    private final Ctx x;

    @Parameters(arity = "0..*", paramLabel = "BDF",
            description = "the tree: PROVIDER CLIENT, the pair to show; the matrix: its devices (default: every endpoint)")
    List<String> bdfs = new ArrayList<>();

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
            description = "FILE.svg or FILE.png (the extension chooses), or - for SVG on stdout")
    String output;

    @Option(names = {"-m", "--matrix"}, description = "the verdict matrix as a heatmap instead of the tree")
    boolean matrix;

    @Option(names = {"-a", "--all"}, description = "every function, not only GPUs, NICs, drives, accelerators and "
            + "the bridges above them")
    boolean all;

    @Option(names = "--kind", paramLabel = "KIND", split = ",",
            description = "with --matrix: only devices of these kinds: gpu, nic, nvme, storage, accelerator, other")
    List<String> kinds = new ArrayList<>();

    @Option(names = "--topology", paramLabel = "SRC", description = "the machine (default: this host, else the sample)")
    String topology;

    @Option(names = {"-k", "--kernel"}, paramLabel = "VERSION", description = "rule set or kernel release")
    String kernel;

    DrawCommand(Ctx x) {
        this.x = x;
    }

    @Override
    public Integer call() {
        PciDrawing drawing = x.cli.drawing;
        if (drawing == null) {
            throw new KernelException(Errno.ENODEV, "the draw module is not loaded (./peerdma --with p2pdma draw ...)");
        }
        boolean stdout = output.equals("-");
        String format = stdout ? "svg" : PciDrawing.formatOf(output);
        PciMachine m = x.machine(topology);
        PciDrawing.Picture p = drawing.draw(m, bdfs, matrix, all, String.join(",", kinds), x.rules(kernel), format);
        if (stdout) {
            x.out.write(p.bytes(), 0, p.bytes().length);
            x.out.flush();
        } else {
            p.save(Path.of(output));
            x.err.println(p.summary(output));
        }
        return 0;
    }
}
