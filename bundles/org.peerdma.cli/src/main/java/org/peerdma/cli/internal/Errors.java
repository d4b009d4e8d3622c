package org.peerdma.cli.internal;

import java.lang.reflect.InvocationTargetException;

import org.peerdma.cli.PeerdmaCli;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.util.Texts;

/** Failures as the command line reports them: an errno-style message and an exit status. */
final class Errors {
    private Errors() {
    }

    /** The failure that matters: InvocationTargetException and similar wrappers removed. */
    static Throwable unwrap(Throwable t) {
        Throwable x = t;
        while ((x instanceof InvocationTargetException || x instanceof java.util.concurrent.ExecutionException
                || x instanceof java.util.concurrent.CompletionException
                || x instanceof java.lang.reflect.UndeclaredThrowableException) && x.getCause() != null) {
            x = x.getCause();
        }
        return x;
    }

    /**
     * isArgumentMismatch - whether {@code t} is Java reflection refusing the arguments Gogo chose for a
     * command's method (a number too big for an {@code int} parameter: "argument type mismatch"), thrown
     * before the command ran: a wrong-arguments error, not a failure of the command.
     */
    static boolean isArgumentMismatch(Throwable t) {
        if (!(t instanceof IllegalArgumentException) || t.getStackTrace().length == 0) {
            return false;
        }
        String top = t.getStackTrace()[0].getClassName();
        return top.startsWith("jdk.internal.reflect.") || top.startsWith("sun.reflect.");
    }

    /** message - "ERRNO: what was wrong"; internal errors say so without a stack trace. */
    static String message(Throwable t) {
        Throwable x = unwrap(t);
        if (x instanceof KernelException k) {
            return k.getMessage();
        }
        if (x instanceof OutOfMemoryError) {
            return "ENOMEM: out of Java heap (" + Texts.clip(String.valueOf(x.getMessage())) + ")";
        }
        if (x instanceof java.nio.file.FileSystemException fs) {
            return fileError(fs).getMessage();
        }
        if (x instanceof java.io.UncheckedIOException u) {
            return "EIO: " + Texts.clip(String.valueOf(u.getCause().getMessage()));
        }
        return "EIO: internal error: " + x.getClass().getSimpleName() + ": " + Texts.clip(String.valueOf(x.getMessage()))
                + " (set PEERDMA_TRACE=1 for the stack trace)";
    }

    /**
     * fileError - a file the user named (a redirection target, an output file) that cannot be opened, as the
     * errno open(2) would give.
     */
    static KernelException fileError(java.nio.file.FileSystemException fs) {
        String file = Texts.clip(String.valueOf(fs.getFile()));
        String reason = fs.getReason() == null ? "" : fs.getReason();
        if (fs instanceof java.nio.file.NoSuchFileException) {
            return new KernelException(Errno.ENOENT, file + ": no such file or directory");
        }
        if (fs instanceof java.nio.file.AccessDeniedException) {
            return new KernelException(Errno.EACCES, file + ": permission denied");
        }
        if (fs instanceof java.nio.file.NotDirectoryException || reason.contains("Not a directory")) {
            return new KernelException(Errno.ENOTDIR, file + ": a component of the path is not a directory");
        }
        if (reason.contains("Is a directory")) {
            return new KernelException(Errno.EISDIR, file + ": is a directory");
        }
        if (reason.contains("Read-only")) {
            return new KernelException(Errno.EROFS, file + ": read-only file system");
        }
        return new KernelException(Errno.EIO, file + ": " + Texts.clip(reason));
    }

    /** status - the exit status for a failure of a one-shot command (sysexits.h). */
    static int status(Throwable t) {
        Throwable x = unwrap(t);
        if (x instanceof java.nio.file.FileSystemException fs) {
            x = fileError(fs);
        }
        if (x instanceof TopologyFormatException) {
            return PeerdmaCli.DATAERR;
        }
        if (x instanceof DataException) {
            return PeerdmaCli.DATAERR;
        }
        if (x instanceof KernelException k) {
            Errno e = k.errno();
            if (e == Errno.ENOENT || e == Errno.ENOTDIR || e == Errno.EACCES || e == Errno.EISDIR) {
                return PeerdmaCli.NOINPUT;
            }
            if (e == Errno.EINVAL || e == Errno.ENODEV || e == Errno.ERANGE) {
                return PeerdmaCli.USAGE;
            }
            if (e == Errno.EIO) {
                return PeerdmaCli.IOERR;
            }
            return PeerdmaCli.SOFTWARE;
        }
        return PeerdmaCli.SOFTWARE;
    }

    /** A malformed input that is not a topology (a policy file, a script): EINVAL, exit 65. */
    static final class DataException extends KernelException {
        private static final long serialVersionUID = 1L;

        DataException(String message) {
            super(Errno.EINVAL, message);
        }
    }
}
