package org.peerdma.dmabuf.core;


import org.osgi.annotation.versioning.ProviderType;

/** A process's file descriptors for dma-bufs and the syscalls on them. */
@ProviderType
public interface FdTable {
    /** dma_buf_fd(buf, flags): a new fd holding one reference. Return: the fd, or -EINVAL for null. */
    int fd(DmaBuf buf, int flags);

    /** dma_buf_get(fd): a new reference. Errors: EBADF for a bad fd, EINVAL for a non-dma-buf file. */
    DmaBuf get(int fd);

    /** close(fd). Return: 0 or -EBADF. */
    int close(int fd);

    /** llseek: offset 0 with SEEK_END (the size) or SEEK_SET (0); else -EINVAL; a bad fd -EBADF. */
    long llseek(int fd, long offset, int whence);

    /**
     * mmap of the fd (MAP_SHARED when {@code shared}): EINVAL without ops.mmap or past the end
     * (pgoff + pages &gt; size pages), then the exporter's own checks.
     */
    BufMap mmap(int fd, long pgoff, long length, boolean shared);

    /** mmap with MAP_SHARED. */
    default BufMap mmap(int fd, long pgoff, long length) {
        return mmap(fd, pgoff, length, true);
    }

    /** ioctl: DMA_BUF_IOCTL_SYNC (arg Long flags), DMA_BUF_SET_NAME (arg String); others -ENOTTY. */
    int ioctl(int fd, long cmd, Object arg);

    /** install - put any open file (a memfd, ...) in the table. Return: its fd. */
    int install(Object file);

    /** file - the open file behind {@code fd}, or null. */
    Object file(int fd);

    /** Opens a non-dma-buf file (for the EINVAL case of dma_buf_get). Return: its fd. */
    default int openOther(String what) {
        return install(what);
    }

    /** @return the open fds. */
    int count();
}
