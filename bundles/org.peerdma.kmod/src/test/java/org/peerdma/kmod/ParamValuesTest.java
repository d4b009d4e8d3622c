package org.peerdma.kmod;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.service.metatype.AttributeDefinition;
import org.peerdma.errno.Errno;
import org.peerdma.errno.KernelException;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Module parameter values (kernel/params.c, lib/kstrtox.c) checked against metatype as Felix's
 * MetaType service checks them: what a value becomes, and the errno and message of each refusal.
 */
class ParamValuesTest {
    /** An attribute as Felix's MetaType service describes it (its own validation, not a copy of it). */
    static AttributeDefinition ad(String id, String type, String def, String min, String max, String... options) {
        org.apache.felix.metatype.AD f = new org.apache.felix.metatype.AD();
        f.setID(id);
        f.setName(id);
        f.setType(type);
        if (def != null) {
            f.setDefaultValue(def);
        }
        f.setMin(min);
        f.setMax(max);
        if (options.length > 0) {
            Map<String, String> o = new LinkedHashMap<>();
            for (String v : options) {
                o.put(v, v);
            }
            f.setOptions(o);
        }
        f.setDescription(id.equals("release_wait_ms") ? "how long a release waits" : null);
        return new AttributeDefinition() {
            @Override
            public String getName() {
                return f.getName();
            }

            @Override
            public String getID() {
                return f.getID();
            }

            @Override
            public String getDescription() {
                return f.getDescription();
            }

            @Override
            public int getCardinality() {
                return f.getCardinality();
            }

            @Override
            public int getType() {
                return f.getType();
            }

            @Override
            public String[] getOptionValues() {
                return f.getOptionValues();
            }

            @Override
            public String[] getOptionLabels() {
                return f.getOptionLabels();
            }

            @Override
            public String validate(String value) {
                return f.validate(value);
            }

            @Override
            public String[] getDefaultValue() {
                return f.getDefaultValue();
            }
        };
    }

    static final AttributeDefinition WAIT = ad("release_wait_ms", "Integer", "5000", "0", null);
    static final AttributeDefinition VERSION = ad("kernel_version", "String", "newest", null, null, "newest", "v5.x",
            "v5.2", "v4.20");
    static final AttributeDefinition FLAG = ad("verbose", "Boolean", "false", null, null);
    static final AttributeDefinition CMDLINE = ad("pci", "String", "", null, null);
    static final AttributeDefinition BIG = ad("limit", "Long", "65536", null, null);
    static final AttributeDefinition SMALL = ad("order", "Short", "0", null, null);
    static final AttributeDefinition TINY = ad("level", "Byte", "0", null, null);

    private static KernelException kex(Runnable r) {
        try {
            r.run();
        } catch (KernelException e) {
            return e;
        }
        throw new AssertionError("no KernelException");
    }

    private static Errno refused(AttributeDefinition ad, String v) {
        return kex(() -> ParamValues.value("m", ad, v)).errno();
    }

    @Test
    void integersAreReadAsKstrtointReadsThem() {
        assertThat(ParamValues.value("p2pdma", WAIT, "250")).isEqualTo(250);
        assertThat(ParamValues.value("p2pdma", WAIT, "0x10")).as("0x: hexadecimal").isEqualTo(16);
        assertThat(ParamValues.value("p2pdma", WAIT, "010")).as("a leading 0: octal").isEqualTo(8);
        assertThat(ParamValues.value("p2pdma", WAIT, "+7")).isEqualTo(7);
        assertThat(ParamValues.value("p2pdma", WAIT, "7\n")).as("one newline, as echo writes").isEqualTo(7);
        assertThat(ParamValues.value("p2pdma", WAIT, "0")).isEqualTo(0);
        assertThat(ParamValues.value("p2pdma", WAIT, "2147483647")).isEqualTo(Integer.MAX_VALUE);
        for (String bad : new String[] {"", "abc", "12abc", " 5", "5 ", "08", "0x", "0xg", "1e3", "5\n\n", "#10", "+-5",
            "--5", "-", "1_000", "５"}) {
            assertThat(refused(WAIT, bad)).as("'%s'", bad).isEqualTo(Errno.EINVAL);
        }
        for (String big : new String[] {"2147483648", "99999999999", "0x100000000", "18446744073709551616",
            "99999999999999999999999x", "-9223372036854775809"}) {
            assertThat(refused(WAIT, big)).as("'%s'", big).isEqualTo(Errno.ERANGE);
        }
        KernelException neg = kex(() -> ParamValues.value("p2pdma", WAIT, "-5"));
        assertThat(neg.errno()).as("the metatype's minimum").isEqualTo(Errno.EINVAL);
        assertThat(neg.getMessage()).isEqualTo("EINVAL: p2pdma: bad value '-5' for release_wait_ms: less than minimum "
                + "(an integer, default 5000; how long a release waits)");
        assertThat(kex(() -> ParamValues.value("p2pdma", WAIT, "99999999999")).getMessage())
                .isEqualTo("ERANGE: p2pdma: bad value '99999999999' for release_wait_ms: out of range for an int "
                        + "(an integer, default 5000; how long a release waits)");
        assertThat(kex(() -> ParamValues.value("p2pdma", WAIT, "soon")).getMessage())
                .startsWith("EINVAL: p2pdma: bad value 'soon' for release_wait_ms: not a number");
    }

