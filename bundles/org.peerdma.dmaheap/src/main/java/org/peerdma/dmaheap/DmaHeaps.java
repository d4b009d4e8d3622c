package org.peerdma.dmaheap;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.FdTable;

/** The heaps under /dev/dma_heap. Calls return what the syscalls return: an fd or a negative errno. */
@ProviderType
public interface DmaHeaps {
    /** _IOWR('H', 0x0, struct dma_heap_allocation_data). */
    long DMA_HEAP_IOCTL_ALLOC = 0xc0184800L;
    int O_RDONLY = 0;
    int O_WRONLY = 1;
    int O_RDWR = 2;
    int O_ACCMODE = 3;
    int O_CLOEXEC = 0x80000;

    /** struct dma_heap_allocation_data: fd must be 0 on input. */
    record AllocationData(long len, int fd, int fdFlags, long heapFlags) {
    }

    /** @return the heap names (ls /dev/dma_heap): "system", and the CMA area's name. */
    List<String> heaps();

    /**
     * alloc - open /dev/dma_heap/{@code heap} and DMA_HEAP_IOCTL_ALLOC. Return: the new dma-buf's fd;
     * -ENOENT for an unknown heap; -EINVAL for a non-zero fd field, fd_flags outside O_CLOEXEC|O_ACCMODE,
     * any heap_flags, or a length that is 0 after PAGE_ALIGN; -ENOMEM when the heap cannot satisfy it.
     */
    int alloc(FdTable files, String heap, AllocationData data);

    /**
     * ioctl on /dev/dma_heap/{@code heap}. As dma_heap_ioctl, only _IOC_NR is looked at: nr 0 is ALLOC
     * with an {@link AllocationData} (anything else -EFAULT), a larger nr -EINVAL.
     */
    int ioctl(FdTable files, String heap, long cmd, Object arg);

    /** @return bytes of the contiguous heap in use, and its size. */
    long[] cmaUsage();
}
