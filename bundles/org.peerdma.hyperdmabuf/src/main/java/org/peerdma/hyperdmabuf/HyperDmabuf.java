package org.peerdma.hyperdmabuf;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.peerdma.dmabuf.core.FdTable;

/**
 * /dev/hyper_dmabuf of this domain: the same driver exports and imports. Results are the ioctls':
 * 0 or a positive value, or -errno.
 */
@ProviderType
public interface HyperDmabuf {
    int MAX_SIZE_PRIV_DATA = 192;
    int HYPER_DMABUF_ID_MAX = 1000;
    int MAX_DEPTH_EVENT_QUEUE = 32;
    int HYPER_DMABUF_NEW_IMPORT = 0x10000;

    // query items (enum from 0x10)
    int QUERY_TYPE = 0x10;
    int QUERY_EXPORTER = 0x11;
    int QUERY_IMPORTER = 0x12;
    int QUERY_SIZE = 0x13;
    int QUERY_BUSY = 0x14;
    int QUERY_UNEXPORTED = 0x15;
    int QUERY_DELAYED_UNEXPORTED = 0x16;
    int QUERY_PRIV_INFO_SIZE = 0x17;
    int QUERY_PRIV_INFO = 0x18;
    int EXPORTED = 1;
    int IMPORTED = 2;

    /** @return this domain's id. */
    int domid();

    /** open - the device for a process; closing it force-unexports what was exported through it. */
    HyperDmabufFile open(FdTable proc);

    /** @return the name of the backend in use (e.g. "xen", "ivshmem"). */
    String backend();

    /**
     * useBackend - switch the hypervisor backend (by its service name, e.g. "xen", "ivshmem").
     * Return: 0; -ENOENT for no such backend; -EBUSY while any buffer is exported or imported
     * (nothing migrates between backends: unexport and release first).
     */
    int useBackend(String name);

    /** @return the backends available, by name. */
    java.util.Set<String> backendNames();

    /** @return one line: backend and its channels, ids exported (to whom, users) and imported. */
    String status();

    /** One NEW_IMPORT event: its header and the private data. */
    record Event(int type, HyperDmabufId hid, byte[] priv) {
        /** @return the event's size as read(2) returns it: header (type, hid, size: 6 ints) + priv. */
        public int bytes() {
            return 24 + priv.length;
        }
    }

    /** @return whether events are queued (poll: POLLIN|POLLRDNORM). */
    boolean poll();

    /**
     * readEvents - read(2) on the device: whole events that fit in {@code bufferBytes}; an event that
     * does not fit is put back (so 0 events come back for a buffer smaller than one). Blocks up to
     * {@code waitMs} when empty (0: O_NONBLOCK, then an empty result). Errors: EPERM without
     * {@code privileged} (CAP_DAC_OVERRIDE).
     */
    List<Event> readEvents(int bufferBytes, long waitMs, boolean privileged);
}
