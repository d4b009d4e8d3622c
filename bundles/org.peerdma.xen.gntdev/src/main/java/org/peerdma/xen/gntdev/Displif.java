package org.peerdma.xen.gntdev;

import org.peerdma.errno.KernelException;

/**
 * The displif page directory arithmetic (include/xen/interface/io/displif.h,
 * drivers/xen/xen-front-pgdir-shbuf.c): each directory page is
 * {@code struct xendispl_page_directory { grant_ref_t gref_dir_next_page; grant_ref_t gref[]; }},
 * so it holds {@value #GREFS_PER_PAGE} refs after the next-page link, and 0 ends the chain.
 * Errors: EINVAL (KernelException) for a size, page count or index out of range.
 */
public final class Displif {
    public static final int PAGE_SIZE = 4096;
    /** (PAGE_SIZE - sizeof(gref_dir_next_page)) / sizeof(grant_ref_t). */
    public static final int GREFS_PER_PAGE = (PAGE_SIZE - 4) / 4;

    private Displif() {
    }

    /** @return num_grefs_total for a buffer: ceil(size / XEN_PAGE_SIZE). */
    public static long dataPages(long bufferSize) {
        if (bufferSize <= 0) {
            throw KernelException.einval("buffer size %d: not a positive number of bytes", bufferSize);
        }
        return (bufferSize - 1) / PAGE_SIZE + 1;
    }

    /** @return directory pages for {@code pages} data pages: ceil(pages / 1023). */
    public static long dirPages(long pages) {
        if (pages <= 0) {
            throw KernelException.einval("%d data pages: not a positive number", pages);
        }
        return (pages - 1) / GREFS_PER_PAGE + 1;
    }

    /** @return refs the guest grants when it allocates: directory pages first, then the data pages. */
    public static long numGrefs(long pages) {
        return dirPages(pages) + pages;
    }

    /** @return the byte offset of gref[i] in a directory page (i*4 + 4). */
    public static int grefOffset(int i) {
        if (i < 0 || i >= GREFS_PER_PAGE) {
            throw KernelException.einval("gref index %d (0..%d)", i, GREFS_PER_PAGE - 1);
        }
        return i * 4 + 4;
    }
}
