package org.peerdma.dma.internal;

import java.util.Locale;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.peerdma.errno.KernelException;
import org.peerdma.dma.DmaApi;
import org.peerdma.dma.DmaDirection;
import org.peerdma.dma.DmaMapping;
import org.peerdma.dma.PhysMemory;
import org.peerdma.dma.SgEntry;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;

/** The DMA API from the shell: which ops a device uses, its mask, mapping a buffer or a peer's BAR. */
@Component(service = DmaCommands.class, property = {"osgi.command.scope=dma", "osgi.command.function=ops",
    "osgi.command.function=mask", "osgi.command.function=map", "osgi.command.function=mappings",
    "osgi.command.function=unmapall", "osgi.command.function=ram", "osgi.command.function=translate"})
public class DmaCommands {
    @Reference
    PciCore core;

    @Reference
    DmaApi dma;

    @Reference
    PhysMemory ram;

    @Descriptor("the RAM map (/proc/iomem's System RAM users): who holds which physical range")
    public String ram() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%d bytes of RAM in use%n", ram.used()));
        for (PhysMemory.PhysRegion r : ram.regions()) {
            sb.append(String.format(Locale.ROOT, "  %#012x-%#012x : %s%n", r.phys(), r.phys() + r.size() - 1, r.owner()));
        }
        return sb.toString().stripTrailing();
    }

    @Descriptor("dma_to_phys: where a DMA address a device emits lands after the root complex (IOMMU or direct)")
    public String translate(@Descriptor("device") String bdf, @Descriptor("DMA address (0x...)") String addr) {
        PciDevice d = dev(bdf);
        long dmaAddr;
        try {
            dmaAddr = Long.decode(addr);
        } catch (NumberFormatException e) {
            throw KernelException.einval("DMA address '%s' is not a number", addr);
        }
        long phys = dma.dmaToPhys(d, dmaAddr);
        String owner = ram.ownerOf(phys);
        return String.format(Locale.ROOT, "%s: dma %#x -> phys %#x via %s%s", d.name(), dmaAddr, phys, dma.opsName(d),
                owner == null ? "" : " (RAM of " + owner + ")");
    }

    @Descriptor("get_dma_ops(dev): the ops a device uses, or set the per-device override (NAME, or 'default')")
    public String ops(@Descriptor("device") String bdf, @Descriptor("ops name or 'default'") String... set) {
        PciDevice d = dev(bdf);
        if (set.length > 0) {
            dma.setOpsOverride(d, "default".equals(set[0]) ? null : set[0]);
        }
        return d.name() + ": " + dma.opsName(d) + " (available: " + String.join(", ", dma.opsNames()) + ")";
    }

    @Descriptor("show or set a device's DMA mask (bits, e.g. 32 or 64)")
    public String mask(@Descriptor("device") String bdf, @Descriptor("bits") int... bits) {
        PciDevice d = dev(bdf);
        if (bits.length > 0) {
            if (bits[0] < 1 || bits[0] > 64) {
                throw KernelException.einval("a DMA mask of %d bits", bits[0]);
            }
            dma.setMask(d, bits[0] == 64 ? -1L : (1L << bits[0]) - 1);
        }
        return String.format(Locale.ROOT, "%s: DMA mask %#x", d.name(), dma.mask(d));
    }

    @Descriptor("map a CPU physical range for a device: 'page' (memory) or 'resource' (a peer's MMIO)")
    public String map(@Descriptor("device") String bdf, @Descriptor("page or resource") String kind,
            @Descriptor("physical address (hex)") String phys, @Descriptor("bytes") long size) {
        PciDevice d = dev(bdf);
        long p;
        try {
            p = Long.parseUnsignedLong(phys.replaceFirst("^0x", ""), 16);
        } catch (NumberFormatException ex) {
            throw KernelException.einval("'%s' is not a hex address", phys);
        }
        DmaMapping m = switch (kind) {
            case "page" -> dma.mapPage(d, p, size, DmaDirection.BIDIRECTIONAL);
            case "resource" -> dma.mapResource(d, p, size, DmaDirection.BIDIRECTIONAL);
            default -> throw KernelException.einval("map kind '%s' is not page or resource", kind);
        };
        SgEntry e = m.entries().get(0);
        return String.format(Locale.ROOT, "%s: %s %#x+%d -> dma %#x via %s", d.name(), kind, p, size, e.dmaAddress(),
                m.opsName());
    }

    @Descriptor("a device's live DMA mappings")
    public String mappings(@Descriptor("device") String bdf) {
        PciDevice d = dev(bdf);
        StringBuilder sb = new StringBuilder();
        for (DmaMapping m : dma.mappings(d)) {
            sb.append(m).append('\n');
        }
        return sb.length() == 0 ? d.name() + ": no DMA mappings" : sb.toString().stripTrailing();
    }

    @Descriptor("unmap every live mapping of a device")
    public String unmapall(@Descriptor("device") String bdf) {
        PciDevice d = dev(bdf);
        int n = 0;
        for (DmaMapping m : dma.mappings(d)) {
            dma.unmap(m);
            n++;
        }
        return d.name() + ": unmapped " + n;
    }

    private PciDevice dev(String bdf) {
        Bdf b = Bdf.parse(bdf);
        return core.machine().device(b).orElseThrow(() -> KernelException.enodev("no PCI device %s", b));
    }
}
