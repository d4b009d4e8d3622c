package org.peerdma.kmod;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.metatype.AttributeDefinition;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.util.Texts;

/**
 * Module parameter values as the kernel reads them: {@code name=value} words as parse_args splits
 * them (kernel/params.c), each value by its type's param_set_* (kstrtoint/kstrtol/kstrtos16/kstrtou8
 * and kstrtobool of lib/kstrtox.c, charp of at most 1024 bytes), then checked against the parameter's
 * metatype (options, minimum, maximum), which is the model's own description of what a module
 * accepts. The kernel modelled is v5.19 or later (kstrtobool takes t/f and true/false since
 * commit 0d6ea3ac94ca, merged for v5.19).
 */
final class ParamValues {
    /** param_set_charp: "string parameter too long" (-ENOSPC) past this many bytes (strlen of the value). */
    static final int MAX_CHARP = 1024;
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private ParamValues() {
    }

    /**
     * parse - {@code name=value} words in order (a later one of the same name wins, as each is
     * applied in turn). A word without '=' is a name with no value (a bool is set to true by it).
     * Errors: EINVAL for a word with no name.
     */
    static Map<String, String> parse(String[] params) {
        Map<String, String> out = new LinkedHashMap<>();
        if (params == null) {
            return out;
        }
        for (String p : params) {
            int eq = p == null ? -1 : p.indexOf('=');
            if (p == null || p.isEmpty() || eq == 0) {
                throw KernelException.einval("'%s' is not param=value", p);
            }
            String name = eq < 0 ? p : p.substring(0, eq);
            out.remove(name);
            out.put(name, eq < 0 ? null : p.substring(eq + 1));
        }
        return out;
    }

    /** sameName - parameq(): '-' and '_' are the same in parameter names. */
    static boolean sameName(String typed, String param) {
        return typed.replace('-', '_').equals(param.replace('-', '_'));
    }

    /** value - as {@link #value(String, AttributeDefinition, String, boolean)} at load time (modprobe). */
    static Object value(String module, AttributeDefinition ad, String raw) {
        return value(module, ad, raw, true);
    }

    /**
     * value - the value {@code raw} gives parameter {@code ad} of {@code module}, typed as
     * ConfigAdmin stores it. A missing value ({@code raw} null, a bare NAME) is "1" for a bool at load
     * time ({@code atLoad}: parse_args hands param_set_bool a NULL value) and an error otherwise: a
     * run-time set is a sysfs store, which always gets a string, and an empty one is no boolean.
     * A byte is kstrtou8 (0..255, no sign, stored as the Java byte of the same bits). Errors: EINVAL
     * for a value the type's parser refuses (naming what is allowed), ERANGE for a number outside the
     * type, ENOSPC for a string over {@value #MAX_CHARP} bytes in UTF-8, EINVAL for one the metatype
     * refuses (not an option, below the minimum, ...).
     */
    static Object value(String module, AttributeDefinition ad, String raw, boolean atLoad) {
        int type = ad.getType();
        if (raw == null && (type != AttributeDefinition.BOOLEAN || !atLoad)) {
            throw KernelException.einval("%s: parameter %s needs a value (%s=...)%s", module, ad.getID(), ad.getID(),
                    type == AttributeDefinition.BOOLEAN ? ": a bare name means true only at load time (modprobe)" : "");
        }
        String v = raw == null ? "1" : raw;
        Object out = switch (type) {
            case AttributeDefinition.INTEGER -> (int) integer(module, ad, v, Integer.MIN_VALUE, Integer.MAX_VALUE, "an int");
            case AttributeDefinition.LONG -> integer(module, ad, v, Long.MIN_VALUE, Long.MAX_VALUE, "a long");
            case AttributeDefinition.SHORT -> (short) integer(module, ad, v, Short.MIN_VALUE, Short.MAX_VALUE, "a short");
            case AttributeDefinition.BYTE -> (byte) unsigned(module, ad, v, 0xFF, "a byte (0..255)");
            case AttributeDefinition.BOOLEAN -> kstrtobool(v).orElseThrow(() -> bad(Errno.EINVAL, module, ad, v,
                    "not a boolean"));
            case AttributeDefinition.DOUBLE, AttributeDefinition.FLOAT -> decimal(module, ad, v);
            default -> {
                int bytes = v.getBytes(java.nio.charset.StandardCharsets.UTF_8).length; // strlen, not UTF-16 chars
                if (bytes > MAX_CHARP) {
                    throw new KernelException(Errno.ENOSPC, String.format("%s: string parameter %s too long (%d "
                            + "bytes, at most %d)", module, ad.getID(), bytes, MAX_CHARP));
                }
                yield v;
            }
        };
        String problem = ad.validate(String.valueOf(out));
        if (problem != null && !problem.isEmpty()) {
            throw bad(Errno.EINVAL, module, ad, v, problem.startsWith("%") ? problem.substring(1) : problem);
        }
        return out;
    }

