package org.peerdma.udmabuf;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.peerdma.errno.Errno;

/**
 * A memfd (mm/memfd.c over shmem or hugetlbfs): a growable file of real memory, 4 KiB pages
 * allocated on first touch. Seals follow fcntl(2):
 * without MFD_ALLOW_SEALING the file starts with F_SEAL_SEAL; F_SEAL_SEAL stops further seals;
 * SHRINK/GROW stop ftruncate in that direction; WRITE/FUTURE_WRITE stop writes.
 */
public final class Memfd {
    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_ALLOW_SEALING = 0x2;
    public static final int MFD_HUGETLB = 0x4;
    public static final int F_SEAL_SEAL = 0x1;
    public static final int F_SEAL_SHRINK = 0x2;
    public static final int F_SEAL_GROW = 0x4;
    public static final int F_SEAL_WRITE = 0x8;
    public static final int F_SEAL_FUTURE_WRITE = 0x10;
    public static final int PAGE_SIZE = 4096;
    public static final int HPAGE_SIZE = 2 << 20;

    private final String name;
    private final boolean hugetlb;
    private volatile long size;
    private volatile int seals;
    private final Map<Long, ByteBuffer> pages = new ConcurrentHashMap<>();

    private Memfd(String name, boolean hugetlb, int seals) {
        this.name = name;
        this.hugetlb = hugetlb;
        this.seals = seals;
    }

    /** memfd_create(name, flags). */
    public static Memfd create(String name, int flags) {
        return new Memfd(name, (flags & MFD_HUGETLB) != 0, (flags & MFD_ALLOW_SEALING) != 0 ? 0 : F_SEAL_SEAL);
    }

    public String name() {
        return name;
    }

    /** @return whether the file is on hugetlbfs (shmem otherwise). */
    public boolean hugetlb() {
        return hugetlb;
    }

    public long size() {
        return size;
    }

    /** @return F_GET_SEALS. */
    public int seals() {
        return seals;
    }

    /** F_ADD_SEALS. Return: 0; -EPERM when F_SEAL_SEAL is set. */
    public synchronized int addSeals(int add) {
        if ((seals & F_SEAL_SEAL) != 0) {
            return Errno.EPERM.negative();
        }
        if ((add & ~(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0) {
            return Errno.EINVAL.negative();
        }
        seals |= add;
        return 0;
    }

    /**
     * ftruncate. Return: 0; -EPERM against a SHRINK or GROW seal; -EINVAL for a negative size or, on
     * hugetlbfs, a size that is not a multiple of the huge page.
     */
    public synchronized int ftruncate(long newSize) {
        if (newSize < 0 || hugetlb && newSize % HPAGE_SIZE != 0) {
            return Errno.EINVAL.negative();
        }
        if (newSize < size && (seals & F_SEAL_SHRINK) != 0 || newSize > size && (seals & F_SEAL_GROW) != 0) {
            return Errno.EPERM.negative();
        }
        if (newSize < size) {
            long firstGone = (newSize + PAGE_SIZE - 1) / PAGE_SIZE;
            pages.keySet().removeIf(p -> p >= firstGone);
        }
        size = newSize;
        return 0;
    }

    /** pwrite. Return: bytes written; -EPERM against a WRITE seal; -EFBIG... past the end it grows unless sealed. */
    public int write(long off, byte[] data) {
        if ((seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0) {
            return Errno.EPERM.negative();
        }
        if (off + data.length > size) {
            int r = ftruncate(off + data.length);
            if (r != 0) {
                return r;
            }
        }
        int done = 0;
        while (done < data.length) {
            long pos = off + done;
            int n = (int) Math.min(data.length - done, PAGE_SIZE - pos % PAGE_SIZE);
            page(pos / PAGE_SIZE).put((int) (pos % PAGE_SIZE), data, done, n);
            done += n;
        }
        return data.length;
    }

    /** pread of {@code len} bytes (short at the end of file). */
    public byte[] read(long off, int len) {
        int n = (int) Math.max(0, Math.min(len, size - off));
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            long pos = off + done;
            int k = (int) Math.min(n - done, PAGE_SIZE - pos % PAGE_SIZE);
            page(pos / PAGE_SIZE).get((int) (pos % PAGE_SIZE), out, done, k);
            done += k;
        }
        return out;
    }

    /** page - the memory of 4 KiB page {@code idx} (allocated zero-filled on first touch). */
    public ByteBuffer page(long idx) {
        if (idx < 0 || idx * PAGE_SIZE >= size) {
            throw new IndexOutOfBoundsException("page " + idx + " is past the end of memfd " + name);
        }
        return pages.computeIfAbsent(idx, i -> ByteBuffer.allocateDirect(PAGE_SIZE));
    }


    @Override
    public String toString() {
        return "memfd:" + name + (hugetlb ? " (hugetlb)" : "") + " size " + size;
    }
}
