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
    static final String[] CLASSES = {"PIX", "PXB", "PHB", "NODE", "SYS", "NODE?"};
    private static final MapType[] TYPES = MapType.values();

    final String[] names;
    /** provider index * n + client index, per kept pair. */
    final int[] index;
    final byte[] type;
    final byte[] cls;
    final int[] distance;
    final int size;
    /** Per kept pair, the hardware's write and read (0 yes, 1 no, 2 unknown), or null when not asked. */
    final byte[] write;
    final byte[] read;
    static final String[] ANSWERS = {"yes", "no", "unknown"};

    CompactPairs(String[] names, int[] index, byte[] type, byte[] cls, int[] distance, int size) {
        this(names, index, type, cls, distance, size, null, null);
    }

    CompactPairs(String[] names, int[] index, byte[] type, byte[] cls, int[] distance, int size, byte[] write,
            byte[] read) {
        this.names = names;
        this.index = index;
        this.type = type;
        this.cls = cls;
        this.distance = distance;
        this.size = size;
        this.write = write;
        this.read = read;
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
        return TYPES[type[k]];
    }

    String classAt(int k) {
        return CLASSES[cls[k]];
    }

    @Override
    public MatrixReport.Pair get(int k) {
        if (k < 0 || k >= size) {
            throw new IndexOutOfBoundsException(k);
        }
        int n = names.length;
        MapType t = typeAt(k);
        return new MatrixReport.Pair(names[index[k] / n], names[index[k] % n], DoctorImpl.supported(t), t.name(),
                distance[k], classAt(k), writeAt(k), readAt(k));
    }

    @Override
    public int size() {
        return size;
    }

    static List<MatrixReport.Pair> empty() {
        return new CompactPairs(new String[0], new int[0], new byte[0], new byte[0], new int[0], 0);
    }
}
