package org.peerdma.pci.internal;

import java.lang.annotation.Annotation;

/**
 * Test-only access to the real PCI core for the shell's tests: activates {@link PciCoreImpl}
 * with a pci= value, which needs this package because the configuration type is package-private.
 */
public final class ShellTestCores {
    private ShellTestCores() {
    }

    /** core - a PciCoreImpl activated with {@code pci=<pci>} and nothing loaded. */
    public static PciCoreImpl core(String pci) {
        PciCoreImpl c = new PciCoreImpl();
        c.activate(new PciCmdlineConfig() {
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
                return "off";
            }

            @Override
            public String release() {
                return "";
            }
        });
        return c;
    }
}
