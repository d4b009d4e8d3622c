package org.peerdma.dmaheap.internal;

import java.lang.annotation.Annotation;

import org.peerdma.dma.PhysMemory;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmaheap.DmaHeaps;

/** The dma-buf heaps built outside OSGi for the shell's tests (in the heaps' package for its configuration). */
public final class ShellTestHeaps {
    private ShellTestHeaps() {
    }

    public static DmaHeaps heaps(DmaBufCore core, PhysMemory ram, org.peerdma.dma.DmaApi dma, int cmaMb, int totalramMb) {
        DmaHeapsImpl h = new DmaHeapsImpl();
        h.dmabuf = core;
        h.ram = ram;
        h.dma = dma;
        h.activate(new HeapConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return HeapConfig.class;
            }

            @Override
            public int cma__mb() {
                return cmaMb;
            }

            @Override
            public String cma__name() {
                return "reserved";
            }

            @Override
            public int totalram__mb() {
                return totalramMb;
            }
        });
        return h;
    }
}
