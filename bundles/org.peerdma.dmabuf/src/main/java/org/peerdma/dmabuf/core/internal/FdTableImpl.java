package org.peerdma.dmabuf.core.internal;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.peerdma.dma.DmaDirection;
import org.peerdma.dmabuf.core.BufMap;
import org.peerdma.dmabuf.core.DmaBuf;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.core.FdTable;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

/** A process's fds: dma-buf files and other files, with the dma-buf file operations. */
final class FdTableImpl implements FdTable {
    private static final int PAGE_SHIFT = 12;
    private final DmaBufCoreImpl core;
    private final String owner;
    private final Map<Integer, Object> files = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger(3); // 0-2: stdin, stdout, stderr

    FdTableImpl(DmaBufCoreImpl core, String owner) {
        this.core = core;
        this.owner = owner;
    }

    @Override
    public int fd(DmaBuf buf, int flags) {
        if (buf == null) {
            return Errno.EINVAL.negative();
        }
        int fd = next.getAndIncrement();
        files.put(fd, buf); // the fd owns the reference the exporter got from dma_buf_export
        return fd;
    }

    @Override
    public Object file(int fd) {
        return files.get(fd);
    }

    @Override
    public DmaBuf get(int fd) {
        Object f = file(fd);
        if (f == null) {
            throw new KernelException(Errno.EBADF, owner + ": fd " + fd + " is not open");
        }
        if (!(f instanceof DmaBuf b)) {
            throw KernelException.einval("%s: fd %d is %s, not a dma-buf", owner, fd, f);
        }
        core.get(b);
        return b;
    }

    @Override
    public int close(int fd) {
        Object f = files.remove(fd);
        if (f == null) {
            return Errno.EBADF.negative();
        }
        if (f instanceof DmaBuf b) {
            core.put(b);
        }
        return 0;
    }

    private DmaBuf buf(int fd) {
        Object f = file(fd);
        return f instanceof DmaBuf b ? b : null;
    }

    @Override
    public long llseek(int fd, long offset, int whence) {
        DmaBuf b = buf(fd);
        if (b == null) {
            return Errno.EBADF.negative();
        }
        if (offset != 0) {
            return Errno.EINVAL.negative();
        }
        if (whence == DmaBufCore.SEEK_END) {
            return b.size();
        }
        if (whence == DmaBufCore.SEEK_SET) {
            return 0;
        }
        return Errno.EINVAL.negative();
    }

    @Override
    public BufMap mmap(int fd, long pgoff, long length, boolean shared) {
        DmaBuf b = buf(fd);
        if (b == null) {
            throw new KernelException(Errno.EBADF, owner + ": fd " + fd + " is not a dma-buf");
        }
        BufImpl bi = DmaBufCoreImpl.impl(b);
        if (!bi.ops.hasMmap()) {
            throw KernelException.einval("%s: %s does not support mmap", owner, bi.exporter);
        }
        long pages = (length + (1L << PAGE_SHIFT) - 1) >>> PAGE_SHIFT;
        if (pgoff < 0 || length <= 0 || pgoff + pages > (b.size() >>> PAGE_SHIFT)) {
            throw KernelException.einval("%s: mmap of %d pages at page %d is past the end of a %d-byte dma-buf", owner,
                    pages, pgoff, b.size());
        }
        return bi.ops.mmap(b, pgoff, length, shared);
    }

    @Override
    public int ioctl(int fd, long cmd, Object arg) {
        DmaBuf b = buf(fd);
        if (b == null) {
            return file(fd) == null ? Errno.EBADF.negative() : Errno.ENOTTY.negative();
        }
        if (cmd == DmaBufCore.DMA_BUF_IOCTL_SYNC) {
            if (!(arg instanceof Long flags)) {
                return Errno.EFAULT.negative();
            }
            if ((flags & ~(DmaBufCore.DMA_BUF_SYNC_RW | DmaBufCore.DMA_BUF_SYNC_END)) != 0) {
                return Errno.EINVAL.negative();
            }
            DmaDirection dir = switch ((int) (flags & DmaBufCore.DMA_BUF_SYNC_RW)) {
                case 1 -> DmaDirection.FROM_DEVICE;
                case 2 -> DmaDirection.TO_DEVICE;
                case 3 -> DmaDirection.BIDIRECTIONAL;
                default -> null;
            };
            if (dir == null) {
                return Errno.EINVAL.negative();
            }
            return (flags & DmaBufCore.DMA_BUF_SYNC_END) != 0 ? core.endCpuAccess(b, dir)
                    : core.beginCpuAccess(b, dir);
        }
        if (cmd == DmaBufCore.DMA_BUF_SET_NAME) {
            if (!(arg instanceof String name)) {
                return Errno.EFAULT.negative();
            }
            // strndup_user(name, DMA_BUF_NAME_LEN): the name and its NUL must fit 32 bytes, else -EINVAL
            if (name.getBytes(StandardCharsets.UTF_8).length >= DmaBufCore.NAME_LEN) {
                return Errno.EINVAL.negative();
            }
            DmaBufCoreImpl.impl(b).name = name;
            return 0;
        }
        return Errno.ENOTTY.negative();
    }

    @Override
    public int install(Object file) {
        if (file == null) {
            return Errno.EINVAL.negative();
        }
        int fd = next.getAndIncrement();
        files.put(fd, file);
        return fd;
    }

    @Override
    public int count() {
        return files.size();
    }
}
