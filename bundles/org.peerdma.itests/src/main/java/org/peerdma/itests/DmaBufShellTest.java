package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.dmabuf.core.DmaBufCore;
import org.peerdma.dmabuf.drivers.GpuExporter;
import org.peerdma.pci.PciDevice;

/** The dmabuf: commands as a user types them, on the sample machine. */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class DmaBufShellTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    CommandProcessor processor;

    @AfterEach
    void unbindGpus() throws Exception {
        GpuExporter gpus = Runtime.await(ctx, GpuExporter.class, 5000);
        for (PciDevice g : gpus.gpus()) {
            gpus.remove(g);
        }
    }

    private static int num(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void heapsUdmabufFencesAndBytes() throws Exception {
        Shell sh = new Shell(processor);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        int before = core.buffers().size();
        assertThat(sh.run("dmabuf:heaps")).contains("system reserved");
        int h = num(sh.run("dmabuf:heapalloc reserved 1M"), "fd (\\d+):");
        assertThat(sh.run("dmabuf:heaps")).contains("cma: 1048576 of");
        assertThat(sh.run("dmabuf:write " + h + " 4096 hello")).contains("5 bytes");
        assertThat(sh.run("dmabuf:read " + h + " 4096 5")).isEqualTo("hello");
        int u = num(sh.run("dmabuf:udmabuf 64K q"), "fd (\\d+):");
        assertThat(sh.run("dmabuf:read " + u + " 100 3")).isEqualTo("qqq");
        assertThat(sh.run("dmabuf:bufs")).contains("udmabuf").contains("reserved");
        int f = num(sh.run("dmabuf:fence " + h + " write"), "fence (\\d+)");
        assertThat(sh.run("dmabuf:wait " + h + " read 20")).contains("timed out");
        assertThat(sh.run("dmabuf:show " + h)).contains("fence " + f + " WRITE status 0");
        assertThat(sh.run("dmabuf:signal " + f + " -5")).contains("status -5");
        assertThat(sh.run("dmabuf:wait " + h + " read 20")).isEqualTo("signalled");
        // bad input: a clear error, nothing changed
        assertThatThrownBy(() -> sh.run("dmabuf:heapalloc nosuch 4K")).hasMessageContaining("ENOENT");
        assertThatThrownBy(() -> sh.run("dmabuf:heapalloc system 0")).hasMessageContaining("EINVAL");
        assertThatThrownBy(() -> sh.run("dmabuf:read 999 0 1")).hasMessageContaining("fd 999");
        assertThatThrownBy(() -> sh.run("dmabuf:read " + h + " 1048570 10")).hasMessageContaining("outside");
        assertThatThrownBy(() -> sh.run("dmabuf:read " + h + " 0 -1")).hasMessageContaining("negative");
        assertThatThrownBy(() -> sh.run("dmabuf:read " + h + " 0 2147483647")).as("checked before allocating")
                .hasMessageContaining("outside");
        assertThatThrownBy(() -> sh.run("dmabuf:udmabuf 100")).hasMessageContaining("UDMABUF_CREATE");
        sh.run("dmabuf:close " + h);
        sh.run("dmabuf:close " + u);
        assertThat(core.buffers()).hasSize(before);
    }

    @Test
    void gpuExportAttachMapDetach() throws Exception {
        Shell sh = new Shell(processor);
        DmaBufCore core = Runtime.await(ctx, DmaBufCore.class, 5000);
        int before = core.buffers().size();
        assertThatThrownBy(() -> sh.run("dmabuf:gpuprobe 03:00.0 one")).hasMessageContaining("BAR index 'one'");
        assertThatThrownBy(() -> sh.run("dmabuf:gpuprobe 03:00.0 1 64Q")).hasMessageContaining("'64Q' is not a size");
        assertThat(sh.run("dmabuf:gpuprobe 03:00.0 1 64M")).contains("VRAM");
        int fd = num(sh.run("dmabuf:gpualloc 03:00.0 1M"), "fd (\\d+):");
        int nic = num(sh.run("dmabuf:attach " + fd + " 05:00.0 nic"), "attachment (\\d+)");
        assertThat(sh.run("dmabuf:map " + nic)).contains("1 segment");
        // sample machine: ACS redirect on the switch port sends P2P through the (whitelisted) host bridge
        assertThat(sh.run("dmabuf:show " + fd)).contains("P2P_THRU_HOST_BRIDGE").contains("why: p2pdma: THRU_HOST_BRIDGE");
        // the NIC's own DMA reaches the VRAM through the host bridge (its IOMMU mapping of the BAR)
        sh.run("dmabuf:write " + fd + " 0 vram!");
        assertThat(sh.run("dmabuf:devread " + nic + " 0 5")).startsWith("vram!").contains("through the host bridge")
                .contains("iommu");
        assertThat(sh.run("dmabuf:devwrite " + nic + " 8 nic-was-here")).contains("12 bytes written");
        assertThat(sh.run("dmabuf:read " + fd + " 8 12")).isEqualTo("nic-was-here");
        int nvme = num(sh.run("dmabuf:attach " + fd + " 07:00.0 nvme"), "attachment (\\d+)");
        sh.run("dmabuf:map " + nvme + " to_device");
        // moved to system memory: the bytes moved with it, and the NVMe reads them in RAM
        assertThat(sh.run("dmabuf:devread " + nvme + " 0 5")).startsWith("vram!").contains("RAM of 0000:03:00.0 GTT");
        assertThat(sh.run("dma:ram")).contains("0000:03:00.0 GTT");
        assertThatThrownBy(() -> sh.run("dmabuf:devwrite " + nvme + " 0 x")).hasMessageContaining("TO_DEVICE");
        assertThatThrownBy(() -> sh.run("dmabuf:devread " + nvme + " 1048575 2")).hasMessageContaining("outside");
        assertThatThrownBy(() -> sh.run("dma:translate 05:00.0 zz")).hasMessageContaining("not a number");
        String show = sh.run("dmabuf:show " + fd);
        assertThat(show).contains("static importer").contains("moved to system memory").contains("SYSTEM_MEMORY");
        assertThat(sh.run("dmabuf:unmap " + nvme)).contains("unmapped");
        assertThat(sh.run("dmabuf:unmap " + nvme)).contains("was not mapped");
        assertThatThrownBy(() -> sh.run("dmabuf:attach " + fd + " 05:00.0 gpu")).hasMessageContaining("nic or nvme");
        assertThatThrownBy(() -> sh.run("dmabuf:attach " + fd + " 0e:00.0")).hasMessageContaining("no PCI device");
        assertThatThrownBy(() -> sh.run("dmabuf:map 999")).hasMessageContaining("no attachment 999");
        sh.run("dmabuf:detach " + nic);
        sh.run("dmabuf:close " + fd); // detaches the NVMe attachment too
        assertThat(core.buffers()).hasSize(before);
    }
}
