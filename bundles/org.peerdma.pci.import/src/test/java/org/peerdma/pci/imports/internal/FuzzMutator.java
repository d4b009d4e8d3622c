package org.peerdma.pci.imports.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The mutations of the fuzz test, on the bytes of a text. Each one is a record of small numbers that are read
 * modulo what they index (a line, a byte, a token), so that any value is valid and shrinking a number gives a
 * simpler input. A mutation that would make the input larger than {@link #MAX_SIZE} is skipped.
 */
final class FuzzMutator {
    /** The largest input a mutation makes (bytes). */
    static final int MAX_SIZE = 2 << 20;

    enum Op {
        /** Delete 1..64 bytes (1..4096 when c is odd). */
        DELETE_BYTES,
        /** Insert 1..8 pseudo-random bytes. */
        INSERT_BYTES,
        /** Flip one bit. */
        FLIP_BIT,
        /** Keep only a prefix. */
        TRUNCATE,
        /** Cut one line at a column. */
        CUT_LINE,
        /** Delete 1..8 lines. */
        DELETE_LINES,
        /** Repeat 1..8 lines once, twice or (rarely) a thousand times. */
        DUPLICATE_LINES,
        /** Swap two lines. */
        SWAP_LINES,
        /** Insert 1..40 lines of another seed (another format, often). */
        SPLICE,
        /** Replace a number or hex field with a huge, negative, out-of-range or malformed one. */
        REPLACE_NUMBER,
        /** Insert a token of one character repeated 10 to 1,000,000 times. */
        LONG_TOKEN,
        /** Repeat a piece of a line (1..40 characters) up to 100,000 times in place. */
        REPEAT_PIECE,
        /** Insert NUL, CR, escape sequences, a byte-order mark, a Unicode line separator... */
        CONTROL,
        /** Insert bytes that are not UTF-8. */
        NON_UTF8,
        /**
         * Insert a deeply nested construct: XML elements, YAML/JSON brackets, a chain of lspci -t bridges, indentation;
         * or XML entities that expand ten-fold per level, or name a file outside.
         */
        DEEP_NESTING
    }

    /** One mutation: the operation and three numbers it reads modulo what they index. */
    record Mutation(Op op, int a, int b, int c) {
        @Override
        public String toString() {
            return op + "(" + a + "," + b + "," + c + ")";
        }
    }

    static final String[] NUMBERS = {"99999999999999999999999999", "4294967296", "2147483648", "-1", "-2147483649",
        "18446744073709551616", "ffffffffffffffffff", "0x", "1e309", "NaN", "Infinity", "0", "00000000000000000000001",
        "fff", "100", "1ff", "10000", "-0", "+1", "\u0663", "0x8000000000000000", "7fffffff", "ffffffff", "-ff",
        "9223372036854775808", "1.5", "", "g0", "0xG", "256", "-2147483648", "1e3", "00", "999", "1024", "33"};
    static final char[] CHARS = {'x', '9', 'f', ' ', '\t', '[', '(', '<', '"', '-', '|', '.', ',', ':', '=', '\\', '\u2026',
        '\u00e9', '+', '#', '{', '>', '/', ']', '\'', '0'};
    static final int[] LENGTHS = {10, 81, 100, 300, 1000, 5000, 10_000, 100_000, 1_000_000};
    static final String[] CONTROLS = {"\0", "\r", "\t", "\u001b[31m", "\u001b]0;title\u0007", "\uFEFF", "\u2028", "\u0085",
        "\r\n", "\f", "\u000b", "\u001b", "\0\0\0\0", "\n\n\n", "\u202e", "\ud800", "\udfff"};
    static final byte[][] NON_UTF8 = {{(byte) 0xff}, {(byte) 0xc3}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
        {(byte) 0xc0, (byte) 0x80}, {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xfe, (byte) 0xff},
        {(byte) 0x80}, {(byte) 0xe2, (byte) 0x80}};
    static final int[] DEPTHS = {10, 100, 300, 1000, 3000, 10_000, 30_000};

    private FuzzMutator() {
    }

    /**
     * apply - the mutations in order.
     * @param other the bytes of the seed number {@code b} of a SPLICE, any seed
     */
    static byte[] apply(byte[] in, List<Mutation> ms, java.util.function.IntFunction<byte[]> other) {
        byte[] b = in;
        for (Mutation m : ms) {
            byte[] r = apply(b, m, other);
            if (r.length <= MAX_SIZE) {
                b = r;
            }
        }
        return b;
    }

    static byte[] apply(byte[] b, Mutation m, java.util.function.IntFunction<byte[]> other) {
        int n = b.length;
        int a = Math.abs(m.a());
        int p = n == 0 ? 0 : a % (n + 1);
        int[] lines = lineStarts(b);
        int nl = lines.length;
        int line = a % nl;
        switch (m.op()) {
            case DELETE_BYTES -> {
                int len = 1 + Math.abs(m.b()) % ((m.c() & 1) == 1 ? 4096 : 64);
                return splice(b, p, Math.min(n, p + len), new byte[0]);
            }
            case INSERT_BYTES -> {
                java.util.Random r = new java.util.Random(m.b() * 31L + m.c());
                byte[] x = new byte[1 + Math.abs(m.c()) % 8];
                r.nextBytes(x);
                return splice(b, p, p, x);
            }
            case FLIP_BIT -> {
                if (n == 0) {
                    return b;
                }
                byte[] r = b.clone();
                r[a % n] ^= (byte) (1 << (Math.abs(m.b()) % 8));
                return r;
            }
            case TRUNCATE -> {
                return java.util.Arrays.copyOf(b, p);
            }
            case CUT_LINE -> {
                int s = lines[line];
                int e = lineEnd(b, s);
                int cut = s + (e == s ? 0 : Math.abs(m.b()) % (e - s));
                return splice(b, cut, e, new byte[0]);
            }
            case DELETE_LINES -> {
                int end = Math.min(nl, line + 1 + Math.abs(m.b()) % 8);
                return splice(b, lines[line], end < nl ? lines[end] : n, new byte[0]);
            }
            case DUPLICATE_LINES -> {
                int end = Math.min(nl, line + 1 + Math.abs(m.b()) % 8);
                byte[] piece = withNewline(java.util.Arrays.copyOfRange(b, lines[line], end < nl ? lines[end] : n));
                int times = Math.abs(m.c()) % 16 == 0 ? 1000 : 1 + Math.abs(m.c()) % 2;
                return splice(b, lines[line], lines[line], repeat(piece, times));
            }
            case SWAP_LINES -> {
                int other2 = Math.abs(m.b()) % nl;
                int i = Math.min(line, other2);
                int j = Math.max(line, other2);
                if (i == j) {
                    return b;
                }
                byte[] li = withNewline(java.util.Arrays.copyOfRange(b, lines[i], lineEnd(b, lines[i])));
                byte[] lj = withNewline(java.util.Arrays.copyOfRange(b, lines[j], lineEnd(b, lines[j])));
                ByteArrayOutputStream out = new ByteArrayOutputStream(n + 2);
                out.write(b, 0, lines[i]);
                out.writeBytes(lj);
                int afterI = next(b, lines, i);
                out.write(b, afterI, lines[j] - afterI);
                out.writeBytes(li);
                int afterJ = next(b, lines, j);
                out.write(b, afterJ, n - afterJ);
                return out.toByteArray();
            }
            case SPLICE -> {
                byte[] o = other.apply(m.b());
                int[] ol = lineStarts(o);
                int from = Math.abs(m.c()) % ol.length;
                int to = Math.min(ol.length, from + 1 + Math.abs(m.c() / 7) % 40);
                byte[] piece = withNewline(java.util.Arrays.copyOfRange(o, ol[from], to < ol.length ? ol[to] : o.length));
                return splice(b, lines[line], lines[line], piece);
            }
            case REPLACE_NUMBER -> {
                int[] tok = numberToken(b, Math.abs(m.b()));
                byte[] v = NUMBERS[Math.abs(m.c()) % NUMBERS.length].getBytes(StandardCharsets.UTF_8);
                if (tok == null) {
                    return splice(b, p, p, v);
                }
                return splice(b, tok[0], tok[1], v);
            }
            case LONG_TOKEN -> {
                char ch = CHARS[Math.abs(m.b()) % CHARS.length];
                int len = LENGTHS[biased(m.c(), LENGTHS.length)];
                return splice(b, p, p, String.valueOf(ch).repeat(len).getBytes(StandardCharsets.UTF_8));
            }
            case REPEAT_PIECE -> {
                int s = lines[line];
                int e = lineEnd(b, s);
                if (e == s) {
                    return b;
                }
                int from = s + Math.abs(m.b()) % (e - s);
                int to = Math.min(e, from + 1 + Math.abs(m.b() / 13) % 40);
                int times = LENGTHS[biased(m.c(), LENGTHS.length - 1)];
                byte[] piece = java.util.Arrays.copyOfRange(b, from, to);
                return splice(b, from, from, repeat(piece, Math.min(times, MAX_SIZE / 2 / piece.length)));
            }
            case CONTROL -> {
                return splice(b, p, p, CONTROLS[Math.abs(m.b()) % CONTROLS.length].getBytes(StandardCharsets.UTF_8));
            }
            case NON_UTF8 -> {
                return splice(b, p, p, NON_UTF8[Math.abs(m.b()) % NON_UTF8.length]);
            }
            case DEEP_NESTING -> {
                int depth = DEPTHS[biased(m.c(), DEPTHS.length)];
                return splice(b, lines[line], lines[line], nesting(Math.abs(m.b()), depth).getBytes(StandardCharsets.UTF_8));
            }
            default -> throw new IllegalStateException(m.op().toString());
        }
    }

    /**
     * An index into n sizes, small ones far more often: half the time one of the first three, rarely the last
     * (large inputs find what is not linear; small ones find the rest, many times faster).
     */
    static int biased(int c, int n) {
        int r = Math.floorMod(c, 64);
        int i = r < 32 ? r % 3 : r < 48 ? 3 + r % 2 : r < 56 ? 5 : r < 60 ? 6 : r < 62 ? 7 : 8;
        return Math.min(i, n - 1);
    }

    /** The nested construct number {@code kind}, {@code depth} levels deep. */
    static String nesting(int kind, int depth) {
        return NESTINGS.computeIfAbsent(kind % 14 * 1_000_000 + depth, k -> makeNesting(kind, depth));
    }

    private static final java.util.Map<Integer, String> NESTINGS = new java.util.concurrent.ConcurrentHashMap<>();

    private static String makeNesting(int kind, int depth) {
        StringBuilder sb = new StringBuilder();
        switch (kind % 14) {
            case 0 -> sb.append("<object type=\"Misc\">".repeat(depth)).append('\n').append("</object>".repeat(depth));
            case 1 -> {
                for (int i = 0; i < depth; i++) {
                    sb.append(String.format(Locale.ROOT, "<object type=\"PCIDev\" pci_busid=\"0000:%02x:%02x.%d\""
                            + " pci_type=\"0200 [8086:1572] [8086:0000] 01\">%n", 1 + i / 256 % 255, i / 8 % 32, i % 8));
                }
                sb.append("</object>\n".repeat(depth));
            }
            case 2 -> {
                for (int i = 0; i < depth; i++) {
                    sb.append(String.format(Locale.ROOT, "<pci busid=\"0000:%02x:%02x.%d\" class=\"0x060400\">%n",
                            Math.min(255, 1 + i), i / 8 % 32, i % 8));
                }
                sb.append("</pci>\n".repeat(depth));
            }
            case 3 -> sb.append("<a>".repeat(depth)).append("</a>".repeat(depth));
            case 4 -> sb.append("[".repeat(depth)).append("]".repeat(depth));
            case 5 -> sb.append("{\"a\":".repeat(depth)).append("1").append("}".repeat(depth));
            case 6 -> sb.append("{a: ".repeat(depth)).append("1").append("}".repeat(depth));
            case 7 -> {
                // a chain of bridges on one lspci -t line, every address distinct (buses 01..ff, again and again)
                sb.append("-[0000:00]---");
                for (int i = 0; i < depth; i++) {
                    int round = i / 255;
                    sb.append(String.format(Locale.ROOT, "%02x.%d-[%02x]----", round / 8 % 32, round % 8, 1 + i % 255));
                }
                sb.append("1f.7");
            }
            case 8 -> {
                // lstopo -v indentation, each object one level deeper (bounded: the text grows as depth squared)
                int d = Math.min(depth, 2000);
                for (int i = 0; i < d; i++) {
                    sb.append(" ".repeat(i)).append(String.format(Locale.ROOT,
                            "PCIBridge L#%d (busid=0000:%02x:%02x.%d id=10b5:8747 class=0604(PCIBridge) buses=0000:[%02x-ff])%n",
                            i, 1 + i / 256 % 255, i / 8 % 32, i % 8, 1 + (i + 1) / 256 % 255));
                }
            }
            case 9 -> {
                // YAML block nesting (bounded like the indentation above)
                int d = Math.min(depth, 2000);
                for (int i = 0; i < d; i++) {
                    sb.append("  ".repeat(i)).append("- \n");
                }
            }
            case 10 -> sb.append("(".repeat(depth)).append(")".repeat(depth));
            case 12 -> {
                // "billion laughs": entities that expand to ten of the one before (depth picks how many levels)
                int levels = Math.min(12, 2 + Integer.numberOfTrailingZeros(Integer.highestOneBit(depth)) / 2);
                sb.append("<!DOCTYPE topology [\n<!ENTITY l0 \"lol\">\n");
                for (int i = 1; i <= levels; i++) {
                    sb.append("<!ENTITY l").append(i).append(" \"").append(("&l" + (i - 1) + ";").repeat(10)).append("\">\n");
                }
                sb.append("]>\n<info name=\"x\" value=\"&l").append(levels).append(";\"/>");
            }
            case 13 -> sb.append("<!DOCTYPE topology [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<info name=\"x\" value=\"&x;\"/>");
            default -> sb.append("<!--".repeat(depth)).append("-->".repeat(depth));
        }
        return sb.append('\n').toString();
    }

    /** Start offsets of the lines (at least one: an empty text is one empty line). */
    static int[] lineStarts(byte[] b) {
        int[] r = new int[16];
        int n = 1;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '\n' && i + 1 < b.length) {
                if (n == r.length) {
                    r = java.util.Arrays.copyOf(r, n * 2);
                }
                r[n++] = i + 1;
            }
        }
        return java.util.Arrays.copyOf(r, n);
    }

    private static int lineEnd(byte[] b, int start) {
        int e = start;
        while (e < b.length && b[e] != '\n') {
            e++;
        }
        return e;
    }

    private static int next(byte[] b, int[] lines, int i) {
        return i + 1 < lines.length ? lines[i + 1] : b.length;
    }

    /** The k-th (modulo their count) run of hex digits, or null when there is none. */
    private static int[] numberToken(byte[] b, int k) {
        List<int[]> toks = new ArrayList<>();
        int i = 0;
        while (i < b.length && toks.size() < 100_000) {
            if (Character.digit(b[i], 16) >= 0 && (i == 0 || !Character.isLetterOrDigit(b[i - 1]))) {
                int j = i;
                while (j < b.length && Character.digit(b[j], 16) >= 0) {
                    j++;
                }
                if (j == b.length || !Character.isLetter(b[j]) || b[j] == 'x') {
                    toks.add(new int[] {i, j});
                }
                i = j;
            } else {
                i++;
            }
        }
        return toks.isEmpty() ? null : toks.get(k % toks.size());
    }

    private static byte[] withNewline(byte[] x) {
        if (x.length > 0 && x[x.length - 1] == '\n') {
            return x;
        }
        byte[] r = java.util.Arrays.copyOf(x, x.length + 1);
        r[x.length] = '\n';
        return r;
    }

    private static byte[] repeat(byte[] piece, int times) {
        long total = (long) piece.length * times;
        if (total > MAX_SIZE) {
            times = (int) (MAX_SIZE / Math.max(1, piece.length));
        }
        byte[] r = new byte[piece.length * times];
        for (int i = 0; i < times; i++) {
            System.arraycopy(piece, 0, r, i * piece.length, piece.length);
        }
        return r;
    }

    static byte[] splice(byte[] b, int from, int to, byte[] insert) {
        if ((long) b.length - (to - from) + insert.length > MAX_SIZE) {
            return b;
        }
        byte[] r = new byte[b.length - (to - from) + insert.length];
        System.arraycopy(b, 0, r, 0, from);
        System.arraycopy(insert, 0, r, from, insert.length);
        System.arraycopy(b, to, r, from + insert.length, b.length - to);
        return r;
    }
}
