package org.peerdma.draw.internal;

import java.nio.file.Path;
import java.util.List;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.draw.PciDrawing;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.pci.PciCore;

/** p2p:draw - the loaded machine as a picture. */
@Component(service = DrawCommands.class, property = {"osgi.command.scope=p2p", "osgi.command.function=draw"})
public final class DrawCommands {
    private final PciCore core;
    private final P2pDoctor doctor;
    private final PciDrawing drawing;

    @Activate
    public DrawCommands(@Reference PciCore core, @Reference P2pDoctor doctor, @Reference PciDrawing drawing) {
        this.core = core;
        this.doctor = doctor;
        this.drawing = drawing;
    }

    @Descriptor("draw the PCI tree (with PROVIDER CLIENT: their path and verdict) or, with -m, the verdict matrix "
            + "as a heatmap; the file's extension (.svg, .png) chooses the format")
    public String draw(@Descriptor("the file to write, FILE.svg or FILE.png")
            @Parameter(names = {"-o", "--output"}, absentValue = "") String output,
            @Descriptor("the verdict matrix of the endpoints (or of the devices given) as a heatmap")
            @Parameter(names = {"-m", "--matrix"}, presentValue = "true", absentValue = "false") boolean matrix,
            @Descriptor("every function, not only GPUs, NICs, drives, accelerators and the bridges above them")
            @Parameter(names = {"-a", "--all"}, presentValue = "true", absentValue = "false") boolean all,
            @Descriptor("with -m: only devices of these kinds, comma-separated (gpu,nic,nvme,storage,accelerator,other)")
            @Parameter(names = {"-t", "--kind"}, absentValue = "") String kinds,
            @Descriptor("kernel rules: newest, v5.x, v5.2, v4.20 or a release such as 6.8")
            @Parameter(names = {"-k", "--kernel"}, absentValue = "") String kernel,
            @Descriptor("the tree: PROVIDER CLIENT, a pair to show; the matrix: its devices") String... bdfs) {
        if (output == null || output.isBlank()) {
            throw org.peerdma.errno.KernelException.einval("draw needs -o FILE.svg or -o FILE.png");
        }
        var rules = kernel == null || kernel.isBlank() ? null : doctor.rules(kernel, "-k");
        PciDrawing.Picture p = drawing.draw(core.machine(), bdfs == null ? List.of() : List.of(bdfs), matrix, all,
                kinds, rules, PciDrawing.formatOf(output));
        p.save(Path.of(output));
        return p.summary(output);
    }
}
