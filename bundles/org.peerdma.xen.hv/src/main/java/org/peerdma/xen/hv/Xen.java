package org.peerdma.xen.hv;

/**
 * The public interface constants (xen/include/public/grant_table.h, event_channel.h, errno.h):
 * grant entry flags, map flags, GNTST status codes and the errno values hypercalls return.
 */
public final class Xen {
    private Xen() {
    }

    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    public static final int DOMID_SELF = 0x7ff0;
    /** The first domain id a created guest can get; dom0 is 0. */
    public static final int DOMID_FIRST_RESERVED = 0x7ff0;

    // ------------------------------------------------------------------ grant entries (v1)
    public static final int GTF_invalid = 0;
    public static final int GTF_permit_access = 1;
    public static final int GTF_accept_transfer = 2;
    public static final int GTF_transitive = 3;
    public static final int GTF_type_mask = 3;
    public static final int GTF_readonly = 1 << 2;
    public static final int GTF_reading = 1 << 3;
    public static final int GTF_writing = 1 << 4;
    /** v1 entries are 8 bytes: 512 per grant-table frame. */
    public static final int GRANT_ENTRIES_PER_FRAME = PAGE_SIZE / 8;

    // ------------------------------------------------------------------ map flags
    public static final int GNTMAP_device_map = 1 << 0;
    public static final int GNTMAP_host_map = 1 << 1;
    public static final int GNTMAP_readonly = 1 << 2;
    public static final int GNTMAP_application_map = 1 << 3;
    public static final int GNTMAP_contains_pte = 1 << 4;

    // ------------------------------------------------------------------ GNTST
    public static final int GNTST_okay = 0;
    public static final int GNTST_general_error = -1;
    public static final int GNTST_bad_domain = -2;
    public static final int GNTST_bad_gntref = -3;
    public static final int GNTST_bad_handle = -4;
    public static final int GNTST_bad_virt_addr = -5;
    public static final int GNTST_bad_dev_addr = -6;
    public static final int GNTST_no_device_space = -7;
    public static final int GNTST_permission_denied = -8;
    public static final int GNTST_bad_page = -9;
    public static final int GNTST_bad_copy_arg = -10;
    public static final int GNTST_address_too_big = -11;
    public static final int GNTST_eagain = -12;

    private static final String[] GNTST_NAMES = {"okay", "general error", "bad domain", "bad gntref", "bad handle",
        "bad virt addr", "bad dev addr", "no spare translation slot in the I/O MMU", "permission denied", "bad page",
        "copy arguments cross page boundary", "page address size too large", "operation not done; try again"};

    /** gntstName - the GNTST_ERROR_MSGS text of a status. */
    public static String gntstName(int status) {
        return status <= 0 && -status < GNTST_NAMES.length ? GNTST_NAMES[-status] : "unknown status " + status;
    }

    // ------------------------------------------------------------------ errno (Xen's public errno.h = Linux's)
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int E2BIG = 7;

    /** Event channel ports per domain with the 2-level ABI on 64-bit guests (EVTCHN_2L_NR_CHANNELS). */
    public static final int EVTCHN_NR_CHANNELS = 64 * 64;
}