    @Test
    void widerAndNarrowerIntegerTypesHaveTheirOwnRanges() {
        assertThat(ParamValues.value("m", BIG, "9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(ParamValues.value("m", BIG, "-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(ParamValues.value("m", BIG, "-0x10")).isEqualTo(-16L);
        assertThat(refused(BIG, "9223372036854775808")).isEqualTo(Errno.ERANGE);
        assertThat(ParamValues.value("m", SMALL, "-32768")).isEqualTo((short) -32768);
        assertThat(refused(SMALL, "32768")).isEqualTo(Errno.ERANGE);
        // param_set_byte is kstrtou8: 0..255, no sign ("-1" is EINVAL, as _parse_integer sees no digit)
        assertThat(ParamValues.value("m", TINY, "127")).isEqualTo((byte) 127);
        assertThat(ParamValues.value("m", TINY, "128")).isEqualTo((byte) 128);
        assertThat(ParamValues.value("m", TINY, "255")).as("stored as the byte of the same bits").isEqualTo((byte) 0xFF);
        assertThat(ParamValues.value("m", TINY, "0xff")).isEqualTo((byte) 0xFF);
        assertThat(ParamValues.value("m", TINY, "+7")).isEqualTo((byte) 7);
        assertThat(ParamValues.value("m", TINY, "0")).isEqualTo((byte) 0);
        assertThat(refused(TINY, "256")).isEqualTo(Errno.ERANGE);
        assertThat(refused(TINY, "0x100")).isEqualTo(Errno.ERANGE);
        for (String bad : new String[] {"-1", "-0", "-128", "+-1", "x"}) {
            assertThat(refused(TINY, bad)).as("'%s'", bad).isEqualTo(Errno.EINVAL);
        }
        assertThat(kex(() -> ParamValues.value("m", TINY, "300")).getMessage())
                .startsWith("ERANGE: m: bad value '300' for level: out of range for a byte (0..255)");
        assertThat(ParamValues.typeName(BIG.getType())).isEqualTo("long");
        assertThat(ParamValues.typeName(SMALL.getType())).isEqualTo("short");
        assertThat(ParamValues.typeName(TINY.getType())).isEqualTo("byte");
        assertThat(ParamValues.typeName(WAIT.getType())).isEqualTo("int");
        assertThat(ParamValues.typeName(FLAG.getType())).isEqualTo("bool");
        assertThat(ParamValues.typeName(CMDLINE.getType())).isEqualTo("charp");
    }

    @Property
    void everyLongReadsBackInEachBase(@ForAll long n) throws Exception {
        assertThat(ParamValues.kstrtoll(Long.toString(n))).isEqualTo(BigInteger.valueOf(n));
        String sign = n < 0 ? "-" : "";
        BigInteger abs = BigInteger.valueOf(n).abs();
        assertThat(ParamValues.kstrtoll(sign + "0x" + abs.toString(16))).isEqualTo(BigInteger.valueOf(n));
        assertThat(ParamValues.kstrtoll(sign + "0" + abs.toString(8))).isEqualTo(BigInteger.valueOf(n));
    }

    @Test
    void boolsAreReadAsKstrtoboolReadsThem() {
        for (String t : new String[] {"1", "y", "Y", "yes", "t", "true", "TRUE", "on", "ON", "1abc"}) {
            assertThat(ParamValues.value("m", FLAG, t)).as("'%s'", t).isEqualTo(true);
        }
        for (String f : new String[] {"0", "n", "N", "no", "f", "false", "off", "OFF"}) {
            assertThat(ParamValues.value("m", FLAG, f)).as("'%s'", f).isEqualTo(false);
        }
        for (String bad : new String[] {"", "o", "ok", "2", "maybe", " y", "-1"}) {
            assertThat(refused(FLAG, bad)).as("'%s'", bad).isEqualTo(Errno.EINVAL);
        }
        assertThat(ParamValues.value("m", FLAG, null)).as("a bool named without a value (param_set_bool)").isEqualTo(true);
        assertThat(ParamValues.value("m", FLAG, null, true)).as("at load: parse_args gives a NULL value").isEqualTo(true);
        KernelException runtime = kex(() -> ParamValues.value("m", FLAG, null, false));
        assertThat(runtime.errno()).as("a sysfs store always has a string").isEqualTo(Errno.EINVAL);
        assertThat(runtime.getMessage()).isEqualTo("EINVAL: m: parameter verbose needs a value (verbose=...): a bare name "
                + "means true only at load time (modprobe)");
        assertThat(refused(FLAG, "")).as("what an empty sysfs store gives").isEqualTo(Errno.EINVAL);
        assertThat(ParamValues.value("m", FLAG, "n", false)).isEqualTo(false);
        assertThat(kex(() -> ParamValues.value("m", FLAG, "maybe")).getMessage())
                .isEqualTo("EINVAL: m: bad value 'maybe' for verbose: not a boolean (y/n, 1/0, on/off or true/false, "
                        + "default false)");
    }

    @Test
    void stringsAreAtMostOneKilobyteAndMustBeAnOptionWhenThereAreOptions() {
        assertThat(ParamValues.value("p2pdma", VERSION, "v5.2")).isEqualTo("v5.2");
        KernelException e = kex(() -> ParamValues.value("p2pdma", VERSION, "bogus"));
        assertThat(e.getMessage()).isEqualTo("EINVAL: p2pdma: bad value 'bogus' for kernel_version: not a valid option "
                + "(one of: newest, v5.x, v5.2, v4.20)");
        String kb = "x".repeat(ParamValues.MAX_CHARP);
        assertThat(ParamValues.value("pci", CMDLINE, kb)).isEqualTo(kb);
        KernelException tooLong = kex(() -> ParamValues.value("pci", CMDLINE, kb + "x"));
        assertThat(tooLong.errno()).as("param_set_charp").isEqualTo(Errno.ENOSPC);
        assertThat(tooLong.getMessage()).isEqualTo("ENOSPC: pci: string parameter pci too long (1025 bytes, at most 1024)");
        // strlen counts bytes: 512 two-byte characters fit, 513 do not (1026 bytes, though 513 UTF-16 chars)
        String twoByte = "\u00e9".repeat(512);
        assertThat(ParamValues.value("pci", CMDLINE, twoByte)).isEqualTo(twoByte);
        assertThat(kex(() -> ParamValues.value("pci", CMDLINE, twoByte + "\u00e9")).getMessage())
                .isEqualTo("ENOSPC: pci: string parameter pci too long (1026 bytes, at most 1024)");
        assertThat(refused(CMDLINE, "\ud83d\ude00".repeat(257))).as("4 bytes each: 1028").isEqualTo(Errno.ENOSPC);
        assertThat(ParamValues.value("pci", CMDLINE, "")).isEqualTo("");
        KernelException noValue = kex(() -> ParamValues.value("pci", CMDLINE, null));
        assertThat(noValue.getMessage()).isEqualTo("EINVAL: pci: parameter pci needs a value (pci=...)");
        assertThat(refused(WAIT, null)).isEqualTo(Errno.EINVAL);
        assertThat(kex(() -> ParamValues.value("pci", VERSION, "y".repeat(5000))).getMessage()).as("quoted at most 80")
                .hasSizeLessThan(300);
    }

    @Test
    void wordsAreSplitAtTheFirstEqualsSign() {
        assertThat(ParamValues.parse(new String[] {"pci=disable_acs_redir=0000:02:08.0;0000:02:09.0", "verbose", "x="}))
                .containsExactly(Map.entry("pci", "disable_acs_redir=0000:02:08.0;0000:02:09.0"),
                        new java.util.AbstractMap.SimpleEntry<>("verbose", null), Map.entry("x", ""));
        assertThat(ParamValues.parse(new String[] {"a=1", "b=2", "a=3"})).as("the last one wins, in its place")
                .containsExactly(Map.entry("b", "2"), Map.entry("a", "3"));
        assertThat(ParamValues.parse(null)).isEmpty();
        assertThat(ParamValues.parse(new String[0])).isEmpty();
        for (String bad : new String[] {"=5", ""}) {
            assertThat(kex(() -> ParamValues.parse(new String[] {bad})).getMessage())
                    .isEqualTo("EINVAL: '" + bad + "' is not param=value");
        }
        assertThat(ParamValues.sameName("kernel-version", "kernel_version")).as("parameq: - is _").isTrue();
        assertThat(ParamValues.sameName("kernel_version", "kernel-version")).isTrue();
        assertThat(ParamValues.sameName("kernel_versions", "kernel_version")).isFalse();
    }
}
