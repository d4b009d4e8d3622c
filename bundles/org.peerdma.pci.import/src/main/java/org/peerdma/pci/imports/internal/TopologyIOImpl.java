package org.peerdma.pci.imports.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;
import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.TopologyIO;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.imports.document.DocumentSplitter;
import org.peerdma.pci.imports.document.LscpuParser;
import org.peerdma.pci.imports.document.NvidiaSmiParser;
import org.peerdma.pci.imports.document.Merger;
import org.peerdma.pci.imports.document.Pasted;
import org.peerdma.pci.imports.document.Section;
import org.peerdma.pci.imports.own.PeerdmaFormat;
import org.peerdma.pci.spi.TopologyImporter;
import org.peerdma.pci.spi.TopologySource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads dumps with whichever importers are registered (whiteboard, best ranking first) and
 * writes the project's own format. A pasted document is split into command sections, each read
 * by the importer its command or content calls for, and the results merged.
 */
@Component(service = TopologyIO.class)
public class TopologyIOImpl implements TopologyIO {
    private static final Logger LOG = LoggerFactory.getLogger("pci.import");
    /** Sections whose command names no topology are skipped; the rest need this probe score. */
    private static final int MIN_PROBE = 30;

    private record Entry(String format, int ranking, long id, TopologyImporter importer) {
    }

    private final Map<Long, Entry> importers = new ConcurrentSkipListMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addImporter(TopologyImporter imp, Map<String, Object> props) {
        Object f = props.get(TopologyImporter.FORMAT);
        if (!(f instanceof String format) || format.isBlank()) {
            LOG.warn("importer {} has no {} property; ignored", imp, TopologyImporter.FORMAT);
            return;
        }
        int rank = props.get(Constants.SERVICE_RANKING) instanceof Integer r ? r : 0;
        long id = (Long) props.get(Constants.SERVICE_ID);
        importers.put(id, new Entry(format, rank, id, imp));
    }

    void removeImporter(TopologyImporter imp, Map<String, Object> props) {
        importers.remove((Long) props.get(Constants.SERVICE_ID));
    }

    private List<Entry> ranked() {
        List<Entry> l = new ArrayList<>(importers.values());
        l.sort(Comparator.comparingInt(Entry::ranking).reversed().thenComparingLong(Entry::id));
        return l;
    }

    @Override
    public List<String> formats() {
        List<String> out = new ArrayList<>();
        for (Entry e : ranked()) {
            if (!out.contains(e.format)) {
                out.add(e.format);
            }
        }
        if (!out.contains(AUTO)) {
            out.add(AUTO);
        }
        return out;
    }

    /** The largest dump or topology file read (a dump of 10,000 functions is about 20 MiB). */
    static final long MAX_FILE = 64L << 20;

