package org.peerdma.udmabuf;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.FdTable;

/** /dev/udmabuf. Calls return what the ioctls return: a new fd, or a negative errno. */
@ProviderType
public interface Udmabuf {
    int UDMABUF_FLAGS_CLOEXEC = 0x01;
    /** _IOW('u', 0x42, struct udmabuf_create). */
    long UDMABUF_CREATE = 0x40187542L;
    /** _IOW('u', 0x43, struct udmabuf_create_list). */
    long UDMABUF_CREATE_LIST = 0x40087543L;

    /** One struct udmabuf_create_item. */
    record Item(int memfd, long offset, long size) {
    }

    /** UDMABUF_CREATE for the process owning {@code files}. */
    int create(FdTable files, int memfd, int flags, long offset, long size);

    /** UDMABUF_CREATE_LIST. */
    int createList(FdTable files, int flags, List<Item> items);

    /**
     * ioctl on /dev/udmabuf: UDMABUF_CREATE with an {@link Item} (and flags 0), UDMABUF_CREATE_LIST
     * with a {@code List<Item>}; a wrong argument type is -EFAULT, any other command -ENOTTY.
     */
    int ioctl(FdTable files, long cmd, Object arg);
}
