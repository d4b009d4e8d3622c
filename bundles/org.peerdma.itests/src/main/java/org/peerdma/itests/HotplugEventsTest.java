package org.peerdma.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciEvents;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;

/** Hotplug uevents, importer swapping, real dumps through the running services. */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class HotplugEventsTest {
    @InjectBundleContext
    BundleContext ctx;

    @InjectService(timeout = 5000)
    PciCore core;

    @InjectService(timeout = 5000)
    TopologyIO io;

    @AfterEach
    void restore() {
        core.load(io.sample());
    }

    @Test
    void removeAndRescanPostUevents() throws Exception {
        List<Event> events = new CopyOnWriteArrayList<>();
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(EventConstants.EVENT_TOPIC, PciEvents.ALL_TOPICS);
        ServiceRegistration<EventHandler> reg = ctx.registerService(EventHandler.class, events::add, props);
        try {
            core.load(io.sample());
            // uevents are posted asynchronously but in order: once the load's MACHINE event is here, all of
            // the load's own REMOVE/ADD events are too
            Runtime.eventually("the load's MACHINE uevent", 5000, () -> events.stream()
                    .anyMatch(e -> e.getTopic().equals(PciEvents.TOPIC_MACHINE)));
            events.clear();
            List<Bdf> gone = core.remove(Bdf.parse("01:00.0"));
            assertThat(gone).hasSize(9);
            Runtime.eventually("9 REMOVE uevents", 5000, () -> events.stream()
                    .filter(e -> e.getTopic().equals(PciEvents.TOPIC_REMOVE)).count() >= 9);
            assertThat(events).allMatch(e -> e.getTopic().equals(PciEvents.TOPIC_REMOVE));
            Event gpu = events.stream().filter(e -> "0000:03:00.0".equals(e.getProperty(PciEvents.PCI_SLOT_NAME)))
                    .findFirst().orElseThrow();
            assertThat(gpu.getProperty(PciEvents.ACTION)).isEqualTo("remove");
            assertThat(gpu.getProperty(PciEvents.PCI_ID)).isEqualTo("10DE:20F1");
            assertThat((String) gpu.getProperty(PciEvents.DEVPATH))
                    .isEqualTo("/devices/pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:08.0/0000:03:00.0");
            events.clear();
            assertThat(core.rescan()).hasSize(9);
            Runtime.eventually("9 ADD uevents", 5000, () -> events.stream()
                    .filter(e -> e.getTopic().equals(PciEvents.TOPIC_ADD)).count() >= 9);
            events.clear();
            core.setAcsCtrl(Bdf.parse("02:08.0"), 0);
            Runtime.eventually("CHANGE uevent", 5000, () -> events.stream()
                    .anyMatch(e -> e.getTopic().equals(PciEvents.TOPIC_CHANGE) && "acs".equals(e.getProperty("CHANGE"))));
        } finally {
            reg.unregister();
        }
    }

    @Test
    void aBetterRankedImporterReplacesTheBuiltInOneAndLeavingRestoresIt() {
        MachineDTO canned = new MachineDTO();
        canned.name = "from-test-importer";
        var d = new org.peerdma.pci.dto.DeviceDTO();
        d.bdf = "0000:00:00.0";
        canned.devices.add(d);
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(TopologyImporter.FORMAT, "lspci-tv");
        props.put(Constants.SERVICE_RANKING, 100);
        ServiceRegistration<TopologyImporter> reg = ctx.registerService(TopologyImporter.class, new TopologyImporter() {
            @Override
            public int probe(TopologySource source) {
                return 1;
            }

            @Override
            public MachineDTO read(TopologySource source) {
                return canned;
            }
        }, props);
        try {
            assertThat(io.readText("x.txt", "anything", "lspci-tv").name).isEqualTo("from-test-importer");
        } finally {
            reg.unregister();
        }
        assertThatThrownBy(() -> io.readText("x.txt", "anything at all", "lspci-tv"))
                .isInstanceOf(KernelException.class).hasMessageContaining("x.txt");
    }

    @Test
    void realDumpLoadsAndABadOneLeavesTheMachineAlone() throws Exception {
        // the checkout's sibling shared/, else the machine's /work/shared (a clone made elsewhere)
        Path prop = Path.of(ctx.getProperty("peerdma.shared"));
        Path shared = Files.isDirectory(prop.resolve("topologies/real")) ? prop : Path.of("/work/shared");
        Path asus = shared.resolve("topologies/real/asus-esc8000a-e12-genoa.txt");
        MachineDTO m = io.read(asus, TopologyIO.AUTO);
        core.load(m);
        assertThat(core.machine().devices()).hasSize(198);
        assertThat(core.machine().cpu().isAmd()).isTrue();
        assertThat(core.get(Bdf.parse("01:00.0")).upstreamBridge().bdf()).isEqualTo(Bdf.parse("00:01.1"));

        Path bad = Files.createTempFile("bad", ".txt");
        Files.writeString(bad, "-+-[0000:00]-+-00.0  Host\n |           +-01.0-[0g]--\n");
        assertThatThrownBy(() -> io.read(bad, TopologyIO.AUTO)).isInstanceOf(KernelException.class)
                .hasMessageContaining(bad.toString());
        assertThat(core.machine().devices()).hasSize(198);
        assertThatThrownBy(() -> io.read(shared.resolve("nope.txt"), TopologyIO.AUTO))
                .hasMessageContaining("ENOENT");
    }
}