    @Override
    public MachineDTO read(Path source, String format) {
        if (source == null) {
            throw KernelException.einval("no topology source given");
        }
        if (!Files.exists(source)) {
            throw new KernelException(Errno.ENOENT, source + ": no such file or directory");
        }
        boolean auto = format == null || AUTO.equals(format);
        if (Files.isDirectory(source)) {
            if (auto && CaptureReader.isCapture(source)) {
                return finish(CaptureReader.read(source, (n, t) -> document(TopologySource.ofText(n, t)),
                        d -> byFormat("sysfs", TopologySource.ofDirectory(d))), source.toString());
            }
            return finish(byFormat(auto ? "sysfs" : format, TopologySource.ofDirectory(source)), source.toString());
        }
        if (!Files.isRegularFile(source)) {
            throw KernelException.einval("%s is not a regular file (a FIFO or device): give a dump, a topology file, "
                    + "a capture or a sysfs directory", source);
        }
        long size;
        try {
            size = Files.size(source);
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, source + ": " + ex.getMessage());
        }
        if (size > MAX_FILE) {
            throw new KernelException(Errno.EFBIG, source + ": " + size + " bytes is larger than the "
                    + (MAX_FILE >> 20) + " MiB a dump can be");
        }
        if (auto && CaptureReader.isArchive(source)) {
            Path tmp;
            try {
                tmp = Files.createTempDirectory("peerdma-capture-");
            } catch (IOException ex) {
                throw new KernelException(Errno.EIO, "cannot unpack " + source + ": " + ex.getMessage());
            }
            try {
                Path dir = CaptureReader.unpack(source, tmp);
                MachineDTO m = CaptureReader.read(dir, (n, t) -> document(TopologySource.ofText(n, t)),
                        d -> byFormat("sysfs", TopologySource.ofDirectory(d)));
                m.source = source.toString();
                return finish(m, source.toString());
            } finally {
                CaptureReader.delete(tmp);
            }
        }
        String text;
        try {
            byte[] bytes = Files.readAllBytes(source);
            text = new String(bytes, StandardCharsets.UTF_8);
            if (text.indexOf('\0') >= 0) {
                throw new TopologyFormatException(source.toString(), 0, "binary file: not a dump this tool reads");
            }
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, source + ": " + ex.getMessage());
        }
        return readText(source.toString(), text, format);
    }

    @Override
    public MachineDTO readText(String name, String text, String format) {
        TopologySource src = TopologySource.ofText(name, text);
        if (text.isBlank()) {
            throw new TopologyFormatException(name, 0, "empty file");
        }
        String f = format == null ? AUTO : format.toLowerCase(Locale.ROOT);
        MachineDTO dto = AUTO.equals(f) ? document(src) : byFormat(f, src);
        return finish(dto, name);
    }

    /**
     * One importer's read: whatever it throws that is not an errno (a parser bug on input nobody foresaw)
     * is a format error of the input, never an internal error of the runtime.
     */
    private static MachineDTO read(Entry e, TopologySource src) {
        try {
            return e.importer.read(src);
        } catch (KernelException ex) {
            throw ex;
        } catch (RuntimeException | StackOverflowError ex) {
            LOG.debug("importer {} failed on {}", e.format, src.name(), ex);
            TopologyFormatException tfe = new TopologyFormatException(src.name(), 0, "cannot read it as " + e.format
                    + ": " + ex.getClass().getSimpleName() + (ex.getMessage() == null ? ""
                            : ": " + org.peerdma.util.Texts.clip(ex.getMessage())));
            tfe.initCause(ex); // what the importer threw, for the log and for tests that look for parser bugs
            throw tfe;
        }
    }

    private MachineDTO byFormat(String format, TopologySource src) {
        for (Entry e : ranked()) {
            if (e.format.equals(format)) {
                MachineDTO m = read(e, src);
                if (m.format == null) {
                    m.format = format;
                }
                return m;
            }
        }
        throw new TopologyFormatException(src.name(), 0, "unknown format '" + format + "' (available: "
                + String.join(", ", formats()) + ")");
    }

    /**
     * A peerdma topology file as a whole (its '#' lines are YAML comments); anything else
     * section by section.
     */
    private MachineDTO document(TopologySource src) {
        Entry whole = ranked().stream().filter(e -> e.format.equals("peerdma")).findFirst().orElse(null);
        if (whole != null && whole.importer.probe(src) >= 90) {
            MachineDTO m = read(whole, src);
            m.format = m.format == null ? whole.format : m.format;
            return m;
        }
        Merger merger = new Merger(caseName(src), src.name());
        Pasted.Result pasted = Pasted.clean(src);
        src = pasted.source();
        pasted.notes().forEach(merger::note);
        List<String> used = new ArrayList<>();
        org.peerdma.pci.dto.DriverTopologyDTO driver = null;
        java.util.Map<Integer, String> busIds = new java.util.LinkedHashMap<>();
        java.util.Map<Boolean, java.util.Map.Entry<List<String>, List<List<String>>>> p2pSections =
                new java.util.LinkedHashMap<>();
        for (Section s : DocumentSplitter.split(src)) {
            TopologySource part = src.slice(s.from(), s.to());
            String label = String.format("%s lines %d-%d%s", shortName(src.name()), part.firstLine(),
                    part.lineNumber(part.lines().size() - 1), s.command().isEmpty() ? "" : " (" + s.command() + ")");
            String cmd = s.command();
            if (isCpuCommand(cmd)) {
                CpuDTO cpu = LscpuParser.parse(part.lines());
                if (cpu != null) {
                    MachineDTO m = new MachineDTO();
                    m.cpu = cpu;
                    merger.add(m, label);
                    used.add("cpu");
                }
                continue;
            }
            String smi = cmd.replaceFirst("^sudo ", "");
            if (NVIDIA_TOPO.matcher(smi).matches()) {
                org.peerdma.pci.dto.DriverTopologyDTO t = NvidiaSmiParser.topo(part.lines());
                if (t != null && driver == null) {
                    driver = t;
                    merger.note(label + ": the NVIDIA driver's view of " + t.names.size() + " devices");
                }
                continue;
            }
            java.util.regex.Matcher p2p = NVIDIA_P2P.matcher(smi);
            if (p2p.matches()) {
                var matrix = NvidiaSmiParser.p2p(part.lines());
                if (matrix != null) {
                    p2pSections.put(p2p.group(1).equals("w"), matrix);
                    merger.note(label + ": the NVIDIA driver's peer access for " + (p2p.group(1).equals("w")
                            ? "writes" : "reads") + " between " + matrix.getKey().size() + " GPUs");
                }
                continue;
            }
            if (smi.equals("nvidia-smi")) {
                NvidiaSmiParser.busIds(part.lines()).forEach(busIds::putIfAbsent);
                continue;
            }
            if (cmd.contains("grep") && cmd.contains("ACSCtl")) {
                merger.note(label + ": " + part.lines().size() + " ACSCtl lines without device addresses ("
                        + (part.lines().stream().allMatch(l -> !l.contains("+")) ? "all bits '-'" : "some bits set")
                        + "); not attributed to devices");
                continue;
            }
            Entry e = forCommand(cmd, part);
            if (e == null) {
                continue;
            }
            MachineDTO m = read(e, part);
            merger.add(m, label);
            used.add(e.format);
        }
        MachineDTO m = merger.result();
        if (m.devices.isEmpty()) {
            throw new TopologyFormatException(src.name(), 0, "no PCI devices found: not a format this tool reads ("
                    + "known: " + String.join(", ", formats()) + ")");
        }
        m.format = used.stream().distinct().reduce((a, b) -> a + "+" + b).orElse("document");
        if (driver == null && !p2pSections.isEmpty()) {
            driver = NvidiaSmiParser.fromP2p(p2pSections.values().iterator().next().getKey());
        }
        for (var e : p2pSections.entrySet()) {
            if (driver != null) {
                NvidiaSmiParser.addP2p(driver, e.getValue(), e.getKey());
            }
        }
        if (driver != null) {
            Enricher.enrich(m); // the IDs pci.ids recovers from names tell the GPUs and NICs apart
            NvidiaSmiParser.attach(m, driver, busIds);
        }
        return m;
    }

    /** DOTALL, as the others: a line separator in a prompt line must not make ".*" backtrack per option. */
    private static final java.util.regex.Pattern CPU_COMMAND =
            java.util.regex.Pattern.compile("(?:sudo )?lscpu(?:\\s.*)?", java.util.regex.Pattern.DOTALL);
    private static final java.util.regex.Pattern NVIDIA_TOPO =
            java.util.regex.Pattern.compile("nvidia-smi\\s+topo\\s+(?:-m|--matrix)\\b.*", java.util.regex.Pattern.DOTALL);
    private static final java.util.regex.Pattern NVIDIA_P2P =
            java.util.regex.Pattern.compile("nvidia-smi\\s+topo\\s+-p2p\\s+([rw])\\b.*", java.util.regex.Pattern.DOTALL);
    private static final java.util.regex.Pattern TREE_COMMAND =
            java.util.regex.Pattern.compile(".*\\s-[a-zA-Z]*t.*", java.util.regex.Pattern.DOTALL);

    private static boolean isCpuCommand(String cmd) {
        return CPU_COMMAND.matcher(cmd).matches() || cmd.contains("/proc/cpuinfo");
    }

    /** Pick the importer a section's command names; without a command, the best probe. */
    private Entry forCommand(String cmd, TopologySource part) {
        String c = cmd.replaceFirst("^sudo ", "");
        if (c.startsWith("lspci")) {
            String want = TREE_COMMAND.matcher(c).matches() ? "lspci-tv" : "lspci-vvv";
            return ranked().stream().filter(e -> e.format.equals(want)).findFirst().orElse(null);
        }
        if (!c.isEmpty() && !c.startsWith("lstopo") && !c.startsWith("hwloc") && !c.startsWith("cat")) {
            return null; // nvidia-smi, gdsio, ...: not a PCI topology
        }
        Entry e = best(part);
        return e != null && e.importer.probe(part) >= MIN_PROBE ? e : null;
    }

    private Entry best(TopologySource src) {
        Entry best = null;
        int score = 0;
        for (Entry e : ranked()) {
            if (e.format.equals("sysfs")) {
                continue;
            }
            int s;
            try {
                s = e.importer.probe(src);
            } catch (RuntimeException ex) {
                LOG.debug("importer {} failed to probe {}", e.format, src.name(), ex);
                continue;
            }
            if (s > score) {
                score = s;
                best = e;
            }
        }
        return best;
    }

    private static String caseName(TopologySource src) {
        for (String l : src.lines()) {
            if (l.startsWith("# CASE:")) {
                return withoutParenthesis(l.substring(7).strip());
            }
            if (!l.startsWith("#")) {
                break;
            }
        }
        return shortName(src.name());
    }

    /**
     * A "# CASE:" name without its final " (remark)": what {@code replaceAll("\\s+\\(.*\\)$", "")} did, without its
     * backtracking over every blank of a long run.
     */
    static String withoutParenthesis(String t) {
        int n = finalTerminator(t); // '$' matches before one
        if (n == 0 || t.charAt(n - 1) != ')') {
            return t;
        }
        int lastTerminator = -1;
        for (int i = 0; i < n; i++) {
            char c = t.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                lastTerminator = i;
            }
        }
        for (int i = t.indexOf('('); i >= 0; i = t.indexOf('(', i + 1)) {
            if (i > 0 && i > lastTerminator && isSpace(t.charAt(i - 1))) {
                int start = i - 1;
                while (start > 0 && isSpace(t.charAt(start - 1))) {
                    start--;
                }
                return t.substring(0, start) + t.substring(n);
            }
        }
        return t;
    }

    /** Where a final line terminator ("\r\n", or one of \n \r U+0085 U+2028 U+2029) starts: the end for '$'. */
    static int finalTerminator(String t) {
        int n = t.length();
        if (n >= 2 && t.charAt(n - 2) == '\r' && t.charAt(n - 1) == '\n') {
            return n - 2;
        }
        if (n >= 1) {
            char c = t.charAt(n - 1);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return n - 1;
            }
        }
        return n;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000b' || c == '\f' || c == '\r';
    }

    private static String shortName(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    /** Fill names from IDs and IDs from names (pci.ids), set defaults. */
    private MachineDTO finish(MachineDTO m, String source) {
        if (m.source == null) {
            m.source = source;
        }
        if (m.name == null) {
            m.name = shortName(source);
        }
        Enricher.enrich(m);
        return m;
    }

    @Override
    public void write(MachineDTO machine, Path target) {
        String syntax = target.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json") ? "json" : "yaml";
        try {
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new KernelException(Errno.ENOENT, parent + ": no such directory");
            }
            Files.writeString(target, format(machine, syntax));
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, target + ": " + ex.getMessage());
        }
    }

    @Override
    public String format(MachineDTO machine, String syntax) {
        return PeerdmaFormat.write(machine, syntax);
    }

    @Override
    public MachineDTO sample() {
        try (InputStream in = TopologyIOImpl.class.getResourceAsStream("/org/peerdma/pci/imports/sample-machine.yaml")) {
            if (in == null) {
                throw new KernelException(Errno.ENOENT, "sample machine resource missing from the bundle");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            MachineDTO m = PeerdmaFormat.parse(TopologySource.ofText("sample-machine.yaml", text));
            m.source = "sample";
            return finish(m, "sample");
        } catch (IOException ex) {
            throw new KernelException(Errno.EIO, "reading the sample machine: " + ex.getMessage());
        }
    }

    @Override
    public MachineDTO host() {
        Path sys = Path.of("/sys");
        Path devs = sys.resolve("bus/pci/devices");
        try (var s = Files.list(devs)) {
            if (s.findAny().isEmpty()) {
                throw new KernelException(Errno.ENOENT, devs + " is empty: no PCI devices visible on this host");
            }
        } catch (IOException ex) {
            throw new KernelException(Errno.ENOENT, devs + " is not readable: " + ex.getMessage());
        }
        MachineDTO m = byFormat("sysfs", TopologySource.ofDirectory(sys));
        return finish(m, "sysfs:/sys");
    }
}
