package org.peerdma.xen.hv;

import java.nio.ByteBuffer;
import java.util.function.IntConsumer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * An inter-VM shared-memory device as a domain sees it (the shape of QEMU's ivshmem-doorbell): a
 * region of real memory that is not any domain's RAM, mapped whole into every domain attached to
 * it, plus doorbells between peers (a peer's id is its domid). Nothing here is granted page by
 * page: whoever is attached reads and writes all of it, which is why it is configured per
 * domain by the toolstack, not by the guests.
 */
@ProviderType
public interface ShmemRegion {
    String name();

    /** @return the whole region (a view of its memory, position 0). */
    ByteBuffer memory();

    long size();

    /** @return this domain's peer id. */
    int peerId();

    /**
     * doorbell - ring {@code peer}'s doorbell: its handler runs on its event thread. Return: 0, or
     * -ESRCH when the peer is not attached (or gone).
     */
    int doorbell(int peer);

    /** handler - what runs when this domain's doorbell rings (argument: the ringing peer). */
    void handler(IntConsumer onRing);

    /** peerGone - what runs when an attached peer disconnects (its domain died or detached). */
    void onPeerGone(IntConsumer gone);

    /** @return the peers attached now, this one included. */
    java.util.List<Integer> peers();

    /** detach - leave the region (peers are told). */
    void detach();
}
