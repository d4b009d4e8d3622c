package org.peerdma.pci.internal;

import java.lang.annotation.Annotation;

/** pci= options for a PciCoreImpl built outside OSGi. */
public final class TestCmdline {
    private TestCmdline() {
    }

    /** core - a core booted with these pci= options. */
    public static PciCoreImpl core(String pci) {
        PciCoreImpl c = new PciCoreImpl();
        c.activate(of(pci));
        return c;
    }

    /** addNotifier - what DS does for a PciBusNotifier service. */
    public static void addNotifier(PciCoreImpl c, org.peerdma.pci.PciBusNotifier n) {
        c.addNotifier(n, java.util.Map.of());
    }

    static PciCmdlineConfig of(String pci) {
        return new PciCmdlineConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return PciCmdlineConfig.class;
            }

            @Override
            public String pci() {
                return pci;
            }
        };
    }
}
