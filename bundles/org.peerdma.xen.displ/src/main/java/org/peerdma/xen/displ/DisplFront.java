package org.peerdma.xen.displ;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The frontend: one connector with one RGBA8888 framebuffer. Its xenstore directory
 * /local/domain/ID/device/vdispl/0 holds backend-id, width, height, bpp, buffer-size,
 * gref-directory, evtchn, frame and state (XenbusState: 3 initialised, 4 connected, 6 closed).
 */
@ProviderType
public interface DisplFront {
    String DIR = "device/vdispl/0";

    /**
     * connect - allocate the framebuffer (a dumb buffer of this domain's pages), share it through a
     * page directory with {@code backendDomid}, offer an event channel, publish it all. Errors:
     * EINVAL for a bad size, EBUSY when already connected, ENOMEM/ENOSPC as the allocations.
     */
    void connect(int backendDomid, int width, int height);

    /**
     * render - draw frame {@code n} (a test pattern that moves with n and shows it) straight into
     * the shared pages, publish the frame number and notify the backend. Errors: ENOTCONN-like
     * EINVAL when not connected.
     */
    void render(int n);

    /** @return frames rendered since connect. */
    int frames();

    /** disconnect - state closed, end the share (deferred while the backend maps it), free the buffer. */
    void disconnect();

    boolean connected();
}
