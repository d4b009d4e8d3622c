package org.peerdma.mm.vm.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

import org.peerdma.dma.PhysMemory;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.vm.Vm;

/**
 * The hugetlb pool of 2 MiB pages (mm/hugetlb.c, one hstate): vm.nr_hugepages allocates them from
 * the RAM map up front; mmap(MAP_HUGETLB) reserves, a fault consumes a reservation, an unmapped page
 * returns to the pool (not to the RAM map). HugePages_Total / Free / Rsvd are /proc/meminfo's.
 */
final class HugetlbPool {
    private final PhysMemory ram;
    private final Deque<PhysMemory.PhysRegion> free = new ArrayDeque<>();
    private final Set<PhysMemory.PhysRegion> inUse = new HashSet<>();
    private long reserved;

    HugetlbPool(PhysMemory ram) {
        this.ram = ram;
    }

    /**
     * resize - write nr_hugepages: grow by allocating (stops early when RAM runs out), shrink by
     * freeing free unreserved pages only. Return: the pool's size now.
     */
    synchronized int resize(int n) {
        if (n < 0) {
            throw KernelException.einval("nr_hugepages %d", n);
        }
        while (total() < n) {
            try {
                free.push(ram.allocate("hugetlb", Vm.PMD_SIZE, Vm.PMD_SIZE));
            } catch (KernelException e) {
                break; // as many as could be had
            }
        }
        while (total() > n && free.size() > reserved) {
            free.pop().close();
        }
        return total();
    }

    synchronized int total() {
        return free.size() + inUse.size();
    }

    synchronized int freePages() {
        return free.size();
    }

    synchronized long reserved() {
        return reserved;
    }

    /** hugetlb_reserve_pages: false (-ENOMEM for mmap) when the free pages cannot cover n more. */
    synchronized boolean reserve(long n) {
        if (free.size() - reserved < n) {
            return false;
        }
        reserved += n;
        return true;
    }

    synchronized void unreserve(long n) {
        reserved -= n;
    }

    /** A zeroed huge page: from a reservation, or (for a copy-on-write after fork) a free unreserved one; else null. */
    synchronized PhysMemory.PhysRegion alloc(boolean fromReservation) {
        if (fromReservation) {
            reserved--;
        } else if (free.size() - reserved <= 0) {
            return null;
        }
        PhysMemory.PhysRegion r = free.pop();
        inUse.add(r);
        java.nio.ByteBuffer m = r.memory();
        for (int i = 0; i < m.capacity(); i += 8) {
            m.putLong(i, 0);
        }
        return r;
    }

    /** free_huge_folio: back to the pool. */
    synchronized void release(PhysMemory.PhysRegion r) {
        if (inUse.remove(r)) {
            free.push(r);
        }
    }

    /** The kernel goes: every page back to the RAM map. */
    synchronized void destroy() {
        free.forEach(PhysMemory.PhysRegion::close);
        inUse.forEach(PhysMemory.PhysRegion::close);
        free.clear();
        inUse.clear();
        reserved = 0;
    }
}
