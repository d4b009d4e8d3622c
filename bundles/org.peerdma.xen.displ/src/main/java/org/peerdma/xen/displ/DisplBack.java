package org.peerdma.xen.displ;

import java.nio.file.Path;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The backend in dom0: per frontend domain, the framebuffer imported with gntdev (EXP_FROM_REFS on
 * the refs read from the page directory: the frontend's own pages, no copy) and the frames it was
 * told about. When the frontend's domain dies the display is lost: its buffer is released and
 * reads are refused instead of touching memory that is no longer the guest's.
 */
@ProviderType
public interface DisplBack {
    /** One frontend as the backend sees it. */
    record Status(int domid, int width, int height, int frame, int events, boolean lost, String why) {
    }

    /**
     * attach - read the frontend's entries, walk its page directory, export the buffer, bind its
     * event channel. Errors: ENOENT when the frontend has not published a display, EBUSY when
     * already attached, EINVAL for inconsistent entries, EIO when its grants do not map.
     */
    Status attach(int frontDomid);

    /** @return the frontend's status. Errors: ENOENT when not attached. */
    Status status(int frontDomid);

    List<Status> list();

    /**
     * frame - the current frame's pixels as ARGB ints (read from the shared pages now).
     * Errors: ENOENT; ENODEV when the display was lost.
     */
    int[] pixels(int frontDomid);

    /** writePng - the current frame as a PNG file. Errors as pixels; EIO when the file cannot be written. */
    void writePng(int frontDomid, Path file);

    /** detach - release the buffer and the channel. Errors: ENOENT. */
    void detach(int frontDomid);
}
