package org.peerdma.cli.internal;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;

import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.peerdma.errno.KernelException;

/**
 * help [NAME] - the shell's commands as the runner resolves them: an unscoped name runs the first scope of
 * {@link Gogo#SCOPE} that has it, so {@code help status} says which module's {@code status} that is and
 * which others exist ({@code hdmabuf:status}), instead of whichever the framework listed first.
 */
@Component(service = HelpCommand.class, property = {"osgi.command.scope=cli", "osgi.command.function=help"})
public class HelpCommand {
    private BundleContext context;

    @Activate
    void activate(BundleContext ctx) {
        this.context = ctx;
    }

    @Descriptor("list the commands by module")
    public String help() {
        return list(commands());
    }

    @Descriptor("explain a command: what it does, its arguments, which module an unscoped name runs")
    public String help(@Descriptor("a command, e.g. check or hdmabuf:status") String name) {
        return explain(name, commands(), this::target);
    }

    /** Every registered command, "scope:function". */
    private List<String> commands() {
        List<String> out = new ArrayList<>();
        try {
            ServiceReference<?>[] refs = context.getServiceReferences((String) null, "(osgi.command.scope=*)");
            for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
                Object scope = r.getProperty("osgi.command.scope");
                Object fns = r.getProperty("osgi.command.function");
                for (String f : fns instanceof String[] a ? a : fns == null ? new String[0] : new String[] {fns.toString()}) {
                    out.add(scope + ":" + f);
                }
            }
        } catch (InvalidSyntaxException ex) {
            throw new IllegalStateException("BUG: " + ex.getMessage(), ex);
        }
        return out;
    }

    private Object target(String scope, String fn) {
        try {
            ServiceReference<?>[] refs = context.getServiceReferences((String) null,
                    "(&(osgi.command.scope=" + scope + ")(osgi.command.function=" + fn + "))");
            if (refs == null || refs.length == 0) {
                return null;
            }
            Object o = context.getService(refs[0]);
            context.ungetService(refs[0]);
            return o;
        } catch (InvalidSyntaxException ex) {
            return null;
        }
    }

    /** list - "scope: fn fn fn" per scope, in the order an unscoped name is looked up. */
    static String list(List<String> commands) {
        Map<String, TreeSet<String>> byScope = new TreeMap<>(Comparator.comparingInt(HelpCommand::rank)
                .thenComparing(Comparator.naturalOrder()));
        for (String c : commands) {
            int i = c.indexOf(':');
            byScope.computeIfAbsent(c.substring(0, i), k -> new TreeSet<>()).add(c.substring(i + 1));
        }
        StringBuilder sb = new StringBuilder();
        byScope.forEach((scope, fns) -> sb.append(scope).append(": ").append(String.join(" ", fns)).append('\n'));
        sb.append("An unscoped name runs the first of these scopes that has it (").append(Gogo.SCOPE.replace(":*", ""))
                .append("); 'help NAME' explains one and names the others, which run as SCOPE:NAME.");
        return sb.toString();
    }

    private static int rank(String scope) {
        List<String> order = Usage.scopes();
        int i = order.indexOf(scope);
        return i < 0 ? order.size() : i;
    }

    /**
     * explain - what NAME does in each scope that has it, its usage, and which one the unscoped name runs.
     * Errors: EINVAL when no module has NAME.
     */
    static String explain(String typed, List<String> commands, BiFunction<String, String, Object> target) {
        String fn = typed.contains(":") ? typed.substring(typed.indexOf(':') + 1) : typed;
        String onlyScope = typed.contains(":") ? typed.substring(0, typed.indexOf(':')) : null;
        List<String> scopes = new ArrayList<>();
        for (String c : commands) {
            int i = c.indexOf(':');
            String s = c.substring(0, i);
            if (c.substring(i + 1).equals(fn) && (onlyScope == null || onlyScope.equals(s)) && !scopes.contains(s)) {
                scopes.add(s);
            }
        }
        if (scopes.isEmpty()) {
            List<String> close = new Usage(target).suggest(typed, commands);
            throw KernelException.einval("no command %s%s", typed, close.isEmpty() ? ""
                    : "; did you mean: " + String.join(", ", close) + "?");
        }
        scopes.sort(Comparator.comparingInt(HelpCommand::rank));
        Usage usage = new Usage(target);
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < scopes.size(); k++) {
            String s = scopes.get(k);
            Object o = target.apply(s, fn);
            if (k > 0) {
                sb.append('\n');
            }
            sb.append(s).append(':').append(fn);
            if (onlyScope == null && scopes.size() > 1) {
                sb.append(k == 0 ? "   (what '" + fn + "' runs)" : "   (type " + s + ":" + fn + ")");
            }
            String what = o == null ? null : description(o, fn);
            sb.append(what == null ? "" : " - " + what).append('\n');
            for (String u : usage.of(s + ":" + fn)) {
                sb.append("  ").append(u).append('\n');
            }
        }
        return sb.toString().stripTrailing();
    }

    private static String description(Object o, String fn) {
        for (Method m : o.getClass().getMethods()) {
            Descriptor d = m.getAnnotation(Descriptor.class);
            if (m.getName().equals(fn) && d != null) {
                return d.value();
            }
        }
        return null;
    }
}
