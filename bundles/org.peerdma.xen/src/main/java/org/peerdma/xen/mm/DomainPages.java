package org.peerdma.xen.mm;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The domain's own pages as its kernel hands them out (alloc_pages over its pseudo-physical
 * memory): each page is a gfn whose memory is the machine frame behind it, so a page can be
 * granted to another domain by its gfn. The first {@value #RESERVED} gfns are the kernel's own
 * (never handed out).
 */
@ProviderType
public interface DomainPages {
    int RESERVED = 16;

    /**
     * alloc - {@code count} pages, zeroed, not necessarily contiguous. Return: their gfns, or
     * null (nothing taken) when fewer are free. Errors: EINVAL for a negative count.
     */
    long[] alloc(int count, String owner);

    /** free - give pages back. Errors: EINVAL for a gfn that is not allocated (double free). */
    void free(long[] gfns);

    /** @return the page's memory (4 KiB of the machine frame). Errors: EINVAL for a gfn not allocated. */
    ByteBuffer page(long gfn);

    /** @return pages free now / in use. */
    long freePages();

    long usedPages();
}
