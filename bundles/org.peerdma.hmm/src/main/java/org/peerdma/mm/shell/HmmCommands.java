package org.peerdma.mm.shell;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.dmirror.Dmirror;
import org.peerdma.mm.dmirror.DmirrorDevices;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.MmProcesses;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.Vma;
import org.peerdma.util.Sizes;

/** Processes, their memory and dmirror devices from the shell. */
@Component(service = HmmCommands.class, immediate = true, property = {"osgi.command.scope=hmm",
    "osgi.command.function=proc", "osgi.command.function=mmap", "osgi.command.function=munmap",
    "osgi.command.function=mprotect", "osgi.command.function=vmas", "osgi.command.function=write",
    "osgi.command.function=read", "osgi.command.function=dmirror", "osgi.command.function=devread",
    "osgi.command.function=migrate", "osgi.command.function=migrateback", "osgi.command.function=snapshot",
    "osgi.command.function=exit", "osgi.command.function=rmdev"})
public class HmmCommands {
    /** Device memory of shell-made dmirror devices is placed from here, 1 GiB apart. */
    static final long DEVMEM_BASE = 0x200_0000_0000L;

    @Reference
    MmProcesses procs;
    @Reference
    DmirrorDevices devices;

    private final Map<String, Mm> mms = new TreeMap<>();
    private final Map<String, Dmirror> devs = new TreeMap<>();

    @Deactivate
    synchronized void deactivate() {
        for (Mm mm : mms.values()) {
            devs.values().forEach(d -> d.release(mm));
            mm.mmput();
        }
        devs.values().forEach(devices::destroy);
    }

    private Mm mm(String name) {
        Mm m = mms.get(name);
        if (m == null) {
            throw new KernelException(Errno.ESRCH, "no process '" + name + "' (hmm:proc NAME makes one)");
        }
        return m;
    }

    private Dmirror dev(String name) {
        Dmirror d = devs.get(name);
        if (d == null) {
            throw new KernelException(Errno.ENODEV, "no dmirror device '" + name + "' (hmm:dmirror NAME PAGES)");
        }
        return d;
    }

    private static long addr(String s) {
        try {
            return Long.decode(s);
        } catch (NumberFormatException e) {
            throw KernelException.einval("address '%s' is not a number", s);
        }
    }

    private static int prot(String s) {
        int p = 0;
        for (char c : s.toCharArray()) {
            switch (c) {
                case 'r' -> p |= Vm.PROT_READ;
                case 'w' -> p |= Vm.PROT_WRITE;
                case 'x' -> p |= Vm.PROT_EXEC;
                case '-' -> {
                }
                default -> throw KernelException.einval("protection '%s': letters r, w, x or -", s);
            }
        }
        return p;
    }

    private static String check(long r, String what) {
        return String.format(Locale.ROOT, "%#x", KernelException.check(r, what));
    }

    private static void pages(int n, int max) {
        if (n < 1 || n > max) {
            throw KernelException.einval("%d pages: 1 to %d from the shell", n, max);
        }
    }

    @Descriptor("a process with an empty address space")
    public synchronized String proc(@Descriptor("name") String name) {
        if (mms.containsKey(name)) {
            throw new KernelException(Errno.EEXIST, "process " + name + " exists");
        }
        mms.put(name, procs.create(name));
        return "process " + name;
    }

    @Descriptor("mmap anonymous private memory; prints the address")
    public synchronized String mmap(@Descriptor("process") String p, @Descriptor("size (K/M suffixes)") String size,
            @Descriptor("protection, e.g. rw (default)") String... prot) {
        long len = Sizes.parse(size);
        return check(mm(p).mmap(0, len, prot.length > 0 ? prot(prot[0]) : Vm.PROT_READ | Vm.PROT_WRITE,
                Vm.MAP_PRIVATE | Vm.MAP_ANONYMOUS, null, 0), "mmap");
    }

    @Descriptor("munmap")
    public synchronized String munmap(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("size") String size) {
        check(mm(p).munmap(addr(a), Sizes.parse(size)), "munmap");
        return "unmapped";
    }

    @Descriptor("mprotect")
    public synchronized String mprotect(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("size") String size, @Descriptor("protection, e.g. r") String prot) {
        check(mm(p).mprotect(addr(a), Sizes.parse(size), prot(prot)), "mprotect");
        return "protection " + prot;
    }

