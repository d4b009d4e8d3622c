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

    /** The longest message kept: a value quoted whole (a 10 MB line of a dump) is cut here at the latest. */
    public static final int MAX_MESSAGE = 2000;

    public KernelException(Errno errno, String message) {
        super(cap(message));
        this.errno = Objects.requireNonNull(errno);
    }

    public KernelException(Errno errno, String message, Throwable cause) {
        super(cap(message), cause);
        this.errno = Objects.requireNonNull(errno);
    }

    private static String cap(String m) {
        return m == null || m.length() <= MAX_MESSAGE ? m
                : m.substring(0, MAX_MESSAGE) + "... (" + m.length() + " characters)";
    }

    /** The arguments of a message with every text cut to {@link org.peerdma.util.Texts#CLIP} characters. */
    public static Object[] clipped(Object... args) {
        Object[] out = args.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof CharSequence cs) {
                out[i] = org.peerdma.util.Texts.clip(cs);
            }
        }
        return out;
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

    /** Shorthand for {@code new KernelException(Errno.EINVAL, String.format(fmt, args))}, text arguments clipped. */
    public static KernelException einval(String fmt, Object... args) {
        return new KernelException(Errno.EINVAL, String.format(fmt, clipped(args)));
    }

    /**
     * check - a kernel-style result (0 or positive on success, -errno on failure) as a value or as an
     * exception naming the call: "WHAT failed: ENOSPC (No space left on device)". An unknown number
     * is reported as EIO with the number.
     */
    public static long check(long ret, String what) {
        if (ret >= 0) {
            return ret;
        }
        Errno e = ret >= Integer.MIN_VALUE ? Errno.of((int) ret).orElse(null) : null;
        if (e == null) {
            throw new KernelException(Errno.EIO, what + " failed: unknown error " + ret);
        }
        throw new KernelException(e, what + " failed: " + e.name() + " (" + e.text() + ")");
    }

    /** Shorthand for {@code new KernelException(Errno.ENODEV, String.format(fmt, args))}. */
    public static KernelException enodev(String fmt, Object... args) {
        return new KernelException(Errno.ENODEV, String.format(fmt, clipped(args)));
    }
}
