package org.peerdma.errno;

import java.util.Locale;
import java.util.Optional;

/**
 * Linux errno values (asm-generic/errno-base.h, asm-generic/errno.h and the kernel-internal
 * values of include/linux/errno.h) with their numbers and strerror texts.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "Input/output error"),
    ENXIO(6, "No such device or address"),
    E2BIG(7, "Argument list too long"),
    ENOEXEC(8, "Exec format error"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    EMFILE(24, "Too many open files"),
    ENOTTY(25, "Inappropriate ioctl for device"),
    EFBIG(27, "File too large"),
    ENOSPC(28, "No space left on device"),
    ESPIPE(29, "Illegal seek"),
    EROFS(30, "Read-only file system"),
    EPIPE(32, "Broken pipe"),
    ERANGE(34, "Numerical result out of range"),
    EDEADLK(35, "Resource deadlock avoided"),
    ENOSYS(38, "Function not implemented"),
    ENOTEMPTY(39, "Directory not empty"),
    ENODATA(61, "No data available"),
    ETIME(62, "Timer expired"),
    ENOLINK(67, "Link has been severed"),
    EBADMSG(74, "Bad message"),
    EOVERFLOW(75, "Value too large for defined data type"),
    EBADFD(77, "File descriptor in bad state"),
    EMSGSIZE(90, "Message too long"),
    EOPNOTSUPP(95, "Operation not supported"),
    ENOTCONN(107, "Transport endpoint is not connected"),
    ETIMEDOUT(110, "Connection timed out"),
    EALREADY(114, "Operation already in progress"),
    EREMOTEIO(121, "Remote I/O error"),
    EINPROGRESS(115, "Operation now in progress"),
    ECANCELED(125, "Operation canceled"),
    ERESTARTSYS(512, "Restart system call (kernel internal)"),
    ENOTSUPP(524, "Operation is not supported (kernel internal)");

    private final int number;
    private final String text;

    Errno(int number, String text) {
        this.number = number;
        this.text = text;
    }

    /** @return the positive errno number; the kernel returns its negation. */
    public int number() {
        return number;
    }

    /** @return the kernel-style negative return value, e.g. -22 for EINVAL. */
    public int negative() {
        return -number;
    }

    /** @return the strerror(3) text. */
    public String text() {
        return text;
    }

    /**
     * of - look an errno up by number.
     * @param number positive or negative errno number
     * Return: the errno, or empty when the number is not one this model knows.
     */
    public static Optional<Errno> of(int number) {
        int n = Math.abs(number);
        for (Errno e : values()) {
            if (e.number == n) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /**
     * parse - look an errno up by name, case-insensitive, with or without a leading '-'.
     * Return: the errno, or empty.
     */
    public static Optional<Errno> parse(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT);
        if (n.startsWith("-")) {
            n = n.substring(1);
        }
        for (Errno e : values()) {
            if (e.name().equals(n)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }
}
