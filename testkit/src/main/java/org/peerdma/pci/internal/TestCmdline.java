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

    /** core - a core booted with these pci= options, IOMMU state (on, pt, off) and kernel release ("" newest). */
    public static PciCoreImpl core(String pci, String iommu, String release) {
        PciCoreImpl c = new PciCoreImpl();
        c.activate(of(pci, iommu, release));
        return c;
    }

    static PciCmdlineConfig of(String pci) {
        return of(pci, "off", "");
    }

    static PciCmdlineConfig of(String pci, String iommu, String release) {
        return new PciCmdlineConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return PciCmdlineConfig.class;
            }

            @Override
            public String pci() {
                return pci;
            }

            @Override
            public String iommu() {
                return iommu;
            }

            @Override
            public String release() {
                return release;
            }
        };
    }
}
