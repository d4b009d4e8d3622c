package org.peerdma.dmabuf.core;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

/**
 * struct iosys_map for the model: a CPU view of a buffer made of one or more memory segments (pages
 * of a memfd, VRAM pages, a system allocation). Reads and writes go to the segments themselves:
 * whoever else maps the same memory sees them (no copy). Instances are what vmap returns, and
 * vunmap compares them by identity, as the kernel compares the mapping.
 */
public final class BufMap {
    private final List<ByteBuffer> segments;
    private final long[] starts;
    private final long size;

    /** of - a map over {@code segments} in order; each is used from position 0 to its capacity. */
    public static BufMap of(List<ByteBuffer> segments) {
        return new BufMap(segments);
    }

    private BufMap(List<ByteBuffer> segs) {
        if (segs == null || segs.isEmpty()) {
            throw KernelException.einval("an iosys_map needs memory");
        }
        List<ByteBuffer> l = new ArrayList<>(segs.size());
        starts = new long[segs.size()];
        long off = 0;
        for (int i = 0; i < segs.size(); i++) {
            ByteBuffer b = segs.get(i).duplicate().clear();
            starts[i] = off;
            off += b.capacity();
            l.add(b);
        }
        this.segments = List.copyOf(l);
        this.size = off;
    }

    public long size() {
        return size;
    }

    /** @return whether one segment holds it all (a vaddr the kernel could use directly). */
    public boolean contiguous() {
        return segments.size() == 1;
    }

    private int segment(long off, int len) {
        if (off < 0 || len < 0 || off + len > size) {
            throw new KernelException(Errno.EFAULT, String.format("access %d+%d outside a %d-byte mapping", off, len,
                    size));
        }
        int lo = 0;
        int hi = starts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= off) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** read - copy {@code dst.length} bytes from {@code off} (iosys_map_memcpy_from). */
    public void read(long off, byte[] dst) {
        segment(off, dst.length);
        int done = 0;
        while (done < dst.length) {
            int s = segment(off + done, 1);
            ByteBuffer b = segments.get(s);
            int inSeg = (int) (off + done - starts[s]);
            int n = Math.min(dst.length - done, b.capacity() - inSeg);
            b.get(inSeg, dst, done, n);
            done += n;
        }
    }

    /** write - copy {@code src} to {@code off} (iosys_map_memcpy_to). */
    public void write(long off, byte[] src) {
        segment(off, src.length);
        int done = 0;
        while (done < src.length) {
            int s = segment(off + done, 1);
            ByteBuffer b = segments.get(s);
            int inSeg = (int) (off + done - starts[s]);
            int n = Math.min(src.length - done, b.capacity() - inSeg);
            b.put(inSeg, src, done, n);
            done += n;
        }
    }

    public byte get(long off) {
        int s = segment(off, 1);
        return segments.get(s).get((int) (off - starts[s]));
    }

    public void put(long off, byte v) {
        int s = segment(off, 1);
        segments.get(s).put((int) (off - starts[s]), v);
    }

    /** getInt - a little-endian 32-bit read that may straddle segments. */
    public int getInt(long off) {
        byte[] b = new byte[4];
        read(off, b);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    /** putInt - a little-endian 32-bit write that may straddle segments. */
    public void putInt(long off, int v) {
        write(off, new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)});
    }

    /** slice - the view of [off, off + len), sharing the memory (a user mapping of part of the buffer). */
    public BufMap slice(long off, long len) {
        if (len <= 0) {
            throw KernelException.einval("an empty slice");
        }
        segment(off, (int) Math.min(len, Integer.MAX_VALUE));
        List<ByteBuffer> out = new ArrayList<>();
        long end = off + len;
        for (int i = 0; i < segments.size(); i++) {
            long s = starts[i];
            long e = s + segments.get(i).capacity();
            if (e <= off || s >= end) {
                continue;
            }
            int from = (int) (Math.max(off, s) - s);
            int to = (int) (Math.min(end, e) - s);
            out.add(segments.get(i).duplicate().position(from).limit(to).slice());
        }
        return new BufMap(out);
    }
}
