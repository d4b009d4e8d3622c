package org.peerdma.p2pdma.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.mm.DevPagemap;
import org.peerdma.mm.MemoryType;
import org.peerdma.mm.Page;
import org.peerdma.mm.Range;
import org.peerdma.mm.ZoneDevice;
import org.peerdma.module.ModuleUsage;
import org.peerdma.p2pdma.DeviceNode;
import org.peerdma.p2pdma.KernelVersion;
import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.P2pMapping;
import org.peerdma.p2pdma.P2pMem;
import org.peerdma.p2pdma.P2pMemInfo;
import org.peerdma.p2pdma.P2pVerdict;
import org.peerdma.p2pdma.P2pdma;
import org.peerdma.p2pdma.Sgl;
import org.peerdma.pci.Bar;
import org.peerdma.pci.PciCore;
import org.peerdma.pci.PciDevice;
import org.peerdma.pci.PciDeviceRef;
import org.peerdma.pci.PciMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * drivers/pci/p2pdma.c: decisions on the loaded machine, and the providers with their pools,
 * pagemaps and map-type caches. Providers go away with their device (bus notifier) or with this
 * module: new allocations fail at once, user mappings are revoked, the rest is waited for.
 */
@Component(service = {P2pdma.class, P2pMem.class, ModuleUsage.class}, configurationPid = P2pdmaConfig.PID)
@Designate(ocd = P2pdmaConfig.class)
public class P2pdmaImpl implements P2pdma, P2pMem, ModuleUsage {
    private static final Logger LOG = LoggerFactory.getLogger("p2pdma");
    /** find_many keeps at most PAGE_SIZE / sizeof(pointer) closest devices. */
    static final int FIND_MAX = 4096 / 8;

    @Reference
    PciCore core;

    @Reference
    ZoneDevice zone;

