package org.peerdma.hyperdmabuf.spi;

import java.nio.ByteBuffer;
import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A hypervisor backend (hyper_dmabuf_bknd_ops) for one domain. Service property {@value #NAME}
 * names it; {@code service.ranking} picks among several.
 */
@ConsumerType
public interface HyperDmabufBackend {
    String NAME = "hyper_dmabuf.backend";

    /** The front end as the backend calls it. */
    interface Receiver {
        /** parse - hyper_dmabuf_msg_parse: fills stat (and ops) of the request. */
        void parse(int source, Message req);

        /**
         * peerGone - the domain {@code domid} died (crashed or destroyed): the backend has torn down
         * its channels to it; the front end cleans what it shared with or imported from it.
         */
        void peerGone(int domid);
    }

    /** @return this domain's id (get_vm_id). */
    int domid();

    /** bind - the front end's receiver (init_comm_env). */
    void bind(Receiver receiver);

    /** unbind - the front end leaves (destroy_comm): channels are torn down. */
    void unbind();

    /** initTx - init_tx_ch to {@code remote}. Return: 0 or -errno. */
    int initTx(int remote);

    /** initRx - init_rx_ch from {@code source}. Return: 0 or -errno. */
    int initRx(int source);

    /** @return whether a tx channel to {@code remote} is up. */
    boolean txReady(int remote);

    /**
     * send - send_req: deliver {@code req} to {@code remote}; with {@code wait} the call returns once
     * the remote parsed it and {@code req.stat} holds its answer. Return: 0 or -errno (-EINVAL no
     * channel, -ENOTCONN when the remote has no receive channel bound (or closed it), -ETIMEDOUT no
     * answer, -ESRCH the remote is gone).
     */
    int send(int remote, Message req, boolean wait);

    /** A share: one integer the importer needs (op7) and the means to end it. */
    interface Shared {
        int topRef();

        /** unshare - end the share; refs still mapped by the importer are ended when it unmaps. */
        void unshare();
    }

    /**
     * share - share_pages: the pages (by this domain's page frame numbers) with {@code remote}, as
     * one top-level reference. Return: the share, or null with {@link #lastError()} (-ENOSPC:
     * nothing stays shared).
     */
    Shared share(int remote, long[] pfns);

    /** The importer's view of shared pages. */
    interface Mapped {
        List<ByteBuffer> pages();

        /** unmap - unmap_shared_pages. */
        void unmap();
    }

    /** map - map_shared_pages of {@code nents} pages behind {@code topRef} of {@code source}; null on failure. */
    Mapped map(int source, int topRef, int nents);

    /** @return the error of the last call that returned null. */
    int lastError();

    /** @return what the backend holds, for diagnostics (channels, shares, mappings). */
    String status();
}
