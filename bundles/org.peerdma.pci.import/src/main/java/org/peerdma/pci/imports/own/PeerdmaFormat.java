package org.peerdma.pci.imports.own;

import java.io.IOException;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import org.peerdma.pci.TopologyFormatException;
import org.peerdma.pci.dto.AcsDTO;
import org.peerdma.pci.dto.BarDTO;
import org.peerdma.pci.dto.CapabilityDTO;
import org.peerdma.pci.dto.CpuDTO;
import org.peerdma.pci.dto.DeviceDTO;
import org.peerdma.pci.dto.HostBridgeDTO;
import org.peerdma.pci.dto.MachineDTO;
import org.peerdma.pci.dto.WindowDTO;
import org.peerdma.pci.imports.document.Quoting;
import org.peerdma.pci.spi.TopologySource;
import org.peerdma.util.Texts;

/**
 * The project's own topology file (docs/topology-format.md): a MachineDTO in YAML or JSON with
 * a {@value #VERSION_KEY} key. Unknown keys are errors, so a typo in a what-if file is caught.
 */
public final class PeerdmaFormat {
    public static final String VERSION_KEY = "peerdma-topology";
    public static final int VERSION = 1;
    /** The largest file read (TopologyIOImpl.MAX_FILE); SnakeYAML's own default is 3 MiB, less than a large machine. */
    private static final int MAX_CODE_POINTS = 64 << 20;
    private static final ObjectMapper YAML = configure(new ObjectMapper(YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .stringQuotingChecker(new LineBreakQuoting()).build()));

    /**
     * Quote a value that holds one of YAML's other line breaks (NEL U+0085, LINE SEPARATOR U+2028, PARAGRAPH
     * SEPARATOR U+2029): written plain, SnakeYAML reads it back as a line break ("mapping values are not allowed
     * here"); double-quoted, the emitter escapes it (\N, \L, \P). Found by the long fuzz run (a device name from an
     * lspci listing with a U+2028 inside).
     */
    static final class LineBreakQuoting extends com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker.Default {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean needToQuoteValue(String value) {
            return super.needToQuoteValue(value) || value.indexOf('\u2028') >= 0 || value.indexOf('\u2029') >= 0
                    || value.indexOf('\u0085') >= 0;
        }
    }
    private static final ObjectMapper JSON = configure(new ObjectMapper()).enable(SerializationFeature.INDENT_OUTPUT);

    private PeerdmaFormat() {
    }

    private static org.yaml.snakeyaml.LoaderOptions loaderOptions() {
        org.yaml.snakeyaml.LoaderOptions o = new org.yaml.snakeyaml.LoaderOptions();
        o.setCodePointLimit(MAX_CODE_POINTS);
        return o;
    }

    private static ObjectMapper configure(ObjectMapper m) {
        // every text as written: the writer leaves "1000:1.5" (a name) unquoted, and Jackson's own String reading
        // takes that YAML 1.1 sexagesimal for a number it cannot parse
        m.registerModule(new com.fasterxml.jackson.databind.module.SimpleModule("peerdma-text")
                .addDeserializer(String.class, new Numbers.Text())
                .setDeserializerModifier(new com.fasterxml.jackson.databind.deser.BeanDeserializerModifier() {
                    @Override
                    public com.fasterxml.jackson.databind.JsonDeserializer<?> modifyDeserializer(
                            com.fasterxml.jackson.databind.DeserializationConfig config,
                            com.fasterxml.jackson.databind.BeanDescription bean,
                            com.fasterxml.jackson.databind.JsonDeserializer<?> deserializer) {
                        return bean.getBeanClass() == DeviceDTO.class ? new Numbers.RequireAddress(deserializer) : deserializer;
                    }
                }));
        m.addMixIn(MachineDTO.class, Mixins.Machine.class);
        m.addMixIn(CpuDTO.class, Mixins.Cpu.class);
        m.addMixIn(HostBridgeDTO.class, Mixins.HostBridge.class);
        m.addMixIn(WindowDTO.class, Mixins.Window.class);
        m.addMixIn(DeviceDTO.class, Mixins.Device.class);
        m.addMixIn(BarDTO.class, Mixins.Bar.class);
        m.addMixIn(CapabilityDTO.class, Mixins.Cap.class);
        m.addMixIn(AcsDTO.class, Mixins.AcsMix.class);
        m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        // "devices: [null]", "bars: [~]": an entry that is not there is an error naming the line, not a null
        // the enumeration trips over later
        m.configOverride(java.util.List.class).setSetterInfo(com.fasterxml.jackson.annotation.JsonSetter.Value
                .forContentNulls(com.fasterxml.jackson.annotation.Nulls.FAIL));
        m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        return m;
    }

