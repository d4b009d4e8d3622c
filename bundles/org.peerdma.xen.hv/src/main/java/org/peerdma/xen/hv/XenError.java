package org.peerdma.xen.hv;

/**
 * An error the hypervisor reports for a call it cannot make at all (a domain id that does not
 * exist, a caller that is dying, a page outside the caller's memory), with Xen's errno.
 */
public class XenError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public XenError(int errno, String message) {
        super(message);
        this.errno = errno;
    }

    /** @return the positive errno value (the hypercall returned -errno). */
    public int errno() {
        return errno;
    }
}