    private static KernelException bad(Errno e, String module, AttributeDefinition ad, String v, String why) {
        return new KernelException(e, String.format("%s: bad value '%s' for %s: %s%s", module, Texts.clip(v), ad.getID(),
                why, allowed(ad)));
    }

    private static long integer(String module, AttributeDefinition ad, String v, long min, long max, String what) {
        BigInteger n;
        try {
            n = kstrtoll(v);
        } catch (ParseError e) {
            throw bad(e.errno, module, ad, v, e.errno == Errno.ERANGE ? "out of range" : "not a number");
        }
        if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
            throw bad(Errno.ERANGE, module, ad, v, "out of range for " + what);
        }
        return n.longValue();
    }

    /** kstrtou8/kstrtou16...: kstrtoull (an optional '+', no '-': "-1" is EINVAL), then the type's maximum (ERANGE). */
    private static long unsigned(String module, AttributeDefinition ad, String v, long max, String what) {
        BigInteger n;
        try {
            n = kstrtoull(v.startsWith("+") ? v.substring(1) : v);
        } catch (ParseError e) {
            throw bad(e.errno, module, ad, v, e.errno == Errno.ERANGE ? "out of range" : "not a number");
        }
        if (n.compareTo(BigInteger.valueOf(max)) > 0) {
            throw bad(Errno.ERANGE, module, ad, v, "out of range for " + what);
        }
        return n.longValue();
    }

    private static double decimal(String module, AttributeDefinition ad, String v) {
        try {
            double d = Double.parseDouble(v);
            if (Double.isFinite(d)) {
                return d;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw bad(Errno.EINVAL, module, ad, v, "not a number");
    }

    /** A kstrto* failure: the errno the kernel returns. */
    static final class ParseError extends Exception {
        private static final long serialVersionUID = 1L;
        final Errno errno;

        ParseError(Errno errno) {
            super(errno.name(), null, false, false);
            this.errno = errno;
        }
    }

    /**
     * kstrtoll(s, 0): an optional sign, then "0x" hex, "0" octal or decimal digits, and at most a
     * trailing newline. Errors: ERANGE past 64 bits (checked first, as _parse_integer flags it), EINVAL
     * for no digits or anything after them.
     */
    static BigInteger kstrtoll(String s) throws ParseError {
        if (s.startsWith("-")) {
            BigInteger u = kstrtoull(s.substring(1));
            if (u.compareTo(BigInteger.ONE.shiftLeft(63)) > 0) {
                throw new ParseError(Errno.ERANGE);
            }
            return u.negate();
        }
        BigInteger u = kstrtoull(s.startsWith("+") ? s.substring(1) : s);
        if (u.compareTo(BigInteger.ONE.shiftLeft(63)) >= 0) {
            throw new ParseError(Errno.ERANGE);
        }
        return u;
    }

    /** _kstrtoull(s, 0) (no sign). */
    static BigInteger kstrtoull(String s) throws ParseError {
        int i = 0;
        int base = 10;
        if (s.startsWith("0")) {
            base = 8;
            if (s.length() > 2 && (s.charAt(1) == 'x' || s.charAt(1) == 'X') && hex(s.charAt(2)) >= 0) {
                base = 16;
                i = 2;
            }
        }
        BigInteger v = BigInteger.ZERO;
        int digits = 0;
        for (; i < s.length(); i++) {
            int d = hex(s.charAt(i));
            if (d < 0 || d >= base) {
                break;
            }
            v = v.multiply(BigInteger.valueOf(base)).add(BigInteger.valueOf(d));
            digits++;
        }
        if (v.compareTo(TWO_64) >= 0) {
            throw new ParseError(Errno.ERANGE);
        }
        String rest = s.substring(i);
        if (digits == 0 || !rest.isEmpty() && !rest.equals("\n")) {
            throw new ParseError(Errno.EINVAL);
        }
        return v;
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        char l = Character.toLowerCase(c);
        return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
    }

    /**
     * kstrtobool as of v5.19 (the kernel modelled): the first character decides, y/Y/t/T/1 true and
     * n/N/f/F/0 false, o/O followed by n/N true and by f/F false. t/T/f/F came with commit 0d6ea3ac94ca
     * ("lib/kstrtox.c: add "false"/"true" support to kstrtobool()", merged for v5.19; 5.19's stable tree
     * carries the arm64 rodata=full fix it made necessary); a kernel before v5.19 refuses "true" and
     * "false" with -EINVAL. Return: empty for anything else (-EINVAL).
     */
    static java.util.Optional<Boolean> kstrtobool(String s) {
        if (s == null || s.isEmpty()) {
            return java.util.Optional.empty();
        }
        return switch (s.charAt(0)) {
            case 'y', 'Y', 't', 'T', '1' -> java.util.Optional.of(true);
            case 'n', 'N', 'f', 'F', '0' -> java.util.Optional.of(false);
            case 'o', 'O' -> s.length() < 2 ? java.util.Optional.empty() : switch (s.charAt(1)) {
                case 'n', 'N' -> java.util.Optional.of(true);
                case 'f', 'F' -> java.util.Optional.of(false);
                default -> java.util.Optional.empty();
            };
            default -> java.util.Optional.empty();
        };
    }

    /** " (one of: a, b, c)" or " (an integer, default N; description)" from the attribute's metatype. */
    static String allowed(AttributeDefinition ad) {
        String[] opts = ad.getOptionValues();
        if (opts != null && opts.length > 0) {
            return " (one of: " + String.join(", ", opts) + ")";
        }
        String type = switch (ad.getType()) {
            case AttributeDefinition.INTEGER, AttributeDefinition.LONG, AttributeDefinition.SHORT,
                    AttributeDefinition.BYTE -> "an integer";
            case AttributeDefinition.BOOLEAN -> "y/n, 1/0, on/off or true/false";
            case AttributeDefinition.DOUBLE, AttributeDefinition.FLOAT -> "a number";
            default -> "text";
        };
        String[] d = ad.getDefaultValue();
        return " (" + type + (d == null || d.length == 0 ? "" : ", default " + String.join(",", d))
                + (ad.getDescription() == null || ad.getDescription().isBlank() ? "" : "; " + ad.getDescription()) + ")";
    }

    /** The type as modinfo prints it ({@code parm: name:description (int)}). */
    static String typeName(int t) {
        return switch (t) {
            case AttributeDefinition.INTEGER -> "int";
            case AttributeDefinition.LONG -> "long";
            case AttributeDefinition.SHORT -> "short";
            case AttributeDefinition.BYTE -> "byte";
            case AttributeDefinition.BOOLEAN -> "bool";
            default -> "charp";
        };
    }
}
