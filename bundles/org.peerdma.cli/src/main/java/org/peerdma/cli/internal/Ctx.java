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
    /** {@code peerdma --topology SRC COMMAND}: SRC given before the command, for the command to use. */
    String topTopology;

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
    PciMachine machine(String own) {
        String src = source(own);
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
            return cli.core.load(dto);
        }
        MachineDTO dto = asData(src, () -> read(src));
        return asData(src, () -> cli.core.load(dto));
    }

    /**
     * source - the command's own --topology, or the one given before the command; both is a usage error.
     */
    String source(String own) {
        if (own != null && topTopology != null && !own.equals(topTopology)) {
            throw KernelException.einval("--topology given twice ('%s' before the command, '%s' after it)", topTopology,
                    own);
        }
        return own != null ? own : topTopology;
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

    /**
     * readText - a whole text file the user named (a script, a policy).
     * Errors: ENOENT, EACCES or EISDIR (exit 66) when it is missing, unreadable or a directory; EINVAL (exit 65)
     *         when it is not UTF-8 text or larger than {@code max} bytes.
     */
    static String readText(String file, String what, long max) {
        Path p = path(file);
        if (Files.isDirectory(p)) {
            throw new KernelException(Errno.EISDIR, Texts.clip(file) + ": is a directory, not " + what);
        }
        try {
            if (!Files.isRegularFile(p) || Files.size(p) > max) {
                throw new Errors.DataException(Texts.clip(file) + ": not " + what + " (a regular file of at most "
                        + max / 1024 + " KiB)");
            }
            return Files.readString(p, java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException ex) {
            throw new Errors.DataException(Texts.clip(file) + ": not " + what + ": not UTF-8 text");
        } catch (java.nio.file.AccessDeniedException ex) {
            throw new KernelException(Errno.EACCES, Texts.clip(file) + ": permission denied");
        } catch (java.io.IOException ex) {
            throw new KernelException(Errno.EIO, Texts.clip(file) + ": " + Texts.clip(String.valueOf(ex.getMessage())));
        }
    }

    /**
     * rules - the rule set -k names, or null for the doctor's choice: the machine's own kernel release (a
     * capture's), else the module parameter (P2pDoctor.rulesFor).
     */
    RuleSet rules(String kernel) {
        if (kernel == null) {
            return null;
        }
        if (kernel.isBlank()) {
            throw KernelException.einval("-k needs a rule set (newest, v5.x, v5.2, v4.20) or a kernel release (6.8)");
        }
        return doctor().rules(kernel, "-k");
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
