package org.peerdma.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The peerdma command line (docs/cli.md): one-shot commands, scripts and the interactive shell,
 * run on the bundles and services of the framework it lives in.
 */
@ProviderType
public interface PeerdmaCli {
    /** Exit statuses (sysexits.h for the errors). */
    int OK = 0;
    /** check: the pair cannot do P2P DMA. Also: a script command failed. */
    int NOT_SUPPORTED = 1;
    /** check: the answer depends on a fact the input lacks. */
    int DEPENDS = 2;
    /** EX_USAGE: wrong arguments. */
    int USAGE = 64;
    /** EX_DATAERR: the input (a dump, a policy, a script) is malformed. */
    int DATAERR = 65;
    /** EX_NOINPUT: an input file does not exist or cannot be read. */
    int NOINPUT = 66;
    /** EX_SOFTWARE: an internal error. */
    int SOFTWARE = 70;
    /** EX_IOERR: output could not be written. */
    int IOERR = 74;

    /**
     * run - one command line, as {@code peerdma ARGS...}.
     * @param args the arguments after the program name
     * @param in standard input (scripts, the interactive shell)
     * @param out where results go
     * @param err where errors, warnings and progress go
     * @param terminal whether {@code in} is a terminal: only then are a prompt and a banner shown
     * Return: the exit status.
     */
    int run(List<String> args, InputStream in, PrintStream out, PrintStream err, boolean terminal);
}
