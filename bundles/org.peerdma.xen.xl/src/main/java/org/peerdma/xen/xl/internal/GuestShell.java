package org.peerdma.xen.xl.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

/**
 * One Gogo command in a guest's own shell. The guest's Gogo runtime is its own bundle (its own
 * classes), so it is driven by reflection over the CommandProcessor service it registered.
 */
final class GuestShell {
    private GuestShell() {
    }

    static String exec(BundleContext guest, String command) {
        ServiceReference<?> ref = guest.getServiceReference("org.apache.felix.service.command.CommandProcessor");
        if (ref == null) {
            throw new KernelException(Errno.ENOENT, "the domain's kernel has no Gogo shell runtime");
        }
        Object proc = guest.getService(ref);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            Method create = find(proc.getClass(), "createSession", 3);
            Object session = create.invoke(proc, new ByteArrayInputStream(new byte[0]), ps, ps);
            try {
                Object result = find(session.getClass(), "execute", 1).invoke(session, command);
                if (result != null) {
                    Object text = find(session.getClass(), "format", 2).invoke(session, result, 0);
                    ps.print(text);
                }
            } finally {
                find(session.getClass(), "close", 0).invoke(session);
            }
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            throw new KernelException(Errno.EIO, "in the domain: " + (c.getMessage() != null ? c.getMessage() : c.toString()));
        } catch (ReflectiveOperationException e) {
            throw new KernelException(Errno.EIO, "the domain's Gogo runtime: " + e);
        } finally {
            guest.ungetService(ref);
        }
        return out.toString(StandardCharsets.UTF_8).stripTrailing();
    }

    private static Method find(Class<?> c, String name, int params) throws NoSuchMethodException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Class<?> i : k.getInterfaces()) {
                for (Method m : i.getMethods()) {
                    if (m.getName().equals(name) && m.getParameterCount() == params) {
                        return m;
                    }
                }
            }
        }
        for (Method m : c.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == params) {
                m.setAccessible(true);
                return m;
            }
        }
        throw new NoSuchMethodException(c.getName() + "." + name);
    }
}
