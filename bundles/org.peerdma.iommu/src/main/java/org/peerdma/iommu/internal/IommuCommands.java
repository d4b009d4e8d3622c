package org.peerdma.iommu.internal;

import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.iommu.Iommu;
import org.peerdma.iommu.IommuGroup;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;

/** /sys/kernel/iommu_groups from the shell, and what the IOMMU does to a P2P pair's DMA. */
@Component(service = IommuCommands.class, property = {"osgi.command.scope=iommu", "osgi.command.function=groups",
    "osgi.command.function=info", "osgi.command.function=p2p", "osgi.command.function=identity"})
public class IommuCommands {
    @Reference
    PciCore core;

    @Reference
    Iommu iommu;

    @Reference
    P2pdma p2pdma;

    @Descriptor("ls /sys/kernel/iommu_groups/*/devices, with why each boundary is where it is")
    public String groups() {
        StringBuilder sb = new StringBuilder("IOMMU mode: " + iommu.mode() + "\n");
        for (IommuGroup g : iommu.groups()) {
            sb.append(String.format(Locale.ROOT, "group %d (%s): %s%n", g.id(),
                    iommu.domainType(g.members().get(0)), String.join(" ",
                            g.members().stream().map(PciDevice::name).toList())));
            sb.append("  ").append(g.reason()).append('\n');
        }
        return sb.toString().stripTrailing();
    }

    @Descriptor("a device's IOMMU group, domain type and IOVA in use")
    public String info(@Descriptor("device") String bdf) {
        PciDevice d = dev(bdf);
        IommuGroup g = iommu.group(d);
        return String.format(Locale.ROOT, "%s: IOMMU mode %s, group %d (%d members), domain %s, IOVA in use %d bytes%n"
                + "  %s", d.name(), iommu.mode(), g.id(), g.members().size(), iommu.domainType(d), iommu.iovaInUse(d),
                g.reason());
    }

    @Descriptor("put a device's group in an identity (passthrough) domain or back to translated (iommu_group/type)")
    public String identity(@Descriptor("device") String bdf, @Descriptor("true or false (also on/off, 1/0)") String on) {
        PciDevice d = dev(bdf);
        iommu.setIdentity(d, bool(on));
        return d.name() + ": domain " + iommu.domainType(d);
    }

    /** bool - a yes/no argument as typed; anything else is EINVAL (Gogo would read "maybe" as false). */
    static boolean bool(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (t) {
            case "true", "on", "1", "yes" -> true;
            case "false", "off", "0", "no" -> false;
            default -> throw KernelException.einval("'%s' is not true or false (on/off, 1/0)",
                    org.peerdma.util.Texts.clip(text));
        };
    }

    @Descriptor("what the IOMMU does to DMA from CLIENT to PROVIDER's P2P memory, beside p2pdma's verdict")
    public String p2p(@Descriptor("provider") String provider, @Descriptor("client") String client) {
        PciDevice p = dev(provider);
        PciDevice c = dev(client);
        P2pVerdict v = p2pdma.check(p, c, null);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "p2pdma: %s distance %d%n", v.mapType().kernelName(), v.distance()));
        sb.append(String.format(Locale.ROOT, "IOMMU mode %s; provider group %d (%s), client group %d (%s)%n",
                iommu.mode(), iommu.group(p).id(), iommu.domainType(p), iommu.group(c).id(), iommu.domainType(c)));
        boolean translated = Iommu.MODE_TRANSLATED.equals(iommu.mode()) && "DMA".equals(iommu.domainType(c));
        if (v.mapType() == MapType.BUS_ADDR) {
            sb.append("BUS_ADDR: the client DMAs to the provider's PCI bus address (pci_p2pdma_map_bus_segment); "
                    + "the transaction stays below the common switch and never reaches the IOMMU");
            if (iommu.group(p).id() != iommu.group(c).id()) {
                sb.append(", although the two are in different IOMMU groups");
            }
        } else if (v.mapType() == MapType.THRU_HOST_BRIDGE) {
            sb.append(translated
                    ? "THRU_HOST_BRIDGE: mapped with dma_map_sg/dma_map_resource through the client's translated "
                            + "domain: the client gets an IOVA, and the IOMMU must map it to the provider's BAR"
                    : "THRU_HOST_BRIDGE: the client's domain is identity (or there is no IOMMU): it DMAs to the BAR's "
                            + "address untranslated");
        } else {
            sb.append("NOT_SUPPORTED: p2pdma refuses the pair whatever the IOMMU does (" + v.rule() + ")");
        }
        return sb.toString();
    }

    private PciDevice dev(String bdf) {
        Bdf b = Bdf.parse(bdf);
        return core.machine().device(b).orElseThrow(() -> KernelException.enodev("no PCI device %s", b));
    }
}
