package org.peerdma.mm;

import java.util.ArrayList;
import java.util.List;

/**
 * struct dev_pagemap as the driver fills it before memremap_pages(): type, ranges, ops, owner.
 * After a successful memremap the ZoneDevice service owns its state; do not change the fields.
 */
public final class DevPagemap {
    public static final int PGMAP_ALTMAP_VALID = 1;

    public MemoryType type;
    public final List<Range> ranges = new ArrayList<>();
    public PagemapOps ops;
    /** The owner cookie (struct dev_pagemap.owner): who may use DEVICE_PRIVATE pages directly. */
    public Object owner;
    public int flags;
    /** A name for diagnostics, e.g. "0000:06:00.0 BAR 2". */
    public String name = "pgmap";

    @Override
    public String toString() {
        return name + " " + type + " " + ranges;
    }
}
