package org.peerdma.cli.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.gogo.runtime.Closure;
import org.apache.felix.gogo.runtime.CommandNotFoundException;
import org.apache.felix.gogo.runtime.EOFError;
import org.apache.felix.gogo.runtime.Parser;
import org.apache.felix.gogo.runtime.SyntaxError;
import org.apache.felix.gogo.runtime.Token;
import org.apache.felix.service.command.Converter;
import org.peerdma.cli.PeerdmaCli;
import org.peerdma.util.Texts;

/**
 * Runs Gogo statements one at a time, for scripts and the interactive shell: each result is printed
 * on stdout (assignments excepted), each failure on stderr as "ERRNO: message" with a usage line for
 * wrong arguments and the closest names for a mistyped command, and the run goes on. The exit status
 * says whether every statement succeeded.
 */
final class ScriptRunner {
    /** Gogo's output redirections: {@code >}, {@code >>}, {@code 1>}, {@code 1>>} (not 2> or &>). */
    private static final Pattern STDOUT_REDIRECT = Pattern.compile("1?>>?");
    private static final Pattern EXIT = Pattern.compile("(?:exit|quit)(?:\\s+(\\S+))?");
    /** Gogo's message when no form of a command takes the arguments given: "Cannot coerce NAME(ARGS) to ...". */
    private static final Pattern COERCE = Pattern.compile("Cannot coerce ([\\w:.-]+)\\(.*", Pattern.DOTALL);
    /**
     * A kernel command-line option whose value lists devices with ';' (pci=disable_acs_redir=A;B,
     * pci=config_acs=...;...), unquoted: in Gogo ';' ends a statement, so it is quoted before parsing and
     * the doctor's advice works when pasted as shown.
     */
    private static final Pattern BOOT_OPTION = Pattern.compile("(?<![\"'\\w=])(pci=[^\\s\"';|]*;[^\\s\"'|]*)");

    /** Gogo's own shell commands: in a script or this shell they would read stdin and print a prompt of their own. */
    private static final java.util.Set<String> NESTED_SHELLS = java.util.Set.of("gosh", "sh", "gogo:gosh", "gogo:sh");

    private final Gogo gogo;
    private final PrintStream out;
    private final PrintStream err;
    private final Usage usage;
    private int failed;
    private Integer exitRequested;

    ScriptRunner(Gogo gogo, PrintStream out, PrintStream err, Usage usage) {
        this.gogo = gogo;
        this.out = out;
        this.err = err;
        this.usage = usage;
    }

    /** @return how many statements failed so far. */
    int failed() {
        return failed;
    }

    /**
     * script - run a whole script: every statement, even after a failure.
     * @param name the script's name for messages ("stdin", "setup.gosh")
     * Return: 0 when every statement succeeded, 1 when one failed, 65 for a syntax error (nothing run),
     *         or the status an {@code exit N} statement asked for.
     */
    int script(String name, String script) {
        String text = quoteNullWords(quoteBootOptions(script));
        List<Token> statements;
        try {
            statements = statements(text);
        } catch (SyntaxError ex) {
            err.println(name + ":" + (ex.line() + 1) + ": EINVAL: syntax error: " + Texts.clip(ex.getMessage()));
            return PeerdmaCli.DATAERR;
        }
        for (Token t : statements) {
            run(t, text, name + ":" + (t.line() + 1) + ": ");
            if (exitRequested != null) {
                return exitRequested;
            }
        }
        return failed == 0 ? PeerdmaCli.OK : PeerdmaCli.NOT_SUPPORTED;
    }

    /**
     * loop - the interactive shell: read lines (continuing an unfinished statement on the next line),
     * run them, until end of input or {@code exit}.
     * Return: 0, or the status {@code exit N} asked for.
     */
    int loop(BufferedReader in, PrintStream prompt) throws IOException {
        StringBuilder pending = new StringBuilder();
        while (true) {
            if (prompt != null) {
                prompt.print(pending.length() == 0 ? "g! " : "> ");
                prompt.flush();
            }
            String line = in.readLine();
            if (line == null) {
                return exitRequested == null ? PeerdmaCli.OK : exitRequested;
            }
            pending.append(line).append('\n');
            String text = quoteNullWords(quoteBootOptions(pending.toString()));
            List<Token> statements;
            try {
                statements = statements(text);
            } catch (EOFError more) {
                continue;
            } catch (SyntaxError ex) {
                err.println("EINVAL: syntax error: " + Texts.clip(ex.getMessage()));
                failed++;
                pending.setLength(0);
                continue;
            }
            pending.setLength(0);
            for (Token t : statements) {
                run(t, text, "");
                if (exitRequested != null) {
                    return exitRequested;
                }
            }
        }
    }

