package org.peerdma.mm.vm.internal;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.dma.PhysMemory;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.vm.Mm;
import org.peerdma.mm.vm.MmProcesses;
import org.peerdma.mm.vm.Vm;
import org.peerdma.mm.vm.VmFile;

/** Processes and shmem files of this kernel, their pages from the RAM map. */
@Component(service = MmProcesses.class)
public class ProcessesImpl implements MmProcesses {
    @Reference
    PhysMemory ram;

    @Reference
    org.peerdma.mm.ZoneDevice zone;

    /** The shared zero page (empty_zero_page): private anonymous read faults map it read-only. */
    private PhysMemory.PhysRegion zeroPage;
    private HugetlbPool hugetlb;
    private final java.util.Set<MmImpl> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("hmm");

    public ProcessesImpl() {
    }

    /** For tests outside OSGi. */
    public ProcessesImpl(PhysMemory ram) {
        this.ram = ram;
        activate();
    }

    /** For tests outside OSGi, with ZONE_DEVICE memory. */
    public ProcessesImpl(PhysMemory ram, org.peerdma.mm.ZoneDevice zone) {
        this.ram = ram;
        this.zone = zone;
        activate();
    }

    @Activate
    public synchronized void activate() {
        zeroPage = ram.allocate("zero page", Vm.PAGE_SIZE, Vm.PAGE_SIZE);
        hugetlb = new HugetlbPool(ram);
    }

    /** The kernel goes: the zero page returns to the RAM map (address spaces must be gone by now). */
    @Deactivate
    public synchronized void deactivate() {
        for (MmImpl m : java.util.List.copyOf(live)) {
            if (m.kill()) {
                LOG.warn("hmm unloading: process {} still had users; its address space is torn down", m.name());
            }
        }
        if (zeroPage != null) {
            zeroPage.close();
            zeroPage = null;
            hugetlb.destroy();
        }
    }

    @Override
    public synchronized Mm create(String name) {
        if (zeroPage == null) {
            throw new IllegalStateException("the process table is gone (module unloaded)");
        }
        return new MmImpl(name, ram, zone, new MmImpl.ZeroPage(zeroPage.phys() >>> Vm.PAGE_SHIFT,
                zeroPage.memory().asReadOnlyBuffer()), hugetlb, live);
    }

    @Override
    public java.util.List<Mm> processes() {
        return java.util.List.copyOf(live);
    }

    @Override
    public synchronized int setNrHugepages(int n) {
        return hugetlb.resize(n);
    }

    @Override
    public synchronized Hugepages hugepages() {
        return new Hugepages(hugetlb.total(), hugetlb.freePages(), hugetlb.reserved());
    }

    @Override
    public VmFile file(String name, long size) {
        if (size <= 0) {
            throw KernelException.einval("file %s of %d bytes", name, size);
        }
        return new FileImpl(name, size);
    }

    private final class FileImpl implements VmFile {
        final String name;
        final long size;
        final Map<Long, PhysMemory.PhysRegion> pages = new ConcurrentHashMap<>();

        FileImpl(String name, long size) {
            this.name = name;
            this.size = size;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long size() {
            return size;
        }

        private PhysMemory.PhysRegion region(long index) {
            if (index < 0 || index * Vm.PAGE_SIZE >= size) {
                throw KernelException.einval("page %d is past the end of %s", index, name);
            }
            return pages.computeIfAbsent(index, i -> ram.allocate("shmem " + name, Vm.PAGE_SIZE, Vm.PAGE_SIZE));
        }

        @Override
        public ByteBuffer page(long index) {
            return region(index).memory();
        }

        @Override
        public long pfn(long index) {
            return region(index).phys() >>> Vm.PAGE_SHIFT;
        }

        @Override
        public void release() {
            pages.values().forEach(PhysMemory.PhysRegion::close);
            pages.clear();
        }
    }
}