    @Descriptor("the process's vmas (/proc/PID/maps)")
    public synchronized String vmas(@Descriptor("process") String p) {
        StringBuilder sb = new StringBuilder();
        for (Vma v : mm(p).vmas()) {
            sb.append(v).append(System.lineSeparator());
        }
        return sb.length() == 0 ? "no mappings" : sb.toString().stripTrailing();
    }

    @Descriptor("the CPU writes text at an address (faulting pages in)")
    public synchronized String write(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("text") String text) {
        return KernelException.check(mm(p).write(addr(a), text.getBytes(StandardCharsets.UTF_8)), "write")
                + " bytes written";
    }

    @Descriptor("the CPU reads text at an address")
    public synchronized String read(@Descriptor("process") String p, @Descriptor("address") String a,
            @Descriptor("bytes") int len) {
        if (len < 0 || len > 1 << 20) {
            throw KernelException.einval("length %d: 0 to 1 MiB from the shell", len);
        }
        byte[] b = new byte[len];
        check(mm(p).read(addr(a), b), "read");
        return new String(b, StandardCharsets.UTF_8);
    }

    @Descriptor("a dmirror device with PAGES pages of device-private memory")
    public synchronized String dmirror(@Descriptor("name") String name, @Descriptor("pages") int pages) {
        if (devs.containsKey(name)) {
            throw new KernelException(Errno.EEXIST, "device " + name + " exists");
        }
        if (pages < 1 || pages > 262144) {
            throw KernelException.einval("%d pages: 1 to 262144", pages);
        }
        devs.put(name, devices.create(name, DEVMEM_BASE + ((long) devs.size() << 30), pages));
        return "device " + name + ": " + pages + " pages of device memory";
    }

    @Descriptor("the device reads pages of a process through HMM (HMM_DMIRROR_READ), as text")
    public synchronized String devread(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n, @Descriptor("bytes to show") int show) {
        pages(n, 256);
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, new byte[(int) (n * Vm.PAGE_SIZE)]);
        check(dev(d).read(mm(p), c), "HMM_DMIRROR_READ");
        return new String(c.ptr, 0, Math.min(show, c.ptr.length), StandardCharsets.UTF_8).replace("\0", "") + " ("
                + c.faults + " fault(s))";
    }

    @Descriptor("migrate pages of a process to the device's memory")
    public synchronized String migrate(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n) {
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, null);
        int r = dev(d).migrateToDev(mm(p), c);
        if (r < 0 && r != -2) {
            check(r, "MIGRATE_TO_DEV");
        }
        return c.cpages + " of " + n + " page(s) on " + d + (r == -2 ? " (ENOENT: not all could move)" : "");
    }

    @Descriptor("migrate the device's pages of a range back to system memory")
    public synchronized String migrateback(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n) {
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, null);
        check(dev(d).migrateToSys(mm(p), c), "MIGRATE_TO_SYS");
        return c.cpages + " page(s) back in system memory";
    }

    @Descriptor("what the CPU page table holds for a range, page by page (no faulting)")
    public synchronized String snapshot(@Descriptor("device") String d, @Descriptor("process") String p,
            @Descriptor("address") String a, @Descriptor("pages") int n) {
        pages(n, 65536);
        Dmirror.Cmd c = new Dmirror.Cmd(addr(a), n, new byte[n]);
        check(dev(d).snapshot(mm(p), c), "HMM_DMIRROR_SNAPSHOT");
        StringBuilder sb = new StringBuilder();
        for (byte b : c.ptr) {
            sb.append(switch (b) {
                case Dmirror.PROT_ERROR -> "error";
                case Dmirror.PROT_NONE -> "none";
                case Dmirror.PROT_READ -> "ro";
                case Dmirror.PROT_WRITE -> "rw";
                default -> (b & 0xF0) == Dmirror.PROT_DEV_PRIVATE_LOCAL ? "dev-private" : String.format("%#x", b);
            }).append(' ');
        }
        return sb.toString().trim();
    }

    @Descriptor("remove a dmirror device: process pages still in its memory are migrated back first")
    public synchronized String rmdev(@Descriptor("device") String d) {
        Dmirror dev = dev(d);
        int held = dev.totalPages() - dev.freePages();
        devs.remove(d);
        devices.destroy(dev);
        return "device " + d + " removed" + (held > 0 ? ", " + held + " page(s) evicted to system memory" : "");
    }

    @Descriptor("the process exits (its mirrors are released, its memory freed)")
    public synchronized String exit(@Descriptor("process") String p) {
        Mm m = mm(p);
        devs.values().forEach(d -> d.release(m));
        mms.remove(p);
        m.mmput();
        return "process " + p + " exited";
    }
}
