package org.peerdma.dma.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.component.annotations.Component;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.dma.PhysMemory;

/**
 * The RAM map: a first-fit allocator over [RAM_START, RAM_END) and the memory of each region.
 * One lock guards the map; reads and writes copy under it only the region look-up, not the bytes.
 */
@Component(service = PhysMemory.class)
public class PhysMemoryImpl implements PhysMemory {
    private final TreeMap<Long, Region> map = new TreeMap<>();
    private final Map<ByteBuffer, Region> adopted = new IdentityHashMap<>();
    private long used;

    final class Region implements PhysRegion {
        final long phys;
        final long size;
        final String owner;
        final ByteBuffer mem;
        /** Adopted buffers: holders; allocated regions: 1. Guarded by the map's lock. */
        int holders = 1;
        final ByteBuffer adoptedKey;

        Region(long phys, long size, String owner, ByteBuffer mem, ByteBuffer adoptedKey) {
            this.phys = phys;
            this.size = size;
            this.owner = owner;
            this.mem = mem;
            this.adoptedKey = adoptedKey;
        }

        @Override
        public long phys() {
            return phys;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public String owner() {
            return owner;
        }

        @Override
        public ByteBuffer memory() {
            return mem.duplicate().clear();
        }

        @Override
        public boolean isLive() {
            synchronized (map) {
                return holders > 0;
            }
        }

        @Override
        public void close() {
            synchronized (map) {
                if (holders <= 0) {
                    throw KernelException.einval("physical range %#x+%#x (%s) was already released", phys, size, owner);
                }
                if (--holders == 0) {
                    map.remove(phys);
                    if (adoptedKey != null) {
                        adopted.remove(adoptedKey);
                    }
                    used -= size;
                }
            }
        }

        @Override
        public String toString() {
            return String.format("%#012x-%#012x %s", phys, phys + size - 1, owner);
        }
    }

    @Override
    public PhysRegion allocate(String owner, long size, long align) {
        if (size <= 0 || size > Integer.MAX_VALUE) {
            throw KernelException.einval("RAM allocation of %d bytes for %s: must be 1 byte to 2 GiB", size, owner);
        }
        if (align < PAGE_SIZE || Long.bitCount(align) != 1) {
            throw KernelException.einval("alignment %#x for %s: must be a power of two of at least a page", align,
                    owner);
        }
        ByteBuffer mem;
        try {
            mem = ByteBuffer.allocateDirect((int) size);
        } catch (OutOfMemoryError e) {
            throw new KernelException(Errno.ENOMEM, "out of memory: " + size + " bytes for " + owner);
        }
        return insert(owner, size, align, mem, null);
    }

    @Override
    public PhysRegion adopt(String owner, ByteBuffer memory) {
        if (memory == null || memory.capacity() == 0) {
            throw KernelException.einval("no memory to give a physical address (%s)", owner);
        }
        synchronized (map) {
            Region r = adopted.get(memory);
            if (r != null) {
                r.holders++;
                return r;
            }
            return insert(owner, memory.capacity(), PAGE_SIZE, memory, memory);
        }
    }

    @Override
    public PhysRegion claim(String owner, long phys, ByteBuffer memory) {
        if (memory == null || memory.capacity() == 0) {
            throw KernelException.einval("no memory to place at %#x (%s)", phys, owner);
        }
        if (phys < 0 || (phys & (PAGE_SIZE - 1)) != 0) {
            throw KernelException.einval("physical address %#x for %s is not page aligned", phys, owner);
        }
        long size = memory.capacity();
        synchronized (map) {
            Map.Entry<Long, Region> below = map.floorEntry(phys + size - 1);
            if (below != null && below.getKey() + below.getValue().size > phys) {
                Region r = below.getValue();
                throw new KernelException(Errno.EBUSY, String.format("%#x+%#x for %s overlaps %s", phys, size, owner, r));
            }
            Region r = new Region(phys, size, owner, memory, null);
            map.put(phys, r);
            used += size;
            return r;
        }
    }

    private Region insert(String owner, long size, long align, ByteBuffer mem, ByteBuffer key) {
        long span = (size + PAGE_SIZE - 1) & -PAGE_SIZE;
        synchronized (map) {
            long cand = align(RAM_START, align);
            for (Region r : map.values()) {
                long rEnd = r.phys + ((r.size + PAGE_SIZE - 1) & -PAGE_SIZE);
                if (rEnd <= cand) {
                    continue;
                }
                if (cand + span <= r.phys) {
                    break;
                }
                cand = align(rEnd, align);
            }
            if (cand + span > RAM_END) {
                throw new KernelException(Errno.ENOMEM, String.format(
                        "no free physical range of %#x bytes for %s (%#x of RAM in use)", span, owner, used));
            }
            Region r = new Region(cand, size, owner, mem, key);
            map.put(cand, r);
            if (key != null) {
                adopted.put(key, r);
            }
            used += size;
            return r;
        }
    }

    private static long align(long v, long a) {
        return (v + a - 1) & -a;
    }

    @Override
    public void read(long phys, ByteBuffer dst) {
        transfer(phys, dst, false);
    }

    @Override
    public void write(long phys, ByteBuffer src) {
        transfer(phys, src, true);
    }

    /** Resolve every piece first (all-or-nothing), then move the bytes. */
    private void transfer(long phys, ByteBuffer buf, boolean write) {
        int n = buf.remaining();
        List<ByteBuffer> pieces = new ArrayList<>();
        synchronized (map) {
            long at = phys;
            long end = phys + n;
            while (at < end) {
                Map.Entry<Long, Region> e = map.floorEntry(at);
                Region r = e == null ? null : e.getValue();
                if (r == null || at - r.phys >= r.size) {
                    throw new KernelException(Errno.EFAULT, String.format("no RAM at physical address %#x (%s of %d bytes at %#x)",
                            at, write ? "write" : "read", n, phys));
                }
                int off = (int) (at - r.phys);
                int k = (int) Math.min(end - at, r.size - off);
                pieces.add(r.mem.duplicate().clear().position(off).limit(off + k));
                at += k;
            }
        }
        for (ByteBuffer p : pieces) {
            int k = p.remaining();
            if (write) {
                p.put(buf.slice().limit(k));
                buf.position(buf.position() + k);
            } else {
                buf.put(p);
            }
        }
    }

    @Override
    public String ownerOf(long phys) {
        synchronized (map) {
            Map.Entry<Long, Region> e = map.floorEntry(phys);
            return e != null && phys - e.getKey() < e.getValue().size ? e.getValue().owner : null;
        }
    }

    @Override
    public List<PhysRegion> regions() {
        synchronized (map) {
            return List.copyOf(map.values());
        }
    }

    @Override
    public long used() {
        synchronized (map) {
            return used;
        }
    }
}
