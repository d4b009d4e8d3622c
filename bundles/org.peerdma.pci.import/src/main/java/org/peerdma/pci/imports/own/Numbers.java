package org.peerdma.pci.imports.own;

import java.io.IOException;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

/**
 * Number spellings of the topology file: IDs and addresses in hex ("0x10de"), sizes with
 * binary suffixes ("64G"), and plain decimals everywhere. JSON output stays strict JSON
 * (hex as strings); YAML output writes hex as plain scalars.
 */
final class Numbers {
    private Numbers() {
    }

    /** parse - "0x1f", "31", "64G", "16M", "4K", "1T" (binary multiples). */
    static long parse(String text) {
        String t = text.strip().replace("_", "");
        if (t.isEmpty()) {
            throw new NumberFormatException("empty number");
        }
        long mult = 1;
        char last = Character.toUpperCase(t.charAt(t.length() - 1));
        if (!t.toLowerCase(Locale.ROOT).startsWith("0x")) {
            switch (last) {
                case 'K' -> mult = 1L << 10;
                case 'M' -> mult = 1L << 20;
                case 'G' -> mult = 1L << 30;
                case 'T' -> mult = 1L << 40;
                case 'P' -> mult = 1L << 50;
                default -> mult = 1;
            }
            if (mult != 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        long v = t.toLowerCase(Locale.ROOT).startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16)
                : t.startsWith("-0x") ? -Long.parseLong(t.substring(3), 16) : Long.parseLong(t);
        return Math.multiplyExact(v, mult);
    }

    static long read(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT) {
            return p.getLongValue();
        }
        if (t == JsonToken.VALUE_STRING) {
            try {
                return parse(p.getText());
            } catch (NumberFormatException | ArithmeticException ex) {
                throw new com.fasterxml.jackson.core.JsonParseException(p,
                        "'" + p.getText() + "' is not a number (use 31, 0x1f or a size like 64G)");
            }
        }
        throw new com.fasterxml.jackson.core.JsonParseException(p, "expected a number, found " + t);
    }

    static void writeHex(long v, JsonGenerator g) throws IOException {
        String hex = v < 0 ? "-0x" + Long.toHexString(-v) : "0x" + Long.toHexString(v);
        if (g instanceof YAMLGenerator) {
            g.writeNumber(hex);
        } else {
            g.writeString(hex);
        }
    }

    static void writeSize(long v, JsonGenerator g) throws IOException {
        String[] unit = {"K", "M", "G", "T", "P"};
        long s = v;
        int u = -1;
        while (u < unit.length - 1 && s >= 1024 && s % 1024 == 0) {
            s /= 1024;
            u++;
        }
        if (u < 0) {
            g.writeNumber(v);
        } else {
            g.writeString(s + unit[u]);
        }
    }

    static final class HexInt extends JsonSerializer<Integer> {
        @Override
        public void serialize(Integer v, JsonGenerator g, SerializerProvider sp) throws IOException {
            writeHex(v, g);
        }
    }

    static final class HexLong extends JsonSerializer<Long> {
        @Override
        public void serialize(Long v, JsonGenerator g, SerializerProvider sp) throws IOException {
            writeHex(v, g);
        }
    }

    static final class Size extends JsonSerializer<Long> {
        @Override
        public void serialize(Long v, JsonGenerator g, SerializerProvider sp) throws IOException {
            writeSize(v, g);
        }
    }

    static final class IntIn extends JsonDeserializer<Integer> {
        @Override
        public Integer deserialize(JsonParser p, DeserializationContext c) throws IOException {
            long v = read(p);
            if (v < Integer.MIN_VALUE || v > 0xffffffffL) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, v + " does not fit 32 bits");
            }
            return (int) v;
        }
    }

    /**
     * A string field whose plain YAML scalar may look like a number to the YAML parser
     * ("0000:00:00.0" is a YAML 1.1 sexagesimal): take the raw text.
     */
    static final class Text extends JsonDeserializer<String> {
        @Override
        public String deserialize(JsonParser p, DeserializationContext c) throws IOException {
            if (!p.currentToken().isScalarValue()) {
                return (String) c.handleUnexpectedToken(String.class, p);
            }
            return p.getText();
        }
    }

    /**
     * A PCI address ("0000:03:00.0", "03:00.0"), taken as written (see {@link Text}); one the PCI core cannot read
     * is an error of this line of the file, not of the machine later.
     */
    static final class Address extends JsonDeserializer<String> {
        @Override
        public String deserialize(JsonParser p, DeserializationContext c) throws IOException {
            String t = p.getText();
            try {
                org.peerdma.pci.Bdf.parse(t);
            } catch (org.peerdma.errno.KernelException ex) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, ex.detail());
            }
            return t;
        }
    }

    /** A device must have its address: one without is an error of the line its entry starts on. */
    static final class RequireAddress extends com.fasterxml.jackson.databind.deser.std.DelegatingDeserializer {
        private static final long serialVersionUID = 1L;

        RequireAddress(JsonDeserializer<?> d) {
            super(d);
        }

        @Override
        protected JsonDeserializer<?> newDelegatingInstance(JsonDeserializer<?> d) {
            return new RequireAddress(d);
        }

        @Override
        public Object deserialize(JsonParser p, DeserializationContext c) throws IOException {
            com.fasterxml.jackson.core.JsonLocation at = p.currentTokenLocation();
            Object o = super.deserialize(p, c);
            if (o instanceof org.peerdma.pci.dto.DeviceDTO d && d.bdf == null) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, "a device without 'bdf' (its PCI address)", at);
            }
            return o;
        }
    }

    static final class LongIn extends JsonDeserializer<Long> {
        @Override
        public Long deserialize(JsonParser p, DeserializationContext c) throws IOException {
            return read(p);
        }
    }
}
