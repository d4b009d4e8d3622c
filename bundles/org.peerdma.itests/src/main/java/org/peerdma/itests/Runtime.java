package org.peerdma.itests;

import java.util.concurrent.TimeUnit;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/** Helpers to wait for services that come and go as modules are removed and re-added. */
final class Runtime {
    private Runtime() {
    }

    /**
     * await - the service, held for the test bundle (not released: releasing the last use of a
     * delayed component deactivates it, and the test would hold a dead instance).
     */
    static <T> T await(BundleContext ctx, Class<T> type, long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            org.osgi.framework.ServiceReference<T> ref = ctx.getServiceReference(type);
            if (ref != null) {
                T s = ctx.getService(ref);
                if (s != null) {
                    return s;
                }
            }
            if (System.nanoTime() > end) {
                throw new AssertionError(type.getSimpleName() + " did not appear within " + millis + " ms");
            }
            Thread.sleep(20);
        }
    }

    static boolean absent(BundleContext ctx, Class<?> type) {
        return ctx.getServiceReference(type) == null;
    }

    /** Wait until {@code cond} holds, polling; fail with {@code what} after the timeout. */
    static void eventually(String what, long millis, java.util.function.BooleanSupplier cond)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The real dumps' directory: the checkout's sibling shared/, else the machine's /work/shared (a clone elsewhere). */
    static java.nio.file.Path realDumps(BundleContext ctx) {
        String prop = ctx.getProperty("peerdma.shared");
        java.nio.file.Path p = prop == null ? null : java.nio.file.Path.of(prop, "topologies/real");
        return p != null && java.nio.file.Files.isDirectory(p) ? p : java.nio.file.Path.of("/work/shared/topologies/real");
    }

    /** Start every installed peerdma bundle that is stopped (undo a test's rmmod). */
    static void startAll(BundleContext ctx) throws Exception {
        for (Bundle b : ctx.getBundles()) {
            String bsn = b.getSymbolicName();
            if (bsn != null && bsn.startsWith("org.peerdma.") && b.getState() == Bundle.RESOLVED
                    && b.getHeaders().get("Fragment-Host") == null) {
                b.start(Bundle.START_TRANSIENT);
            }
        }
    }
}
