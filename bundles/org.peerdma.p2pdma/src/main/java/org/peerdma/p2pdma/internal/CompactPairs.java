package org.peerdma.p2pdma.internal;

import java.util.AbstractList;
import java.util.List;

import org.peerdma.p2pdma.MapType;
import org.peerdma.p2pdma.doctor.MatrixReport;

/**
 * The pairs of a matrix report held as arrays (a byte for the map type and class, an int for the
 * distance), with {@link MatrixReport.Pair} objects made only while a reader walks the list: a
 * 2,000-endpoint matrix has four million pairs.
 */
final class CompactPairs extends AbstractList<MatrixReport.Pair> {
    /** The nvidia-smi classes by index; "X" (a device with itself) is index 6, never a pair's. */
    static final String[] CLASSES = {"PIX", "PXB", "PHB", "NODE", "SYS", "NODE?", "X"};
    private static final MapType[] TYPES = MapType.values();

    final String[] names;
    /** provider index * n + client index, per kept pair; null when every pair is kept, in row order. */
    final int[] index;
    /** Per kept pair: map type ordinal &lt;&lt; 3 | class index. */
    final byte[] code;
    final short[] distance;
    final int size;
    /** Per kept pair, the hardware's write and read (0 yes, 1 no, 2 unknown), or null when not asked. */
    final byte[] write;
    final byte[] read;
    static final String[] ANSWERS = {"yes", "no", "unknown"};

    CompactPairs(String[] names, int[] index, byte[] code, short[] distance, int size, byte[] write, byte[] read) {
        this.names = names;
        this.index = index;
        this.code = code;
        this.distance = distance;
        this.size = size;
        this.write = write;
        this.read = read;
    }

    static byte code(int typeOrdinal, int classIndex) {
        return (byte) (typeOrdinal << 3 | classIndex);
    }

    /** A distance as kept: hops, 0x1000 + hops, -1 or -2 all fit a short. */
    static short distance(int d) {
        if (d != (short) d) {
            throw new IllegalStateException("BUG: distance " + d + " does not fit the matrix");
        }
        return (short) d;
    }

    /** provider index * n + client index of pair k. */
    int pairIndex(int k) {
        if (index != null) {
            return index[k];
        }
        return dense(k, names.length);
    }

    /** provider index * n + client index of the k-th pair of n devices when every pair is kept, in row order. */
    static int dense(int k, int n) {
        int i = k / (n - 1);
        int r = k % (n - 1);
        return i * n + (r < i ? r : r + 1);
    }

    int distanceAt(int k) {
        return distance[k];
    }

    int classIndexAt(int k) {
        return code[k] & 7;
    }

    static byte answerIndex(String a) {
        for (byte i = 0; i < ANSWERS.length; i++) {
            if (ANSWERS[i].equals(a)) {
                return i;
            }
        }
        throw new IllegalStateException("BUG: unknown direction answer " + a);
    }

    /** The write (or read) answer of pair k, or null when directions were not asked for. */
    String writeAt(int k) {
        return write == null ? null : ANSWERS[write[k]];
    }

    String readAt(int k) {
        return read == null ? null : ANSWERS[read[k]];
    }

    static byte classIndex(String c) {
        for (byte i = 0; i < CLASSES.length; i++) {
            if (CLASSES[i].equals(c)) {
                return i;
            }
        }
        throw new IllegalStateException("BUG: unknown path class " + c);
    }

    MapType typeAt(int k) {
        return TYPES[(code[k] >> 3) & 0xf];
    }

    String classAt(int k) {
        return CLASSES[code[k] & 7];
    }

    @Override
    public MatrixReport.Pair get(int k) {
        if (k < 0 || k >= size) {
            throw new IndexOutOfBoundsException(k);
        }
        int n = names.length;
        int at = pairIndex(k);
        MapType t = typeAt(k);
        return new MatrixReport.Pair(names[at / n], names[at % n], DoctorImpl.supported(t), t.name(),
                distance[k], classAt(k), writeAt(k), readAt(k));
    }

    @Override
    public int size() {
        return size;
    }

    static List<MatrixReport.Pair> empty() {
        return new CompactPairs(new String[0], new int[0], new byte[0], new short[0], 0, null, null);
    }
}
