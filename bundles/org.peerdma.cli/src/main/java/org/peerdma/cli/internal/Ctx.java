package org.peerdma.cli.internal;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.p2pdma.doctor.P2pDoctor;
import org.peerdma.p2pdma.doctor.RuleSet;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.util.Texts;

/** One run of the command line: its streams and the services the commands use. */
final class Ctx {
    final CliImpl cli;
    final InputStream in;
    final PrintStream out;
    final PrintStream err;
    final boolean terminal;
    /** PEERDMA_TRACE set: print stack traces of internal errors. */
    final boolean trace;
    /** The machine description last loaded by this run (it carries a capture's kernel release). */
    MachineDTO loaded;

    Ctx(CliImpl cli, InputStream in, PrintStream out, PrintStream err, boolean terminal) {
        this.cli = cli;
        this.in = in;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
        String t = System.getenv("PEERDMA_TRACE");
        this.trace = t != null && !t.isEmpty() && !t.equals("0");
    }

    P2pDoctor doctor() {
        return cli.doctor;
    }

    /**
     * machine - load SRC (a dump, a topology file, a sysfs or capture directory or archive, "sample" or
     * "host") into the PCI core, or for {@code null} the machine already loaded (or, when none is, this
     * host's when readable, else the sample).
     * Errors: ENOENT (exit 66) for a missing file, EINVAL naming file and line (exit 65) for bad content.
     */
    PciMachine machine(String src) {
        if (src == null) {
            if (!cli.core.machine().devices().isEmpty()) {
                return cli.core.machine();
            }
            MachineDTO dto;
            try {
                dto = cli.io.host();
            } catch (KernelException noHost) {
                dto = cli.io.sample();
            }
            loaded = dto;
            return cli.core.load(dto);
        }
        MachineDTO dto = asData(src, () -> read(src));
        loaded = dto;
        return asData(src, () -> cli.core.load(dto));
    }

    /**
     * What goes wrong reading or loading a machine description is bad input data (exit 65), whatever
     * errno the importer or the core chose, except a file that is not there or not readable (66).
     */
    static <T> T asData(String src, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (org.peerdma.pci.TopologyFormatException | Errors.DataException ex) {
            throw ex;
        } catch (KernelException ex) {
            Errno e = ex.errno();
            if (e == Errno.ENOENT || e == Errno.EACCES || e == Errno.ENOTDIR) {
                throw ex;
            }
            String d = ex.detail();
            throw new Errors.DataException(d.startsWith(src) ? d : Texts.clip(src) + ": " + d);
        }
    }

    MachineDTO read(String src) {
        return switch (src) {
            case "sample" -> cli.io.sample();
            case "host" -> cli.io.host();
            default -> cli.io.read(path(src), "auto");
        };
    }

    static Path path(String src) {
        if (src.isBlank()) {
            throw new KernelException(Errno.ENOENT, "empty file name");
        }
        Path p;
        try {
            p = Path.of(src);
        } catch (InvalidPathException ex) {
            throw KernelException.einval("'%s' is not a valid path: %s", Texts.clip(src), ex.getReason());
        }
        if (!Files.exists(p)) {
            throw new KernelException(Errno.ENOENT, Texts.clip(src) + ": no such file or directory");
        }
        return p;
    }

    /** rules - -k when given, else the loaded capture's kernel release, else the module parameter. */
    RuleSet rules(String kernel) {
        if (kernel != null && !kernel.isBlank()) {
            return doctor().rules(kernel, "-k");
        }
        if (loaded != null && loaded.kernelRelease != null && !loaded.kernelRelease.isBlank()) {
            return doctor().rules(loaded.kernelRelease, "capture");
        }
        return doctor().rulesInForce();
    }

    PciDevice device(PciMachine m, String bdf) {
        Bdf b = Bdf.parse(bdf);
        return m.device(b).orElseThrow(() -> KernelException.enodev("no PCI device %s in machine '%s'", b, m.name()));
    }

    /** print - a result on stdout, ended by exactly one newline. */
    void print(String s) {
        out.print(s);
        if (!s.endsWith("\n")) {
            out.println();
        }
    }
}
