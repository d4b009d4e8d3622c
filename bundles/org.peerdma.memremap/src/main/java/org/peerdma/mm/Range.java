package org.peerdma.mm;

import org.peerdma.errno.KernelException;

/**
 * struct range: a physical address range with an inclusive end.
 *
 * @param start first byte
 * @param end last byte (inclusive)
 */
public record Range(long start, long end) {
    public Range {
        if (Long.compareUnsigned(end, start) < 0) {
            throw KernelException.einval("range end %#x is below its start %#x", end, start);
        }
    }

    /** ofSize - [start, start + size - 1]. Errors: EINVAL for size 0 or overflow. */
    public static Range ofSize(long start, long size) {
        if (size <= 0) {
            throw KernelException.einval("range size %d must be positive", size);
        }
        long end = start + size - 1;
        if (Long.compareUnsigned(end, start) < 0) {
            throw KernelException.einval("range %#x + %#x overflows", start, size);
        }
        return new Range(start, end);
    }

    /** @return range_len(). */
    public long length() {
        return end - start + 1;
    }

    public boolean contains(long addr) {
        return Long.compareUnsigned(addr, start) >= 0 && Long.compareUnsigned(addr, end) <= 0;
    }

    public boolean intersects(Range o) {
        return Long.compareUnsigned(start, o.end) <= 0 && Long.compareUnsigned(o.start, end) <= 0;
    }

    @Override
    public String toString() {
        return String.format("[%#x-%#x]", start, end);
    }
}