    /** The DMA API, for THRU_HOST_BRIDGE mappings of P2P memory. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    volatile org.peerdma.dma.DmaApi dmaApi;

    /** The arch module (swappable; the best ranked wins and a newcomer replaces it at once). */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY,
            bind = "bindArch", unbind = "unbindArch")
    volatile org.peerdma.dma.spi.ArchPolicy archPolicy;

    void bindArch(org.peerdma.dma.spi.ArchPolicy p) {
        archPolicy = p;
        invalidate("arch " + p.arch() + " loaded");
    }

    void unbindArch(org.peerdma.dma.spi.ArchPolicy p) {
        if (archPolicy == p) {
            archPolicy = null;
        }
        invalidate("arch " + p.arch() + " unloaded");
    }

    private void invalidate(String why) {
        providers.values().forEach(s -> s.mapTypes.clear());
        LOG.info("map-type caches dropped: {}", why);
    }

    Calc.Arch archRules() {
        return Calc.of(archPolicy);
    }

    private volatile KernelVersion version = KernelVersion.NEWEST;
    private volatile Duration releaseWait = Duration.ofSeconds(5);
    private final Map<PciDevice, ProviderState> providers = new ConcurrentHashMap<>();
    /**
     * Providers released while clients still held allocations: their teardown waits in memunmap_pages with
     * the pool still there, so a client's pci_free_p2pmem (with the pci_dev it holds) still works.
     */
    private final Map<PciDevice, ProviderState> dying = new ConcurrentHashMap<>();

    /**
     * standalone - p2pdma wired by hand, as DS would wire it, for tests and benchmarks outside OSGi.
     * @param dma the DMA API for THRU_HOST_BRIDGE mappings, or null
     */
    public static P2pdmaImpl standalone(PciCore core, ZoneDevice zone, org.peerdma.dma.DmaApi dma, String kernelVersion,
            int releaseWaitMs) {
        P2pdmaImpl p = new P2pdmaImpl();
        p.core = core;
        p.zone = zone;
        p.dmaApi = dma;
        p.configure(new P2pdmaConfig() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return P2pdmaConfig.class;
            }

            @Override
            public String kernel__version() {
                return kernelVersion;
            }

            @Override
            public int release__wait__ms() {
                return releaseWaitMs;
            }
        });
        return p;
    }

    @Activate
    @Modified
    void configure(P2pdmaConfig config) {
        KernelVersion v = KernelVersion.parse(config.kernel__version());
        if (v != version) {
            providers.values().forEach(p -> p.mapTypes.clear());
        }
        version = v;
        releaseWait = Duration.ofMillis(Math.max(0, config.release__wait__ms()));
        LOG.info("p2pdma rules: {}", version.label());
    }

    @Deactivate
    void deactivate(org.osgi.framework.BundleContext ctx) {
        // the whole system going down (the end of a run): nothing will use the memory again, so do not wait
        // for allocations a script left behind (rmmod with users left still waits, as the kernel does)
        shuttingDown = ctx != null && ctx.getBundle(0).getState() == org.osgi.framework.Bundle.STOPPING;
        for (PciDevice d : List.copyOf(providers.keySet())) {
            release(d);
        }
    }

    private volatile boolean shuttingDown;

    // ---------------------------------------------------------------- decisions

    @Override
    public KernelVersion version() {
        return version;
    }

    @Override
    public P2pVerdict check(PciDevice provider, PciDevice client, KernelVersion v) {
        return check(core.machine(), provider, client, v);
    }

    @Override
    public P2pVerdict check(PciMachine m, PciDevice provider, PciDevice client, KernelVersion v) {
        live(provider);
        live(client);
        return Calc.calc(m, provider, client, v == null ? version : v, archRules());
    }

    @Override
    public String arch() {
        return archRules().name(core.machine());
    }

    @Override
    public int distanceMany(PciDevice provider, List<DeviceNode> clients, boolean verbose, List<String> log) {
        return distanceMany(core, version, provider, clients, verbose, log, this::store, archRules());
    }

    /** calc_map_type_and_dist stores its result in the provider's cache when it is a provider. */
    private void store(P2pVerdict r) {
        ProviderState s = providers.get(r.provider());
        if (s != null && !r.version().acsRejects()) {
            cache(s).put(ProviderState.key(r.client()), r.mapType());
        }
    }

    private java.util.Map<Integer, MapType> cache(ProviderState s) {
        long gen = core.machine().generation();
        if (s.cacheGeneration != gen) {
            s.mapTypes.clear(); // topology or ACS changed: the cached answers are stale
            s.cacheGeneration = gen;
        }
        return s.mapTypes;
    }

    static int distanceMany(PciCore core, KernelVersion v, PciDevice provider, List<DeviceNode> clients,
            boolean verbose, List<String> log) {
        return distanceMany(core, v, provider, clients, verbose, log, r -> {
        }, Calc.MACHINE);
    }

    /** pci_p2pdma_distance_many (reference §C4). */
    static int distanceMany(PciCore core, KernelVersion v, PciDevice provider, List<DeviceNode> clients,
            boolean verbose, List<String> log, java.util.function.Consumer<P2pVerdict> sink, Calc.Arch arch) {
        if (clients == null || clients.isEmpty()) {
            return -1;
        }
        live(provider);
        int total = 0;
        boolean notSupported = false;
        for (DeviceNode c : clients) {
            PciDevice p = c.findParentPciDev();
            if (p == null) {
                if (verbose) {
                    log.add(c.name() + ": cannot be used for peer-to-peer DMA as it is not a PCI device");
                }
                return -1;
            }
            live(p);
            P2pVerdict r = Calc.calc(core.machine(), provider, p, v, arch);
            sink.accept(r);
            if (verbose) {
                log.addAll(r.warnings());
            }
            if (r.mapType() == MapType.NOT_SUPPORTED) {
                notSupported = true;
                if (!verbose) {
                    break;
                }
            }
            total += r.distance();
        }
        if (notSupported) {
            return -1; // every version: the -2 of v4.20/v5.2 stays inside upstream_bridge_distance
        }
        return total;
    }

    @Override
    public MapType mapType(PciDevice provider, PciDevice client) {
        ProviderState s = providers.get(provider);
        if (s == null || client == null) {
            return MapType.NOT_SUPPORTED;
        }
        KernelVersion v = version;
        if (v.acsRejects()) {
            // v4.20/v5.2 had no cache: mapping used bus addresses when the distance allowed it
            return Calc.calc(core.machine(), provider, client, v, archRules()).mapType();
        }
        MapType t = cache(s).getOrDefault(ProviderState.key(client), MapType.UNKNOWN);
        if (t == MapType.UNKNOWN && v == KernelVersion.NEWEST) {
            P2pVerdict r = Calc.calc(core.machine(), provider, client, v, archRules());
            for (String w : r.warnings()) {
                LOG.warn(w);
            }
            store(r);
            t = r.mapType();
        }
        return t;
    }

    // ---------------------------------------------------------------- providers

    @Override
    public void addResource(PciDevice pdev, int barIndex, long size, long offset) {
        live(pdev);
        Optional<Bar> bar = pdev.bar(barIndex);
        if (bar.isEmpty() || !bar.get().isMem() || bar.get().unassigned()) {
            throw KernelException.einval("%s: BAR %d is not a memory BAR", pdev.name(), barIndex);
        }
        Bar b = bar.get();
        if (offset < 0 || offset >= b.size()) {
            throw KernelException.einval("%s: offset %#x is not inside BAR %d (size %#x)", pdev.name(), offset, barIndex,
                    b.size());
        }
        if (size == 0) {
            size = b.size() - offset;
        }
        if (size < 0 || size + offset > b.size()) {
            throw KernelException.einval("%s: size %#x + offset %#x is past the end of BAR %d (size %#x)", pdev.name(),
                    size, offset, barIndex, b.size());
        }
        synchronized (providers) {
            ProviderState s = providers.get(pdev);
            boolean fresh = s == null;
            if (fresh) {
                s = new ProviderState(pdev, core.acquire(pdev.bdf(), "p2pdma provider"));
            }
            DevPagemap pg = new DevPagemap();
            pg.type = MemoryType.PCI_P2PDMA;
            pg.name = pdev.name() + " BAR " + barIndex;
            pg.ranges.add(Range.ofSize(b.start() + offset, size));
            ProviderState owner = s;
            pg.ops = page -> pageFree(owner, page);
            pg.owner = pdev;
            long virt;
            try {
                virt = zone.memremapPages(pg, pdev.numaNode());
            } catch (KernelException ex) {
                if (fresh) {
                    s.ref.close();
                }
                throw ex;
            }
            s.pgmaps.add(pg);
            GenPool.Chunk[] chunk = new GenPool.Chunk[1];
            ZoneDevice.RefHolder holder = zone.refHolder(pg, "pci_alloc_p2pmem",
                    () -> chunk[0] == null ? "" : "in the pool: " + owner.pool.describe(chunk[0], 8));
            chunk[0] = s.pool.addOwner(virt, b.busStart() + offset, size, pg, holder);
            if (fresh) {
                providers.put(pdev, s);
            }
            LOG.info("{}: added peer-to-peer DMA memory {}", pdev.name(), String.format("%#x-%#x",
                    b.start() + offset, b.start() + offset + size - 1));
        }
    }

    /** p2pdma_folio_free: one page back to the pool, one pagemap reference dropped. */
    private void pageFree(ProviderState s, Page page) {
        long virt = ZoneDevice.va(page.phys());
        s.pool.free(virt, Page.PAGE_SIZE);
        zone.putRef(page.pgmap(), pageHolder(page.pfn()));
    }

    private static String pageHolder(long pfn) {
        return String.format("p2pmem page %#x", pfn);
    }

    @Override
    public long alloc(PciDevice pdev, long size) {
        ProviderState s = providers.get(pdev);
        if (s == null || size <= 0) {
            return 0;
        }
        // one pagemap reference per allocation, counted on the chunk's holder: no name is formatted per call
        return s.pool.allocHeld(size);
    }

    @Override
    public void free(PciDevice pdev, long virt, long size) {
        ProviderState s = providers.get(pdev);
        if (s == null) {
            s = dying.get(pdev);
        }
        if (s == null) {
            throw KernelException.einval("%s has no p2pmem to free %#x into", pdev.name(), virt);
        }
        if (s.pool.freeHeld(virt, size) && !dying.isEmpty()) {
            dying.remove(pdev, s); // the last client allocation is back: the teardown completes
        }
    }

    /**
     * dyingProvider - a removed provider whose teardown still waits for client allocations, by address:
     * what a client that holds the pci_dev frees into. Return: null when there is none.
     */
    PciDevice dyingProvider(org.peerdma.pci.Bdf bdf) {
        for (PciDevice d : dying.keySet()) {
            if (d.bdf().equals(bdf)) {
                return d;
            }
        }
        return null;
    }

    /** @return the bytes still allocated from a dying provider's pool (0 when it is not one). */
    long dyingAllocated(PciDevice pdev) {
        ProviderState s = dying.get(pdev);
        return s == null ? 0 : s.pool.size() - s.pool.avail();
    }

    @Override
    public long virtToBus(PciDevice pdev, long virt) {
        ProviderState s = providers.get(pdev);
        if (virt == 0 || s == null) {
            return 0;
        }
        long bus = s.pool.virtToPhys(virt);
        return bus < 0 ? 0 : bus;
    }

    @Override
    public Optional<Sgl> allocSgl(PciDevice pdev, long length) {
        long virt = alloc(pdev, length);
        if (virt == 0) {
            return Optional.empty();
        }
        return Optional.of(new Sgl(List.of(new Sgl.Entry(virt, length))));
    }

    @Override
    public void freeSgl(PciDevice pdev, Sgl sgl) {
        for (Sgl.Entry e : sgl.entries()) {
            free(pdev, e.virt(), e.length());
        }
    }

    @Override
    public void publish(PciDevice pdev, boolean publish) {
        ProviderState s = providers.get(pdev);
        if (s != null) {
            s.published = publish;
        }
    }

    @Override
    public boolean hasP2pmem(PciDevice pdev) {
        ProviderState s = providers.get(pdev);
        if (s == null) {
            return false;
        }
        boolean pool = s.pool.size() > 0;
        return version == KernelVersion.NEWEST ? pool && s.published : s.published;
    }

    @Override
    public Optional<PciDeviceRef> findMany(List<DeviceNode> clients, String holder) {
        PciMachine m = core.machine();
        List<PciDevice> closest = new ArrayList<>();
        int best = Integer.MAX_VALUE;
        for (PciDevice pdev : m.devices()) {
            if (!hasP2pmem(pdev)) {
                continue;
            }
            int d = distanceMany(core, version, pdev, clients, false, new ArrayList<>(), this::store, archRules());
            if (d < 0 || d > best) {
                continue;
            }
            if (d < best) {
                closest.clear();
                best = d;
            }
            if (closest.size() < FIND_MAX) {
                closest.add(pdev);
            }
        }
        if (closest.isEmpty()) {
            return Optional.empty();
        }
        PciDevice pick = closest.get(ThreadLocalRandom.current().nextInt(closest.size()));
        return Optional.of(core.acquire(pick.bdf(), holder));
    }

    @Override
    public P2pMemInfo info(PciDevice pdev) {
        ProviderState s = providers.get(pdev);
        if (s == null) {
            throw new KernelException(Errno.ENOENT, "/sys/bus/pci/devices/" + pdev.name()
                    + "/p2pmem: no such file or directory (not a p2pmem provider)");
        }
        return new P2pMemInfo(s.pool.size(), s.pool.avail(), s.published);
    }

    @Override
    public List<PciDevice> providers() {
        return providers.keySet().stream().sorted((a, b) -> a.bdf().compareTo(b.bdf())).toList();
    }

    @Override
    public AutoCloseable addUserMapping(PciDevice pdev, Runnable zap) {
        java.util.Objects.requireNonNull(zap);
        synchronized (providers) { // release removes the state under this lock before it zaps
            ProviderState s = providers.get(pdev);
            if (s == null) {
                return null;
            }
            s.userMappings.add(zap);
            return () -> s.userMappings.remove(zap);
        }
    }

    @Override
    public P2pMapping mmapAllocate(PciDevice pdev, long length, long pgoff, boolean shared) {
        if (!shared) {
            throw KernelException.einval("%s: p2pmem/allocate: attempted private mapping", pdev.name());
        }
        if (pgoff != 0) {
            throw KernelException.einval("%s: p2pmem/allocate: offset must be 0", pdev.name());
        }
        ProviderState s = providers.get(pdev);
        if (s == null) {
            throw KernelException.enodev("%s has no p2pdma", pdev.name());
        }
        if (length <= 0 || length % Page.PAGE_SIZE != 0) {
            throw KernelException.einval("%s: mapping length %d is not a positive multiple of the page size",
                    pdev.name(), length);
        }
        long virt = s.pool.alloc(length, true);
        if (virt == 0) {
            throw new KernelException(Errno.ENOMEM, pdev.name() + ": p2pmem pool cannot satisfy " + length + " bytes");
        }
        DevPagemap owner = s.pool.chunkOf(virt).owner;
        List<Page> pages = new ArrayList<>();
        for (long off = 0; off < length; off += Page.PAGE_SIZE) {
            Page p = zone.pfnToPage(ZoneDevice.pa(virt + off) >>> Page.PAGE_SHIFT);
            if (!zone.tryGetLive(owner, pageHolder(p.pfn()))) {
                for (Page done : pages) {
                    zone.putRef(owner, pageHolder(done.pfn()));
                }
                for (long p0 = 0; p0 < length; p0 += Page.PAGE_SIZE) {
                    s.pool.free(virt + p0, Page.PAGE_SIZE);
                }
                throw KernelException.enodev("%s: p2pmem is being torn down", pdev.name());
            }
            pages.add(p);
        }
        for (Page p : pages) {
            p.init(MappingImpl.HOLDER); // vm_insert_page with the page count set to 1
        }
        MappingImpl mapping = new MappingImpl(s, virt, length, pages);
        s.mappings.add(mapping);
        return mapping;
    }

    @Override
    public org.peerdma.p2pdma.P2pDmaMapping mapForDma(PciDevice client, PciDevice provider, long virt, long length,
            org.peerdma.dma.DmaDirection dir) {
        live(client);
        live(provider);
        ProviderState s = providers.get(provider);
        if (s == null || length <= 0 || s.pool.virtToPhys(virt) < 0 || s.pool.virtToPhys(virt + length - 1) < 0) {
            throw new KernelException(Errno.EFAULT, String.format("%#x+%d is not P2P memory of %s", virt, length,
                    provider.name()));
        }
        long cpu = ZoneDevice.pa(virt);
        long bus = s.pool.virtToPhys(virt); // the pool holds bus addresses
        MapType t = mapType(provider, client);
        if (t == MapType.UNKNOWN) {
            // v5.1x returned a cache miss as is, and map_sg_attrs then failed (WARN_ON_ONCE, 0 entries)
            throw new KernelException(Errno.EREMOTEIO, client.name() + ": map type of " + provider.name()
                    + " not cached yet (" + version.label() + " needs pci_p2pdma_distance first)");
        }
        switch (t) {
            case BUS_ADDR -> {
                long offset = bus - cpu; // pci_bus_address - pci_resource_start
                long dma = version.busOffsetSignBug() ? cpu - offset : cpu + offset;
                return new org.peerdma.p2pdma.P2pDmaMapping(client, provider, t, dma, length, null);
            }
            case THRU_HOST_BRIDGE -> {
                org.peerdma.dma.DmaApi api = dmaApi;
                if (api == null) {
                    throw KernelException.enodev("no DMA API to map %s's P2P memory for %s (modprobe dma)",
                            provider.name(), client.name());
                }
                var m = api.mapResource(client, cpu, length, dir);
                return new org.peerdma.p2pdma.P2pDmaMapping(client, provider, t, m.entries().get(0).dmaAddress(),
                        length, m);
            }
            default -> throw new KernelException(Errno.EREMOTEIO, client.name()
                    + ": peer-to-peer DMA to " + provider.name() + " is not supported (" + t.kernelName() + ")");
        }
    }

    @Override
    public void unmapForDma(org.peerdma.p2pdma.P2pDmaMapping mapping) {
        if (mapping.viaDmaApi() != null) {
            org.peerdma.dma.DmaApi api = dmaApi;
            if (api == null) {
                return; // the DMA core left and revoked its mappings
            }
            api.unmap(mapping.viaDmaApi());
        }
    }

    @Override
    public org.peerdma.p2pdma.P2pEnable enableStore(String page) {
        if (page == null) {
            throw KernelException.enodev("No such PCI device: (null)");
        }
        String name = page.endsWith("\n") ? page.substring(0, page.length() - 1) : page; // sysfs_streq
        for (PciDevice d : core.machine().devices()) {
            if (d.name().equals(name)) {
                if (!hasP2pmem(d)) {
                    throw KernelException.enodev("%s: PCI device has no peer-to-peer memory", d.name());
                }
                return new org.peerdma.p2pdma.P2pEnable(true, d);
            }
        }
        if (page.length() > 1 && (page.charAt(0) == '0' || page.charAt(0) == '1')
                && !Character.isISOControl(page.charAt(1))) {
            throw KernelException.enodev("No such PCI device: %s", name);
        }
        Boolean b = kstrtobool(page);
        if (b == null) {
            throw KernelException.enodev("No such PCI device: %s", name);
        }
        return new org.peerdma.p2pdma.P2pEnable(b, null);
    }

    /** lib/kstrtox.c kstrtobool: the first character (and the second for on/off) decides. */
    static Boolean kstrtobool(String s) {
        if (s.isEmpty()) {
            return null;
        }
        switch (s.charAt(0)) {
            case 'y', 'Y', 't', 'T', '1' -> {
                return true;
            }
            case 'n', 'N', 'f', 'F', '0' -> {
                return false;
            }
            case 'o', 'O' -> {
                if (s.length() > 1) {
                    char c = s.charAt(1);
                    if (c == 'n' || c == 'N') {
                        return true;
                    }
                    if (c == 'f' || c == 'F') {
                        return false;
                    }
                }
                return null;
            }
            default -> {
                return null;
            }
        }
    }

    @Override
    public Page page(PciDevice pdev, long virt) {
        ProviderState s = providers.get(pdev);
        if (s == null || s.pool.virtToPhys(virt) < 0) {
            throw new KernelException(Errno.EFAULT, String.format("%#x is not p2pmem of %s", virt, pdev.name()));
        }
        return zone.pfnToPage(ZoneDevice.pa(virt) >>> Page.PAGE_SHIFT);
    }

    @Override
    public void release(PciDevice pdev) {
        ProviderState s;
        synchronized (providers) {
            s = providers.remove(pdev); // pdev->p2pdma = NULL: new allocations fail from here on
        }
        if (s == null) {
            return;
        }
        // p2pdma_unmap_mappings: every process mapping p2pmem/allocate loses its ptes (and page references)
        for (Runnable zap : s.userMappings) {
            try {
                zap.run();
            } catch (RuntimeException ex) {
                LOG.warn("{}: zapping a user mapping failed: {}", pdev.name(), ex.toString());
            }
        }
        s.userMappings.clear();
        s.mappings.forEach(MappingImpl::close);
        if (s.pool.avail() != s.pool.size()) {
            dying.put(pdev, s);
        }
        for (DevPagemap pg : s.pgmaps) {
            try {
                zone.memunmapPages(pg, shuttingDown ? Duration.ZERO : releaseWait);
            } catch (KernelException ex) {
                if (shuttingDown) {
                    LOG.debug("{}: at shutdown: {}", pdev.name(), ex.getMessage());
                } else {
                    LOG.warn("{}: {}", pdev.name(), ex.getMessage());
                }
            }
        }
        s.mapTypes.clear();
        s.ref.close();
        LOG.info("{}: p2pdma released", pdev.name());
    }

    @Override
    public List<String> holders() {
        List<String> out = new ArrayList<>();
        for (ProviderState s : providers.values()) {
            long used = s.pool.size() - s.pool.avail();
            if (used > 0) {
                out.add(s.pdev.name() + ": " + used + " bytes of p2pmem allocated");
            }
        }
        return out;
    }

    private static void live(PciDevice d) {
        if (d == null) {
            throw KernelException.einval("no device given");
        }
        if (d.isRemoved()) {
            throw KernelException.enodev("%s was removed", d.name());
        }
    }
}
