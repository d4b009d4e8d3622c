package org.peerdma.hyperdmabuf;

import java.util.Arrays;

/**
 * hyper_dmabuf_id_t: {@code id = ((domid & 0xFF) << 24) | (count & 0xFFFFFF)} and 12 random key
 * bytes, fresh at every export (a reused id gets a new key). Two ids are the same buffer only when
 * id and key match (hyper_dmabuf_hid_keycomp).
 */
public record HyperDmabufId(int id, int[] rngKey) {
    /** What id exhaustion returns: {-1, {0,0,0}}. */
    public static final HyperDmabufId INVALID = new HyperDmabufId(-1, new int[3]);

    public HyperDmabufId {
        rngKey = rngKey.clone();
        if (rngKey.length != 3) {
            throw new IllegalArgumentException("rng_key has 3 ints");
        }
    }

    /** @return the exporting domain: (id >> 24) &amp; 0xFF. */
    public int exporterDomid() {
        return (id >> 24) & 0xFF;
    }

    /** @return the count part. */
    public int count() {
        return id & 0xFFFFFF;
    }

    @Override
    public int[] rngKey() {
        return rngKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HyperDmabufId h && h.id == id && Arrays.equals(h.rngKey, rngKey);
    }

    @Override
    public int hashCode() {
        return id * 31 + Arrays.hashCode(rngKey);
    }

    @Override
    public String toString() {
        return String.format("%#x:%08x%08x%08x", id, rngKey[0], rngKey[1], rngKey[2]);
    }

    /**
     * parse - the toString form back: {@code 0xID:KEY}, the id in any form {@link Long#decode} takes
     * within 32 bits (ids of domains whose low byte is 0x80 or more print as 0x80000000 and above), and
     * exactly 24 hex digits of key. Errors: IllegalArgumentException naming the text.
     */
    public static HyperDmabufId parse(String s) {
        try {
            String[] p = s.split(":", -1);
            if (p.length != 2 || !p[1].matches("[0-9a-fA-F]{24}")) {
                throw new IllegalArgumentException();
            }
            long id = Long.decode(p[0].strip());
            if (id < Integer.MIN_VALUE || id > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException();
            }
            String k = p[1];
            return new HyperDmabufId((int) id, new int[] {Integer.parseUnsignedInt(k.substring(0, 8), 16),
                Integer.parseUnsignedInt(k.substring(8, 16), 16), Integer.parseUnsignedInt(k.substring(16), 16)});
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("'" + s + "' is not a hyper_dmabuf id (0xID:24 hex digits of key)");
        }
    }
}
