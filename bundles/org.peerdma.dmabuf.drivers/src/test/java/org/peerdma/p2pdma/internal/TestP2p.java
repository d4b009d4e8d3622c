package org.peerdma.p2pdma.internal;

import java.lang.annotation.Annotation;

import org.peerdma.dma.DmaApi;
import org.peerdma.mm.internal.TestZone;
import org.peerdma.pci.PciCore;

/** p2pdma wired by hand for tests outside OSGi (newest rules). */
public final class TestP2p {
    private TestP2p() {
    }

    public static P2pdmaImpl p2pdma(PciCore core, DmaApi dma) {
        P2pdmaImpl p = new P2pdmaImpl();
        p.core = core;
        p.zone = TestZone.zone();
        p.dmaApi = dma;
        p.configure(new P2pdmaConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return P2pdmaConfig.class;
            }

            @Override
            public String kernel__version() {
                return "newest";
            }

            @Override
            public int release__wait__ms() {
                return 200;
            }
        });
        return p;
    }
}
