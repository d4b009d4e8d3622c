package org.peerdma.hyperdmabuf;

import org.osgi.annotation.versioning.ProviderType;

/** An open /dev/hyper_dmabuf. */
@ProviderType
public interface HyperDmabufFile extends AutoCloseable {
    /** TX_CH_SETUP: the channel this domain sends on to {@code remote}. Return: 0 or -errno (-EINVAL for itself). */
    int txChSetup(int remote);

    /** RX_CH_SETUP: the channel {@code source} sends on to this domain. Return: 0 or -errno. */
    int rxChSetup(int source);

    /**
     * @param ret 0 or -errno
     * @param hid the buffer's id (INVALID on error)
     */
    record Export(int ret, HyperDmabufId hid) {
    }

    /**
     * exportRemote - EXPORT_REMOTE of the dma-buf {@code fd} to {@code remote} with private data
     * (truncated to 192 bytes). Re-exporting a valid buffer to the same domain keeps its id and
     * only sends the new private data. Return codes: -EINVAL for this domain or no channel, a bad
     * fd's error, -ENOMEM when ids run out, the backend's errors (-ENOSPC), -EBUSY when the update
     * cannot be sent.
     */
    Export exportRemote(int fd, int remote, byte[] priv);

    /**
     * exportFd - EXPORT_FD: a local dma-buf over the exporter's pages (mapped on first use).
     * Return: the fd; -ENOENT when the id (with its key) was never imported here; -EINVAL when the
     * exporter refuses (unexported, unknown) or the pages do not map; the send error.
     */
    int exportFd(HyperDmabufId hid, int flags);

    /**
     * unexport - UNEXPORT after {@code delayMs}: the buffer becomes invalid, importers are told, and
     * it is cleaned up when the last remote user is gone. Return: 0; -ENOENT for an unknown id.
     */
    int unexport(HyperDmabufId hid, int delayMs);

    /** query - QUERY of one item; PRIV_INFO copies into {@code privOut}. Return: the value or -errno (-EINVAL, -ENOENT). */
    long query(HyperDmabufId hid, int item, byte[] privOut);

    /** close - release the file: everything exported through it is unexported at once. */
    @Override
    void close();
}
