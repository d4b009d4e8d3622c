package org.peerdma.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * The options the launcher reads before any framework exists: which runtime, which extra features.
 * Everything else goes, in order, to the command line inside the framework.
 */
@Command(name = "peerdma")
final class Options {
    /** Commands answered by the lean doctor runtime unless --run says otherwise. */
    static final Set<String> ONE_SHOT = Set.of("check", "matrix", "lspci", "whatif", "audit", "help");

    @Option(names = "--run", paramLabel = "NAME")
    String run;

    @Option(names = "--with", paramLabel = "FEATURE", split = ",")
    List<String> with = new ArrayList<>();

    @Unmatched
    List<String> rest = new ArrayList<>();

    static Options parse(String[] args) {
        Options o = new Options();
        CommandLine cl = new CommandLine(o);
        cl.setUnmatchedArgumentsAllowed(true);
        cl.setUnmatchedOptionsArePositionalParams(true);
        cl.setEndOfOptionsDelimiter("\u0000--");
        try {
            cl.parseArgs(args);
        } catch (CommandLine.ParameterException ex) {
            throw new Main.LaunchException(Main.USAGE, "EINVAL: " + ex.getMessage() + " (see ./peerdma --help)");
        }
        if (o.run != null && !o.run.matches("[a-z0-9_-]{1,32}")) {
            throw new Main.LaunchException(Main.USAGE, "EINVAL: --run '" + o.run + "' is not a runtime name");
        }
        for (String f : o.with) {
            if (!f.matches("[a-z0-9_-]{1,32}")) {
                throw new Main.LaunchException(Main.USAGE, "EINVAL: --with '" + f + "' is not a feature name");
            }
        }
        return o;
    }

    /** The command word: the first argument that names a command. */
    String command() {
        for (String a : rest) {
            if (ONE_SHOT.contains(a) || a.equals("shell")) {
                return a;
            }
        }
        return null;
    }

    /** --run, else the lean doctor runtime for one-shot commands and --help/--version, else all modules. */
    String runtime() {
        if (run != null) {
            return run;
        }
        String c = command();
        if (c != null) {
            return ONE_SHOT.contains(c) ? "doctor" : "default";
        }
        boolean helpOnly = !rest.isEmpty() && rest.stream().allMatch(a -> a.equals("--help") || a.equals("-h")
                || a.equals("--version") || a.equals("-V"));
        return helpOnly ? "doctor" : "default";
    }

    List<String> with() {
        return with;
    }

    String[] argv() {
        return rest.toArray(String[]::new);
    }
}
