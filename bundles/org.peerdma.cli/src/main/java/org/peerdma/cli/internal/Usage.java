package org.peerdma.cli.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;

/**
 * Usage lines of shell commands, built from their methods' {@link Descriptor} and Gogo
 * {@link org.apache.felix.service.command.Parameter} annotations, and the names closest to a
 * mistyped command.
 */
final class Usage {
    /** The command object registered for (scope, function), or null: the service registry in OSGi. */
    private final BiFunction<String, String, Object> target;

    Usage(BiFunction<String, String, Object> target) {
        this.target = target;
    }

    /**
     * of - "usage: scope:name ARGS" for each form of the command, with its parameters described.
     * @param typed the name as typed ("attach" or "dmabuf:attach")
     */
    List<String> of(String typed) {
        String scope = null;
        String fn = typed;
        int colon = typed.indexOf(':');
        if (colon > 0) {
            scope = typed.substring(0, colon);
            fn = typed.substring(colon + 1);
        }
        Object o = null;
        if (scope != null) {
            o = target.apply(scope, fn);
        } else {
            for (String s : Gogo.SCOPE.split(":")) {
                if (!s.equals("*") && (o = target.apply(s, fn)) != null) {
                    scope = s;
                    break;
                }
            }
        }
        List<String> out = new ArrayList<>();
        if (o == null) {
            return out;
        }
        List<Method> forms = new ArrayList<>();
        for (Method m : o.getClass().getMethods()) {
            if (m.getName().equals(fn) && m.getDeclaringClass() != Object.class) {
                forms.add(m);
            }
        }
        forms.sort(Comparator.comparingInt(Method::getParameterCount));
        for (Method m : forms) {
            out.add(line(scope + ":" + fn, m));
            for (Parameter p : m.getParameters()) {
                if (p.getType() == CommandSession.class) {
                    continue;
                }
                Descriptor d = p.getAnnotation(Descriptor.class);
                if (d != null) {
                    out.add(String.format(Locale.ROOT, "    %-14s %s", label(p), d.value()));
                }
            }
        }
        return out;
    }

    private static String line(String name, Method m) {
        StringBuilder sb = new StringBuilder("usage: ").append(name);
        for (Parameter p : m.getParameters()) {
            if (p.getType() == CommandSession.class) {
                continue;
            }
            org.apache.felix.service.command.Parameter flag = p.getAnnotation(
                    org.apache.felix.service.command.Parameter.class);
            if (flag != null) {
                boolean isSwitch = !org.apache.felix.service.command.Parameter.UNSPECIFIED.equals(flag.presentValue());
                sb.append(" [").append(flag.names()[0]).append(isSwitch ? "" : " " + p.getName().toUpperCase(Locale.ROOT))
                        .append(']');
            } else if (p.isVarArgs()) {
                sb.append(" [").append(p.getName().toUpperCase(Locale.ROOT)).append("...]");
            } else {
                sb.append(' ').append(p.getName().toUpperCase(Locale.ROOT));
            }
        }
        return sb.toString();
    }

    private static String label(Parameter p) {
        org.apache.felix.service.command.Parameter flag = p.getAnnotation(org.apache.felix.service.command.Parameter.class);
        return flag != null ? String.join(",", flag.names()) : p.getName().toUpperCase(Locale.ROOT);
    }

    /**
     * suggest - up to three known commands closest to {@code typed} (edit distance at most 2, or a
     * prefix), unscoped names first.
     * @param commands Gogo's ".commands" ("scope:function" names)
     */
    List<String> suggest(String typed, Object commands) {
        if (!(commands instanceof Collection<?> all) || typed == null || typed.isEmpty()) {
            return List.of();
        }
        String fnTyped = typed.contains(":") ? typed.substring(typed.indexOf(':') + 1) : typed;
        Map<String, Integer> scored = new TreeMap<>();
        for (Object c : all) {
            String full = String.valueOf(c);
            String fn = full.substring(full.indexOf(':') + 1);
            int d = distance(fnTyped.toLowerCase(Locale.ROOT), fn.toLowerCase(Locale.ROOT));
            if (d <= 2 || (fnTyped.length() >= 3 && fn.startsWith(fnTyped))) {
                String shown = typed.contains(":") ? full : fn;
                scored.merge(shown, d, Math::min);
            }
        }
        return scored.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue()
                .thenComparing(Map.Entry.comparingByKey())).limit(3).map(Map.Entry::getKey).toList();
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** For tests: usage of commands held in a map "scope:function" -> object. */
    static Usage of(Map<String, Object> commands) {
        return new Usage((s, f) -> commands.get(s + ":" + f));
    }

    static List<String> scopes() {
        return Arrays.asList(Gogo.SCOPE.split(":"));
    }
}
