/**
 * Process address spaces (mm_struct, vm_area_struct, page tables, the CPU fault path, mmap/munmap/
 * mprotect), mmu interval notifiers (mm/mmu_notifier.c) and hmm_range_fault (mm/hmm.c).
 */
@Export
@Version("1.2.0")
package org.peerdma.mm.vm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
