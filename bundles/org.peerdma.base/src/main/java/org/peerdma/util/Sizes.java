package org.peerdma.util;

import java.util.Locale;

import org.peerdma.errno.KernelException;

/** Sizes as the shell takes them: bytes, 0x.., or a K/M/G/T suffix (lib/cmdline.c memparse). */
public final class Sizes {
    private Sizes() {
    }

    /** @return the size; EINVAL naming the text when it is not one (or overflows). */
    public static long parse(String s) {
        String t = s.strip().toUpperCase(Locale.ROOT);
        long mult = 1;
        if (t.endsWith("K")) {
            mult = 1L << 10;
        } else if (t.endsWith("M")) {
            mult = 1L << 20;
        } else if (t.endsWith("G")) {
            mult = 1L << 30;
        } else if (t.endsWith("T")) {
            mult = 1L << 40;
        }
        if (mult != 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.decode(t), mult);
        } catch (NumberFormatException | ArithmeticException ex) {
            throw KernelException.einval("'%s' is not a size (bytes, 0x.., or K/M/G/T)", s);
        }
    }
}