    /** The top-level statements and pipelines of a script, in order (the ';' and newline operators left out). */
    static List<Token> statements(String text) {
        List<Token> out = new java.util.ArrayList<>();
        for (Token t : new Parser(text).program().tokens()) {
            if (t instanceof Parser.Statement || t instanceof Parser.Pipeline || t instanceof Parser.Sequence) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * quoteNullWords - the bare word {@code null} outside quotes becomes {@code 'null'}: Gogo reads it as Java's
     * null, which no command takes (a number parameter then fails inside Java reflection, a text one with a
     * NullPointerException); as text it is an argument like any other, refused by the command with an errno.
     */
    static String quoteNullWords(String text) {
        if (!text.contains("null")) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 8);
        char quote = 0;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < n) {
                    out.append(c).append(text.charAt(++i));
                    continue;
                }
                out.append(c);
                continue;
            }
            if (c == '\'' || c == '"') {
                quote = c;
                out.append(c);
                continue;
            }
            boolean start = i == 0 || Character.isWhitespace(text.charAt(i - 1)) || "(;|".indexOf(text.charAt(i - 1)) >= 0;
            int end = i + 4;
            boolean word = start && text.startsWith("null", i)
                    && (end == n || Character.isWhitespace(text.charAt(end)) || ");|".indexOf(text.charAt(end)) >= 0);
            if (word && i > 0 && !isFirstWord(text, i)) {
                out.append("'null'");
                i = end - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Whether the word at {@code i} starts its statement (a command named null stays as typed). */
    private static boolean isFirstWord(String text, int i) {
        for (int k = i - 1; k >= 0; k--) {
            char c = text.charAt(k);
            if (c == '\n' || c == ';' || c == '|' || c == '(') {
                return true;
            }
            if (!Character.isWhitespace(c)) {
                return false;
            }
        }
        return true;
    }

    /** quoteBootOptions - {@code pci=...;...} outside quotes, quoted (same length plus two per option). */
    static String quoteBootOptions(String text) {
        if (text.indexOf("pci=") < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (String line : text.split("\n", -1)) {
            if (out.length() > 0) {
                out.append('\n');
            }
            out.append(quoteCount(line) % 2 == 0 ? BOOT_OPTION.matcher(line).replaceAll("\"$1\"") : line);
        }
        return out.toString();
    }

    private static long quoteCount(String line) {
        return line.chars().filter(c -> c == '"').count();
    }

    /** The text of a top-level statement with its redirections (Gogo's token for a statement stops before them). */
    static String source(Token t, String text) {
        int start = t.start();
        int end = start + t.length();
        Parser.Statement last = lastStatement(t);
        if (last != null) {
            for (Token r : last.redirections()) {
                end = Math.max(end, r.start() + r.length());
            }
        }
        if (start < 0 || end > text.length() || start > end) {
            return t.toString();
        }
        return text.substring(start, end);
    }

    private static Parser.Statement lastStatement(Token t) {
        if (t instanceof Parser.Statement s) {
            return s;
        }
        if (t instanceof Parser.Pipeline p) {
            for (int i = p.tokens().size() - 1; i >= 0; i--) {
                if (p.tokens().get(i) instanceof Parser.Statement s) {
                    return s;
                }
            }
        }
        return null;
    }

    /** run - one top-level statement. Return: whether it succeeded. */
    boolean run(Token t, String text, String where) {
        String src = source(t, text).strip();
        if (src.isEmpty()) {
            return true;
        }
        Matcher exit = EXIT.matcher(src);
        if (exit.matches()) {
            return exit(exit.group(1), where);
        }
        String cmd = commandName(src);
        if (NESTED_SHELLS.contains(cmd)) {
            failed++;
            err.println(where + "EINVAL: " + cmd + " would start a shell inside this one; run its statements here, "
                    + "or 'source FILE' for a file of them");
            err.flush();
            return false;
        }
        String line = rewriteRedirect(t, text);
        try {
            gogo.session.put(Closure.PIPE_EXCEPTION, null);
            Object r = gogo.execute(line);
            out.flush();
            // a stage before the last failed: Gogo only notes it (and its own "gogo: " line is dropped, see Gogo)
            if (gogo.session.get(Closure.PIPE_EXCEPTION) instanceof Throwable pipe && pipe.getSuppressed().length > 0) {
                failed++;
                for (Throwable stage : pipe.getSuppressed()) {
                    report(Errors.unwrap(stage), src, where);
                }
                return false;
            }
            // a pipeline ending in grep returns whether it matched: the lines are the result, not "true"
            if (r != null && !(r instanceof Boolean) && !isAssignment(t)) {
                out.println(gogo.session.format(r, Converter.INSPECT));
            }
            out.flush();
            return true;
        } catch (Throwable ex) {
            failed++;
            out.flush();
            report(Errors.unwrap(ex), src, where);
            return false;
        }
    }

    /**
     * exit - {@code exit [N]}: stop the script with status N (0 to 255), or with 0 when every statement so far
     * succeeded and 1 when one failed. A status that is not a number in range is a usage error (exit 64).
     */
    private boolean exit(String status, String where) {
        if (status == null) {
            exitRequested = failed == 0 ? PeerdmaCli.OK : PeerdmaCli.NOT_SUPPORTED;
            return true;
        }
        if (status.matches("\\d{1,3}") && Integer.parseInt(status) <= 255) {
            exitRequested = Integer.parseInt(status);
            return true;
        }
        failed++;
        err.println(where + "EINVAL: exit status '" + Texts.clip(status) + "' is not a number from 0 to 255");
        err.println("usage: exit [STATUS]");
        err.println("    (hmm:exit PROCESS ends a model process)");
        err.flush();
        exitRequested = PeerdmaCli.USAGE;
        return false;
    }

    private void report(Throwable ex, String src, String where) {
        String name = commandName(src);
        Matcher coerce = COERCE.matcher(String.valueOf(ex.getMessage()));
        if (ex instanceof IllegalArgumentException && coerce.matches()) {
            name = coerce.group(1); // the stage of a pipeline that failed, not the first one
        }
        if (ex instanceof CommandNotFoundException nf) {
            String typed = nf.getCommand() == null ? name : nf.getCommand().replaceFirst("^\\*:", "");
            List<String> close = usage.suggest(typed, gogo.session.get(".commands"));
            err.println(where + Texts.clip(typed) + ": command not found"
                    + (close.isEmpty() ? "" : "; did you mean: " + String.join(", ", close) + "?"));
        } else if (ex instanceof IllegalArgumentException && String.valueOf(ex.getMessage()).startsWith("Cannot coerce")
                || Errors.isArgumentMismatch(ex)) {
            err.println(where + "EINVAL: wrong arguments for " + Texts.clip(name));
            for (String u : usage.of(name)) {
                err.println(u);
            }
        } else if (ex instanceof SyntaxError se) {
            err.println(where + "EINVAL: syntax error: " + Texts.clip(se.getMessage()));
        } else {
            err.println(where + Errors.message(ex));
        }
        err.flush();
    }

    /** The command a statement runs, as typed: its first word. */
    static String commandName(String src) {
        String s = src.strip();
        int eq = s.indexOf('=');
        if (eq > 0 && s.substring(0, eq).strip().matches("[A-Za-z_][A-Za-z0-9_]*")) {
            s = s.substring(eq + 1).strip();
        }
        s = s.replaceFirst("^\\(+", "");
        int sp = 0;
        while (sp < s.length() && !Character.isWhitespace(s.charAt(sp)) && s.charAt(sp) != ')' && s.charAt(sp) != ';') {
            sp++;
        }
        return s.substring(0, sp);
    }

    private static boolean isAssignment(Token t) {
        if (t instanceof Parser.Statement s) {
            List<Token> toks = s.tokens();
            return toks.size() >= 2 && Token.eq("=", toks.get(1));
        }
        return false;
    }

    /**
     * {@code CMD ARGS > FILE} becomes {@code CMD ARGS | cli:pass > FILE}: Gogo prints a command's
     * result only into a pipe, never at the end of one, so without this a redirected command that
     * returns its output (every model command does) would write nothing to the file.
     */
    static String rewriteRedirect(Token t, String text) {
        Parser.Statement last = lastStatement(t);
        String src = source(t, text);
        if (last == null || last.redirections().isEmpty()) {
            return src;
        }
        Token first = last.redirections().get(0);
        if (!STDOUT_REDIRECT.matcher(first).matches()) {
            return src;
        }
        int at = first.start() - t.start();
        if (at <= 0 || at > src.length()) {
            return src;
        }
        return src.substring(0, at) + "| cli:pass " + src.substring(at);
    }
}