    /** probe - 100 when the text carries the version key, else 0. */
    public static int probe(TopologySource src) {
        for (String l : src.lines()) {
            String s = l.strip();
            if (s.startsWith(VERSION_KEY + ":") || s.contains("\"" + VERSION_KEY + "\"")) {
                return 100;
            }
            if (!s.isEmpty() && !s.startsWith("#") && !s.equals("{") && !s.equals("---")) {
                return 0;
            }
        }
        return 0;
    }

    /**
     * parse - read a topology file. Errors: TopologyFormatException naming file and line for bad
     * syntax, an unknown key, a bad number, a missing or unsupported version.
     */
    public static MachineDTO parse(TopologySource src) {
        String text = src.text();
        boolean json = text.stripLeading().startsWith("{");
        ObjectMapper m = json ? JSON : YAML;
        VersionedMachine vm;
        try {
            vm = m.readerFor(VersionedMachine.class).readValue(text);
        } catch (UnrecognizedPropertyException ex) {
            throw new TopologyFormatException(src.name(), line(src, ex.getLocation()), "unknown key '"
                    + Texts.clip(ex.getPropertyName()) + "'" + where(ex.getPath()));
        } catch (JsonProcessingException ex) {
            throw error(src, ex);
        } catch (IOException ex) {
            throw new TopologyFormatException(src.name(), 0, Quoting.clipQuoted(ex.getMessage()));
        }
        if (vm == null) {
            throw new TopologyFormatException(src.name(), src.firstLine(), "empty topology file");
        }
        if (vm.version == null) {
            throw new TopologyFormatException(src.name(), src.firstLine(), "missing '" + VERSION_KEY + ": "
                    + VERSION + "' line");
        }
        if (vm.version != VERSION) {
            throw new TopologyFormatException(src.name(), src.firstLine(), "unsupported " + VERSION_KEY
                    + " version " + vm.version + " (this peerdma reads version " + VERSION + ")");
        }
        MachineDTO dto = new MachineDTO();
        copy(vm, dto);
        if (dto.format == null) {
            dto.format = "peerdma";
        }
        if (dto.source == null) {
            dto.source = src.name();
        }
        return dto;
    }

    private static void copy(MachineDTO from, MachineDTO to) {
        to.name = from.name;
        to.source = from.source;
        to.format = from.format;
        to.arch = from.arch;
        to.cpu = from.cpu;
        to.hostBridges = from.hostBridges;
        to.devices = from.devices;
        to.notes = from.notes;
        to.driverTopology = from.driverTopology;
    }

    /**
     * Where in the file an unknown key is, as the keys and indices leading to it ("devices[3]"), each key clipped;
     * without the unknown key itself, which the message quotes already.
     */
    private static String where(java.util.List<com.fasterxml.jackson.databind.JsonMappingException.Reference> path) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < path.size() - 1; i++) {
            com.fasterxml.jackson.databind.JsonMappingException.Reference r = path.get(i);
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(Texts.clip(r.getFieldName()));
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "" : " (in " + sb + ")";
    }

    /** Jackson names our classes in full: "org.peerdma.pci.dto.DeviceDTO" is a DeviceDTO, the file's root a topology. */
    private static String ourNames(String text) {
        return text.replace("org.peerdma.pci.imports.own.PeerdmaFormat$VersionedMachine", "topology")
                .replace("org.peerdma.pci.imports.own.PeerdmaFormat$", "").replace("org.peerdma.pci.dto.", "");
    }

    private static TopologyFormatException error(TopologySource src, JsonProcessingException ex) {
        String msg = ex.getOriginalMessage() == null ? ex.getClass().getSimpleName() : ex.getOriginalMessage();
        int nl = msg.indexOf('\n');
        if (nl > 0) {
            msg = msg.substring(0, nl);
        }
        return new TopologyFormatException(src.name(), line(src, ex.getLocation()), Quoting.clipQuoted(ourNames(msg)));
    }

    private static int line(TopologySource src, JsonLocation loc) {
        return loc == null || loc.getLineNr() < 1 || src.lines().isEmpty() ? 0
                : src.lineNumber(Math.min(loc.getLineNr() - 1, src.lines().size() - 1));
    }

    /**
     * write - the file text.
     * @param syntax "yaml" or "json"
     */
    public static String write(MachineDTO machine, String syntax) {
        boolean json = "json".equals(syntax.toLowerCase(Locale.ROOT));
        VersionedMachine vm = new VersionedMachine();
        copy(machine, vm);
        vm.version = VERSION;
        try {
            return (json ? JSON : YAML).writeValueAsString(vm);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("cannot write topology: " + ex.getOriginalMessage(), ex);
        }
    }

    /** MachineDTO plus the version key, for the strict pass. */
    @com.fasterxml.jackson.annotation.JsonPropertyOrder({VERSION_KEY, "name", "source", "format", "arch", "cpu",
        "hostBridges", "devices", "notes"})
    public static final class VersionedMachine extends MachineDTO {
        @com.fasterxml.jackson.annotation.JsonProperty(VERSION_KEY)
        public Integer version;
    }
}
