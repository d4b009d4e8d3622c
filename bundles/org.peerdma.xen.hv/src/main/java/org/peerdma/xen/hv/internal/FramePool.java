package org.peerdma.xen.hv.internal;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;

import org.peerdma.xen.hv.Xen;

/**
 * Machine memory: real off-heap memory in 4 KiB frames, handed out from arenas of 16 MiB allocated
 * on first use. Each frame has an owner and a reference count (the owner's reference plus one per
 * foreign mapping); it is scrubbed and freed when the count reaches 0. Guarded by the machine lock.
 */
final class FramePool {
    static final int ARENA_FRAMES = 4096;
    private final long total;
    private final ByteBuffer[] arenas;
    private final BitSet used;
    private final int[] owner;
    private final int[] refs;
    private long free;

    FramePool(long frames) {
        if (frames <= 0 || frames > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("machine of " + frames + " frames");
        }
        total = frames;
        free = frames;
        arenas = new ByteBuffer[(int) ((frames + ARENA_FRAMES - 1) / ARENA_FRAMES)];
        used = new BitSet((int) frames);
        owner = new int[(int) frames];
        refs = new int[(int) frames];
        Arrays.fill(owner, -1);
    }

    long total() {
        return total;
    }

    long free() {
        return free;
    }

    /** alloc - n frames for {@code domid}, or null (nothing taken) when fewer are free. */
    long[] alloc(int domid, long n) {
        if (n > free) {
            return null;
        }
        long[] out = new long[(int) n];
        int at = 0;
        for (int i = 0; i < n; i++) {
            at = used.nextClearBit(at);
            used.set(at);
            owner[at] = domid;
            refs[at] = 1;
            out[i] = at;
        }
        free -= n;
        return out;
    }

    int owner(long mfn) {
        return owner[(int) mfn];
    }

    void get(long mfn) {
        refs[(int) mfn]++;
    }

    /** put - drop a reference; at 0 the frame is scrubbed and free. Return: true when freed. */
    boolean put(long mfn) {
        int i = (int) mfn;
        if (--refs[i] > 0) {
            return false;
        }
        ByteBuffer f = frame(mfn);
        for (int off = 0; off < Xen.PAGE_SIZE; off += 8) {
            f.putLong(off, 0L);
        }
        used.clear(i);
        owner[i] = -1;
        free++;
        return true;
    }

    /** frame - the frame's memory, a 4 KiB view. */
    ByteBuffer frame(long mfn) {
        int a = (int) (mfn / ARENA_FRAMES);
        ByteBuffer arena = arenas[a];
        if (arena == null) {
            long frames = Math.min(ARENA_FRAMES, total - (long) a * ARENA_FRAMES);
            arena = ByteBuffer.allocateDirect((int) (frames << Xen.PAGE_SHIFT));
            arenas[a] = arena;
        }
        int off = (int) (mfn % ARENA_FRAMES) << Xen.PAGE_SHIFT;
        return arena.duplicate().clear().position(off).limit(off + Xen.PAGE_SIZE).slice();
    }
}
