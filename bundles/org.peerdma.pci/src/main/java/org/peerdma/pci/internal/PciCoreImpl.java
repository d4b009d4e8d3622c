package org.peerdma.pci.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.module.ModuleUsage;
import org.peerdma.pci.Acs;
import org.peerdma.pci.Bdf;
import org.peerdma.pci.AcsRules;
import org.peerdma.pci.Boot;
import org.peerdma.pci.CpuInfo;
import org.peerdma.pci.PciBusNotifier;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;
import org.peerdma.pci.PciEvents;
import org.peerdma.pci.PciMachine;
import org.peerdma.pci.Window;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PCI core (drivers/pci/probe.c, remove.c, pci.c as far as topology goes). One writer at a
 * time (this object's monitor); readers use the machine lock-free.
 */
@Component(service = {PciCore.class, ModuleUsage.class}, configurationPid = PciCmdlineConfig.PID)
@Designate(ocd = PciCmdlineConfig.class)
public class PciCoreImpl implements PciCore, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("pci");

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile EventAdmin events;

    private final List<PciBusNotifier> notifiers = new CopyOnWriteArrayList<>();
    private final AtomicLong seqnum = new AtomicLong();
    private final Map<Long, RefImpl> refs = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong refIds = new AtomicLong();
    private volatile CmdlineOptions options = CmdlineOptions.parse("");
    /** The iommu module parameter: on, pt (an IOMMU driver requested ACS) or off. */
    private volatile String iommuParam = "off";
    /** The release module parameter, or "" (the machine's own release, else the newest). */
    private volatile String releaseParam = "";
    /** What was wrong with the iommu or release parameter, or null. */
    private volatile String paramProblem;
    /** The pci= options of the loaded machine's own command line (a capture's /proc/cmdline), used when the module's are empty. */
    private volatile CmdlineOptions machineOptions = CmdlineOptions.parse("");

    /** The options enumeration applies: the module parameter's, else the loaded description's own. */
    private CmdlineOptions active() {
        CmdlineOptions o = options;
        return o.raw.isEmpty() ? machineOptions : o;
    }

    /** The pci= values of a kernel command line, joined as pci_setup() would see them one after another. */
    static String pciOf(String cmdline) {
        if (cmdline == null) {
            return "";
        }
        List<String> vals = new ArrayList<>();
        for (String tok : cmdline.strip().split("\\s+")) {
            String t = tok.replace("\"", "");
            if (t.startsWith("pci=") && t.length() > 4) {
                vals.add(t.substring(4));
            }
        }
        return String.join(",", vals);
    }
    private volatile MachineImpl machine = emptyMachine();
    /** The description the machine was booted from (hardware state for reboot). */
    private MachineDTO bootDescription = new MachineDTO();
    /** Devices removed with remove() that rescan() can find again. */
    private final Map<Bdf, DeviceDTO> removedPresent = new LinkedHashMap<>();
    private final List<String> cmdlineLog = new CopyOnWriteArrayList<>();

    public PciCoreImpl() {
    }

    @Activate
    void activate(PciCmdlineConfig config) {
        configure(config);
    }

    @Modified
    void modified(PciCmdlineConfig config) {
        configure(config);
        LOG.info("pci= options changed to '{}': they apply at the next enumeration (reboot, load, rescan, hot-add)",
                options.raw);
    }

    @Deactivate
    void deactivate() {
        synchronized (this) {
            for (RefImpl r : refs.values()) {
                LOG.warn("pci core unloading while {} still holds {}", r.holder, r.dev.bdf);
            }
            refs.clear();
        }
    }

    private void configure(PciCmdlineConfig config) {
        // modprobe refuses an iommu outside the metatype's options; a configuration written around it is
        // reported and read as the default, so the core still comes up
        String iommu = config.iommu() == null || config.iommu().isBlank() ? "off" : config.iommu().strip();
        try {
            iommuParam = iommuValue(iommu);
            paramProblem = null;
        } catch (KernelException bad) {
            iommuParam = "off";
            paramProblem = "iommu=" + org.peerdma.util.Texts.clip(iommu) + " is not on, pt or off: read as off";
        }
        String r = config.release() == null ? "" : config.release().strip();
        try {
            AcsBoot.semantics(r.isEmpty() ? null : r);
            releaseParam = r;
        } catch (KernelException bad) {
            releaseParam = "";
            paramProblem = "release=" + org.peerdma.util.Texts.clip(r) + " is not a kernel release (6.12, 6.12.23, "
                    + "5.15.0-91-generic): the machine's own release, else the newest, applies";
        }
        if (paramProblem != null) {
            LOG.warn("pci: {}", paramProblem);
        }
        options = CmdlineOptions.parse(config.pci());
        for (String l : options.log) {
            LOG.info(l);
        }
    }

    /** service.ranking of each notifier: called highest first, as drivers' remove() runs before the devres they set up. */
    private final Map<PciBusNotifier, int[]> notifierRank = new java.util.concurrent.ConcurrentHashMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addNotifier(PciBusNotifier n, Map<String, Object> props) {
        Object r = props == null ? null : props.get(org.osgi.framework.Constants.SERVICE_RANKING);
        notifierRank.put(n, new int[] {r instanceof Integer i ? i : 0});
        synchronized (notifiers) {
            List<PciBusNotifier> l = new ArrayList<>(notifiers);
            l.add(n);
            l.sort(Comparator.comparingInt((PciBusNotifier x) -> notifierRank.getOrDefault(x, new int[1])[0]).reversed());
            notifiers.clear();
            notifiers.addAll(l);
        }
    }

    void removeNotifier(PciBusNotifier n) {
        notifiers.remove(n);
        notifierRank.remove(n);
    }

    private static MachineImpl emptyMachine() {
        return new MachineImpl("none", "nothing loaded", "x86_64", CpuInfo.UNKNOWN);
    }

    @Override
    public PciMachine machine() {
        return machine;
    }

    @Override
    public synchronized PciMachine load(MachineDTO dto) {
        if (dto == null) {
            throw KernelException.einval("no machine description given");
        }
        MachineImpl fresh = newMachine(dto);
        List<DevImpl> added = Enumerator.add(fresh, dto.devices == null ? List.of() : dto.devices, true);
        machineOptions = CmdlineOptions.parse(pciOf(dto.cmdline));
        // the new machine is complete; now retire the old one
        MachineImpl old = machine;
        List<PciDevice> gone = new ArrayList<>(old.ordered);
        gone.sort(Comparator.comparing(PciDevice::bdf).reversed());
        for (PciDevice d : gone) {
            notifyRemoving((DevImpl) d);
            ((DevImpl) d).removed = true;
            uevent(PciEvents.TOPIC_REMOVE, d, Map.of());
        }
        removedPresent.clear();
        bootDescription = copyMachine(dto);
        machine = fresh;
        cmdlineLog.clear();
        enumerated(added);
        for (PciBusNotifier n : notifiers) {
            try {
                n.machineLoaded(fresh);
            } catch (RuntimeException ex) {
                LOG.error("bus notifier {} failed on machine load", n, ex);
            }
        }
        Map<String, Object> props = new HashMap<>();
        props.put(PciEvents.MACHINE_NAME, fresh.name);
        props.put(PciEvents.MACHINE_SOURCE, fresh.source);
        props.put(PciEvents.SEQNUM, seqnum.incrementAndGet());
        EventAdmin ea = events;
        if (ea != null) {
            ea.postEvent(new Event(PciEvents.TOPIC_MACHINE, props));
        }
        LOG.info("loaded machine '{}' from {}: {} devices, {} host bridges", fresh.name, fresh.source,
                fresh.ordered.size(), fresh.hosts.size());
        return fresh;
    }

    @Override
    public PciMachine detached(MachineDTO dto) {
        return detached(dto, null);
    }

    @Override
    public PciMachine detached(MachineDTO dto, Boot how) {
        if (dto == null) {
            throw KernelException.einval("no machine description given");
        }
        AcsBoot.Boot boot = detachedBoot(dto, how);
        MachineImpl m = newMachine(dto);
        List<DevImpl> added = Enumerator.add(m, dto.devices == null ? List.of() : dto.devices, true);
        for (DevImpl d : added) {
            int now = AcsBoot.enable(d, boot, line -> {
                if (how != null) {
                    m.notes.add("booted: " + line);
                }
            });
            if (now >= 0) {
                d.acsCtrl = now;
                if (d.dto.acs != null) {
                    d.dto.acs.ctrl = now;
                }
            }
        }
        return m;
    }

    /** The boot of a detached copy: what {@code how} gives, the rest as this core is configured. */
    private AcsBoot.Boot detachedBoot(MachineDTO dto, Boot how) {
        CmdlineOptions own = options.raw.isEmpty() ? CmdlineOptions.parse(pciOf(dto.cmdline)) : options;
        if (how != null && how.pci() != null) {
            own = CmdlineOptions.parse(how.pci());
        }
        String iommu = how != null && how.iommu() != null ? iommuValue(how.iommu()) : iommuParam;
        String release = how != null && how.release() != null ? how.release()
                : releaseParam.isEmpty() ? dto.kernelRelease : releaseParam;
        AcsRules.Semantics s;
        if (how != null && how.release() != null) {
            s = AcsBoot.semantics(release); // asked for: a bad release is an error
        } else {
            try {
                s = AcsBoot.semantics(release);
            } catch (KernelException notARelease) {
                s = AcsBoot.semantics(null);
            }
        }
        return new AcsBoot.Boot(own.forRelease(s), !iommu.equals("off"), s, release);
    }

    /** iommu= as the core takes it: on, pt or off. Errors: EINVAL otherwise. */
    static String iommuValue(String v) {
        String t = v == null ? "" : v.strip();
        if (!t.equals("on") && !t.equals("pt") && !t.equals("off")) {
            throw KernelException.einval("iommu takes on, pt or off, not '%s'", org.peerdma.util.Texts.clip(v));
        }
        return t;
    }

    @Override
    public synchronized PciMachine reboot() {
        return load(copyMachine(bootDescription));
    }

    private static MachineDTO copyMachine(MachineDTO s) {
        MachineDTO d = new MachineDTO();
        d.name = s.name;
        d.source = s.source;
        d.format = s.format;
        d.arch = s.arch;
        d.cpu = s.cpu;
        // the machine's own kernel: its release and command line decide how a reboot applies pci= options
        d.kernelRelease = s.kernelRelease;
        d.cmdline = s.cmdline;
        d.driverTopology = s.driverTopology;
        d.hostBridges = s.hostBridges == null ? new ArrayList<>() : new ArrayList<>(s.hostBridges);
        d.devices = new ArrayList<>();
        if (s.devices != null) {
            for (DeviceDTO x : s.devices) {
                d.devices.add(x == null ? null : Dtos.copy(x));
            }
        }
        d.notes = s.notes == null ? new ArrayList<>() : new ArrayList<>(s.notes);
        return d;
    }

    private static MachineImpl newMachine(MachineDTO dto) {
        CpuInfo cpu = CpuInfo.UNKNOWN;
        if (dto.cpu != null) {
            cpu = new CpuInfo(dto.cpu.vendor == null ? "unknown" : dto.cpu.vendor,
                    dto.cpu.family == null ? -1 : dto.cpu.family, dto.cpu.model == null ? -1 : dto.cpu.model,
                    dto.cpu.modelName == null ? "" : dto.cpu.modelName);
        }
        MachineImpl m = new MachineImpl(dto.name == null ? "unnamed" : dto.name,
                dto.source == null ? "description" : dto.source, dto.arch == null ? "x86_64" : dto.arch, cpu);
        if (dto.notes != null) {
            m.notes.addAll(dto.notes);
        }
        m.kernelRelease = dto.kernelRelease == null || dto.kernelRelease.isBlank() ? null : dto.kernelRelease.strip();
        m.driverTopology = Dtos.driverTopology(dto.driverTopology);
        List<HostBridgeDTO> hbs = dto.hostBridges == null ? List.of() : dto.hostBridges;
        List<String> inferredNuma = new ArrayList<>();
        for (HostBridgeDTO h : hbs) {
            if (h.bus < 0 || h.bus > 0xff || h.domain < 0) {
                throw KernelException.einval("host bridge %s: domain/bus %x:%x out of range", h.name, h.domain, h.bus);
            }
            for (var o : m.hosts) {
                if (o.domain == h.domain && o.busStart == h.bus) {
                    throw KernelException.einval("two host bridges with root bus %04x:%02x", h.domain, h.bus);
                }
            }
            int end = h.busEnd != null ? h.busEnd : 0xff;
            if (h.busEnd == null) {
                for (HostBridgeDTO o : hbs) {
                    if (o.domain == h.domain && o.bus > h.bus && o.bus - 1 < end) {
                        end = o.bus - 1;
                    }
                }
            }
            if (end < h.bus || end > 0xff) {
                throw KernelException.einval("host bridge %04x:%02x: bus range end %x is invalid", h.domain, h.bus, end);
            }
            List<Window> windows = new ArrayList<>();
            for (WindowDTO w : h.windows == null ? List.<WindowDTO>of() : h.windows) {
                if (w.size <= 0) {
                    throw KernelException.einval("host bridge %04x:%02x: window at %#x has size %d", h.domain, h.bus,
                            w.cpuStart, w.size);
                }
                windows.add(new Window(w.cpuStart, w.size, w.offset, w.io, w.prefetchable));
            }
            String name = h.name != null ? h.name : String.format("pci%04x:%02x", h.domain, h.bus);
            int numa = h.numaNode == null ? -1 : h.numaNode;
            if (numa < 0) {
                numa = numaOfDevices(dto, h.domain, h.bus, end);
                if (numa >= 0) {
                    inferredNuma.add(name + " " + numa);
                }
            }
            HostBridgeImpl hb = new HostBridgeImpl(name, h.domain, h.bus, end, windows, numa, false);
            hb.root = new BusImpl(h.domain, h.bus, null, null, hb, false);
            m.hosts.add(hb);
            m.buses.put(MachineImpl.busKey(h.domain, h.bus), hb.root);
        }
        if (!inferredNuma.isEmpty()) {
            m.notes.add("NUMA nodes of host bridges from the devices below them (Linux gives every device its host "
                    + "bridge's node): " + String.join(", ", inferredNuma));
        }
        return m;
    }

    /** The one NUMA node the devices on buses START..END of DOMAIN report, or -1 (none, or several). */
    static int numaOfDevices(MachineDTO dto, int domain, int start, int end) {
        int found = -1;
        for (DeviceDTO d : dto.devices == null ? List.<DeviceDTO>of() : dto.devices) {
            if (d == null || d.numaNode == null || d.numaNode < 0 || d.bdf == null) {
                continue;
            }
            Bdf b;
            try {
                b = Bdf.parse(d.bdf);
            } catch (KernelException bad) {
                continue; // reported when the device is enumerated
            }
            if (b.domain() != domain || b.bus() < start || b.bus() > end) {
                continue;
            }
            if (found >= 0 && found != d.numaNode) {
                return -1;
            }
            found = d.numaNode;
        }
        return found;
    }

    /** Post-enumeration for new devices: pci_enable_acs() with the pci= options, then notifiers and uevents. */
    private void enumerated(List<DevImpl> added) {
        AcsBoot.Boot boot = boot(bootDescription.kernelRelease);
        for (DevImpl d : added) {
            int now = AcsBoot.enable(d, boot, line -> log(d, line));
            if (now >= 0 && now != d.acsCtrl) {
                setCtrl(d, now);
            }
        }
        for (DevImpl d : added) {
            for (PciBusNotifier n : notifiers) {
                try {
                    n.deviceAdded(d);
                } catch (RuntimeException ex) {
                    LOG.error("bus notifier {} failed on add of {}", n, d.bdf, ex);
                }
            }
            uevent(PciEvents.TOPIC_ADD, d, Map.of());
        }
    }

    /**
     * How enumeration runs pci_enable_acs(): the module's options else the machine's own, ACS requested when
     * the iommu parameter says an IOMMU driver started, and the rules of the release parameter, else of the
     * machine's own release ({@code machineRelease}, a dump's uname -r), else the newest.
     */
    private AcsBoot.Boot boot(String machineRelease) {
        String release = releaseParam.isEmpty() ? machineRelease : releaseParam;
        AcsRules.Semantics s;
        try {
            s = AcsBoot.semantics(release);
        } catch (KernelException notARelease) {
            release = null; // a dump's odd uname -r: the newest rules
            s = AcsBoot.semantics(null);
        }
        return new AcsBoot.Boot(active().forRelease(s), !iommuParam.equals("off"), s, release);
    }

    private void log(DevImpl dev, String line) {
        cmdlineLog.add(line);
        LOG.info(line);
    }

    private void setCtrl(DevImpl dev, int now) {
        int old = dev.acsCtrl;
        dev.acsCtrl = now;
        if (dev.dto.acs != null) {
            dev.dto.acs.ctrl = now;
        }
        machine.generation.incrementAndGet();
        if (old != now) {
            for (PciBusNotifier n : notifiers) {
                try {
                    n.acsChanged(dev, old, now);
                } catch (RuntimeException ex) {
                    LOG.error("bus notifier {} failed on ACS change of {}", n, dev.bdf, ex);
                }
            }
            uevent(PciEvents.TOPIC_CHANGE, dev, Map.of(PciEvents.CHANGE, "acs"));
        }
    }

    @Override
    public synchronized MachineDTO snapshot() {
        MachineImpl m = machine;
        MachineDTO dto = new MachineDTO();
        dto.name = m.name;
        dto.source = m.source;
        dto.format = "peerdma";
        dto.arch = m.arch;
        dto.kernelRelease = m.kernelRelease;
        dto.driverTopology = Dtos.dto(m.driverTopology);
        if (!m.cpu.isUnknown()) {
            dto.cpu = new org.peerdma.pci.dto.CpuDTO();
            dto.cpu.vendor = m.cpu.vendor();
            dto.cpu.family = m.cpu.family() < 0 ? null : m.cpu.family();
            dto.cpu.model = m.cpu.model() < 0 ? null : m.cpu.model();
            dto.cpu.modelName = m.cpu.modelName().isEmpty() ? null : m.cpu.modelName();
        }
        for (var h : m.hosts) {
            HostBridgeDTO hd = new HostBridgeDTO();
            hd.name = h.name;
            hd.domain = h.domain;
            hd.bus = h.busStart;
            hd.busEnd = h.busEnd;
            hd.numaNode = h.numaNode < 0 ? null : h.numaNode;
            for (Window w : h.windows) {
                WindowDTO wd = new WindowDTO();
                wd.cpuStart = w.cpuStart();
                wd.size = w.size();
                wd.offset = w.offset();
                wd.io = w.io();
                wd.prefetchable = w.prefetchable();
                hd.windows.add(wd);
            }
            dto.hostBridges.add(hd);
        }
        for (PciDevice d : m.ordered) {
            DeviceDTO c = Dtos.copy(((DevImpl) d).dto);
            c.bdf = d.bdf().toString();
            dto.devices.add(c);
        }
        dto.notes.addAll(m.notes);
        return dto;
    }

    @Override
    public PciDevice get(Bdf bdf) {
        return find(bdf).orElseThrow(() -> KernelException.enodev("no PCI device %s in machine '%s'", bdf,
                machine.name));
    }

    @Override
    public Optional<PciDevice> find(Bdf bdf) {
        return machine.device(bdf);
    }

    @Override
    public synchronized List<Bdf> remove(Bdf bdf) {
        List<DevImpl> gone = removeSubtree((DevImpl) get(bdf));
        for (DevImpl d : gone) {
            removedPresent.put(d.bdf, Dtos.copy(d.dto));
        }
        return gone.stream().map(d -> d.bdf).toList();
    }

    @Override
    public synchronized List<Bdf> hotUnplug(Bdf bdf) {
        List<DevImpl> gone = removeSubtree((DevImpl) get(bdf));
        return gone.stream().map(d -> d.bdf).toList();
    }

    /** pci_stop_and_remove_bus_device: children first, then the device. */
    private List<DevImpl> removeSubtree(DevImpl top) {
        MachineImpl m = machine;
        List<DevImpl> gone = new ArrayList<>();
        for (PciDevice p : m.ordered) {
            if (isBelowOrSelf((DevImpl) p, top)) {
                gone.add((DevImpl) p);
            }
        }
        gone.sort(Comparator.comparingInt(Enumerated::depth).reversed().thenComparing(d -> d.bdf));
        for (DevImpl d : gone) {
            notifyRemoving(d);
        }
        Map<Bdf, DevImpl> left = new HashMap<>(m.byBdf);
        for (DevImpl d : gone) {
            d.removed = true;
            d.bus.remove(d);
            left.remove(d.bdf);
        }
        m.buses.values().removeIf(b -> isBusBelow(b, gone));
        m.publish(left);
        for (DevImpl d : gone) {
            uevent(PciEvents.TOPIC_REMOVE, d, Map.of());
        }
        LOG.info("removed {} device(s) at and below {}", gone.size(), top.bdf);
        return gone;
    }

    private static boolean isBusBelow(BusImpl b, List<DevImpl> gone) {
        for (BusImpl x = b; x != null; x = x.parent) {
            if (x.self != null && gone.contains(x.self)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isBelowOrSelf(DevImpl d, DevImpl top) {
        if (d == top) {
            return true;
        }
        for (BusImpl b = d.bus; b != null; b = b.parent) {
            if (b.self == top) {
                return true;
            }
        }
        return d.physfn != null && isBelowOrSelf(d.physfn, top);
    }

    /** Depth helper for children-first ordering. */
    private static final class Enumerated {
        static int depth(DevImpl d) {
            int n = 0;
            for (BusImpl b = d.bus; b != null; b = b.parent) {
                n++;
            }
            return n;
        }
    }

    private void notifyRemoving(DevImpl d) {
        for (PciBusNotifier n : notifiers) {
            try {
                n.deviceRemoving(d);
            } catch (RuntimeException ex) {
                LOG.error("bus notifier {} failed on removal of {}", n, d.bdf, ex);
            }
        }
    }

    @Override
    public synchronized List<Bdf> rescan() {
        if (removedPresent.isEmpty()) {
            return List.of();
        }
        List<DeviceDTO> again = new ArrayList<>(removedPresent.values());
        List<DevImpl> added = Enumerator.add(machine, again, false);
        removedPresent.clear();
        enumerated(added);
        return added.stream().map(d -> d.bdf).toList();
    }

    @Override
    public synchronized List<Bdf> hotAdd(List<DeviceDTO> devices) {
        if (devices == null || devices.isEmpty()) {
            throw KernelException.einval("hot-add needs at least one device");
        }
        List<DevImpl> added = Enumerator.add(machine, devices, false);
        for (DevImpl d : added) {
            removedPresent.remove(d.bdf);
        }
        enumerated(added);
        return added.stream().map(d -> d.bdf).toList();
    }

    @Override
    public synchronized int setAcsCtrl(Bdf bdf, int ctrl) {
        DevImpl d = (DevImpl) get(bdf);
        if (!d.hasAcs()) {
            throw KernelException.einval("%s has no ACS capability; nothing to write", bdf);
        }
        if (ctrl < 0 || ctrl > 0xffff) {
            throw KernelException.einval("ACS control value %#x does not fit the 16-bit register", ctrl);
        }
        int now = ctrl & d.acsCap & Acs.ALL;
        setCtrl(d, now);
        LOG.info("{}: ACSCtl {} (wrote {})", bdf, Acs.lspci(now), String.format("%#06x", ctrl));
        return now;
    }

    @Override
    public PciDeviceRef acquire(Bdf bdf, String holder) {
        if (holder == null || holder.isBlank()) {
            throw KernelException.einval("a device reference needs a holder name");
        }
        DevImpl d = (DevImpl) get(bdf);
        long id = refIds.incrementAndGet();
        RefImpl r = new RefImpl(id, d, holder);
        refs.put(id, r);
        return r;
    }

    @Override
    public List<String> references() {
        return refs.values().stream().map(r -> r.holder + " -> " + r.dev.bdf).sorted().toList();
    }

    @Override
    public List<String> holders() {
        return references();
    }

    @Override
    public List<String> cmdlineLog() {
        List<String> l = new ArrayList<>();
        CmdlineOptions o = active();
        AcsBoot.Boot boot = boot(bootDescription.kernelRelease);
        l.add("pci=" + o.raw + (o == options || o.raw.isEmpty() ? "" : "   (the loaded machine's own command line)"));
        l.addAll(boot.options().log);
        if (paramProblem != null) {
            l.add("pci: " + paramProblem);
        }
        l.add("pci_enable_acs: rules of " + (boot.release() == null || boot.release().isEmpty() ? "the newest kernel"
                : boot.release()) + " (" + boot.semantics().why() + "); IOMMU " + iommuParam
                + (boot.acsRequested() ? ": pci_request_acs(), SV RR CR UF enabled where advertised"
                        : ": ACS left as firmware set it"));
        l.addAll(cmdlineLog);
        return l;
    }

    private void uevent(String topic, PciDevice d, Map<String, Object> extra) {
        EventAdmin ea = events;
        if (ea == null) {
            return;
        }
        Map<String, Object> p = new HashMap<>(extra);
        p.put(PciEvents.ACTION, topic.substring(topic.lastIndexOf('/') + 1).toLowerCase(java.util.Locale.ROOT));
        p.put(PciEvents.SUBSYSTEM, "pci");
        p.put(PciEvents.DEVPATH, devpath(d));
        p.put(PciEvents.PCI_SLOT_NAME, d.name());
        p.put(PciEvents.PCI_ID, String.format("%04X:%04X", d.vendor(), d.device()));
        p.put(PciEvents.PCI_SUBSYS_ID, String.format("%04X:%04X", d.subsystemVendor(), d.subsystemDevice()));
        p.put(PciEvents.PCI_CLASS, String.format("%X", d.classCode()));
        p.put(PciEvents.SEQNUM, seqnum.incrementAndGet());
        ea.postEvent(new Event(topic, p));
    }

    /** /devices/pci0000:00/0000:00:01.0/0000:01:00.0 */
    static String devpath(PciDevice d) {
        List<String> parts = new ArrayList<>();
        parts.add(d.name());
        for (PciDevice up = d.upstreamBridge(); up != null; up = up.upstreamBridge()) {
            parts.add(0, up.name());
        }
        return "/devices/" + d.hostBridge().name() + "/" + String.join("/", parts);
    }

    private final class RefImpl implements PciDeviceRef {
        final long id;
        final DevImpl dev;
        final String holder;

        RefImpl(long id, DevImpl dev, String holder) {
            this.id = id;
            this.dev = dev;
            this.holder = holder;
        }

        @Override
        public PciDevice device() {
            return dev;
        }

        @Override
        public String holder() {
            return holder;
        }

        @Override
        public void close() {
            refs.remove(id);
        }
    }

    /** For tests in this package: the devices rescan would find. */
    synchronized List<Bdf> removedButPresent() {
        return List.copyOf(removedPresent.keySet());
    }

}
