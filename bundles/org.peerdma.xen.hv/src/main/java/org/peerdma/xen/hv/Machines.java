package org.peerdma.xen.hv;

import org.peerdma.xen.hv.internal.MachineImpl;

/** Where the machine comes from: the one this JVM runs on, or a fresh one (tests, benchmarks). */
public final class Machines {
    /** System property: machine memory in MiB for the machine this JVM boots (default 1024). */
    public static final String MEMORY_MB = "peerdma.xen.memory_mb";
    private static Hypervisor current;

    private Machines() {
    }

    /** current - the machine beneath every framework in this JVM, booted on first use with dom0. */
    public static synchronized Hypervisor current() {
        if (current == null) {
            current = create(Long.getLong(MEMORY_MB, 1024) << 20, 64 << 20);
        }
        return current;
    }

    /**
     * create - a fresh machine of {@code memoryBytes} (rounded down to frames) whose dom0 gets
     * {@code dom0Bytes}. Errors: XenError EINVAL when dom0 does not fit.
     */
    public static Hypervisor create(long memoryBytes, long dom0Bytes) {
        return new MachineImpl(memoryBytes >> Xen.PAGE_SHIFT, dom0Bytes >> Xen.PAGE_SHIFT);
    }
}
