/**
 * ZONE_DEVICE memory (include/linux/memremap.h, mm/memremap.c): device memory given struct pages
 * through a dev_pagemap, with per-page reference counts and a teardown that waits for them.
 * Page contents are real off-heap memory, allocated a page at a time on first use.
 */
@Export
@Version("1.2.0")
package org.peerdma.mm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
