package org.peerdma.errno;

import java.util.Objects;

/**
 * A failed model call: the errno the kernel would return, with a message naming what was
 * wrong (the argument, the file and line, the device). The message printed to users starts
 * with the errno name, e.g. {@code "EINVAL: offset 0x2000 is past the end of BAR 2 (size 0x1000)"}.
 */
public class KernelException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Errno errno;

    public KernelException(Errno errno, String message) {
        super(message);
        this.errno = Objects.requireNonNull(errno);
    }

    public KernelException(Errno errno, String message, Throwable cause) {
        super(message, cause);
        this.errno = Objects.requireNonNull(errno);
    }

    /** @return the errno of this failure. */
    public Errno errno() {
        return errno;
    }

    /** @return the kernel-style negative return value, e.g. -22. */
    public int returnValue() {
        return errno.negative();
    }

    /** @return the detail message without the errno prefix. */
    public String detail() {
        return super.getMessage();
    }

    @Override
    public String getMessage() {
        return errno.name() + ": " + super.getMessage();
    }

    /** Shorthand for {@code new KernelException(Errno.EINVAL, String.format(fmt, args))}. */
    public static KernelException einval(String fmt, Object... args) {
        return new KernelException(Errno.EINVAL, String.format(fmt, args));
    }

    /** Shorthand for {@code new KernelException(Errno.ENODEV, String.format(fmt, args))}. */
    public static KernelException enodev(String fmt, Object... args) {
        return new KernelException(Errno.ENODEV, String.format(fmt, args));
    }
}
