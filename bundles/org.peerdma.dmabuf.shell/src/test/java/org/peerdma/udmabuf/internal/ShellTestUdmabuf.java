package org.peerdma.udmabuf.internal;

import java.lang.annotation.Annotation;

import org.peerdma.dma.PhysMemory;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.udmabuf.Udmabuf;

/** /dev/udmabuf built outside OSGi for the shell's tests (in udmabuf's package for its configuration). */
public final class ShellTestUdmabuf {
    private ShellTestUdmabuf() {
    }

    public static Udmabuf udmabuf(DmaBufCore core, PhysMemory ram, org.peerdma.dma.DmaApi dma, int listLimit,
            int sizeLimitMb) {
        UdmabufImpl u = new UdmabufImpl();
        u.dmabuf = core;
        u.ram = ram;
        u.dma = dma;
        u.configure(new UdmabufConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return UdmabufConfig.class;
            }

            @Override
            public int list__limit() {
                return listLimit;
            }

            @Override
            public int size__limit__mb() {
                return sizeLimitMb;
            }
        });
        return u;
    }
}
