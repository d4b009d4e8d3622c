package org.peerdma.xen.hv;

import java.nio.ByteBuffer;

/**
 * The result of GNTTABOP_map_grant_ref.
 *
 * @param status GNTST_okay or a GNTST error
 * @param handle the grant handle to unmap with (valid when status is okay)
 * @param memory the granted frame as mapped: the granter's own 4 KiB (read-only for GNTMAP_readonly);
 *        null on error
 * @param message why it failed (the hypervisor's log line), empty on success
 */
public record GrantMap(int status, int handle, ByteBuffer memory, String message) {
    public boolean ok() {
        return status == Xen.GNTST_okay;
    }
}
