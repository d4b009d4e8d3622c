package org.peerdma.xen.gntdev;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Sharing a buffer with one grant ref (xen-front-pgdir-shbuf.c): the frontend grants its directory
 * pages first, then the data pages, and fills the directory; the backend maps the directory chain
 * from the first ref and reads the data refs out of it.
 */
@ProviderType
public interface PageDirectory {
    /**
     * share - grant {@code dataGfns} (this domain's pages) to {@code domid} behind a page directory.
     * Errors: EINVAL for no pages; ENOMEM when the domain has no pages for the directory; ENOSPC
     * when grant refs run out (nothing stays granted).
     */
    Shared share(int domid, long[] dataGfns, boolean readonly);

    /**
     * read - the backend's walk: the {@code count} data refs behind directory ref {@code firstRef}
     * of domain {@code domid}. Errors: EINVAL for count &lt; 1 or a chain that ends early, loops or
     * names ref 0 for a data page; EIO with the GNTST status when a directory page does not map.
     */
    int[] read(int domid, int firstRef, long count);

    /** What the frontend shared. */
    interface Shared extends AutoCloseable {
        /** @return the ref of the first directory page (gref_directory): the one ref to hand over. */
        int firstRef();

        /** @return every ref granted: directory pages first, then data pages. */
        int[] refs();

        /** @return the gfns of the directory pages. */
        long[] dirGfns();

        /**
         * close - end foreign access to every ref (deferred while the backend still maps them)
         * and free the directory pages once their refs are ended.
         */
        @Override
        void close();
    }
}
