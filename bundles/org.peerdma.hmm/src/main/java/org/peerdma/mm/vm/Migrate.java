package org.peerdma.mm.vm;

/**
 * struct migrate_vma and its flags (include/linux/migrate.h): a driver fills vma, start, end,
 * src, dst, pgmapOwner and flags, calls {@link Mm#migrateSetup}, fills dst for the pages it takes
 * (after copying), then {@link Mm#migratePages} and {@link Mm#migrateFinalize}.
 */
public final class Migrate {
    public static final long MIGRATE_PFN_VALID = 1L << 0;
    public static final long MIGRATE_PFN_MIGRATE = 1L << 1;
    public static final long MIGRATE_PFN_WRITE = 1L << 3;
    public static final int MIGRATE_PFN_SHIFT = 6;
    public static final int SELECT_SYSTEM = 1 << 0;
    public static final int SELECT_DEVICE_PRIVATE = 1 << 1;
    public static final int SELECT_DEVICE_COHERENT = 1 << 2;

    public Vma vma;
    public long start;
    public long end;
    public long[] src;
    public long[] dst;
    public Object pgmapOwner;
    public int flags;
    /** The device-private page whose CPU fault asked for this migration (migrate_to_ram), or null. */
    public Object faultPage;
    /** Pages collected by setup. */
    public long cpages;

    /** migrate_pfn(pfn): (pfn &lt;&lt; 6) | VALID. */
    public static long migratePfn(long pfn) {
        return (pfn << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID;
    }

    /** migrate_pfn_to_pfn. */
    public static long pfn(long mpfn) {
        return mpfn >>> MIGRATE_PFN_SHIFT;
    }
}
