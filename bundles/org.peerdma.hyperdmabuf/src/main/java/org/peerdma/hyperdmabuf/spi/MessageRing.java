package org.peerdma.hyperdmabuf.spi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The request ring a backend puts in memory both sides see (a granted page, or a mailbox in a
 * shared region): {@code int req_prod} at 0, {@code int rsp_prod} at 4, then {@value #SLOTS} slots of
 * {@link Message#BYTES} (req_id, stat, cmd, op[64], little-endian). The sender posts requests; the
 * receiver parses them in order, writes each answer's stat in its slot and advances rsp_prod.
 */
public final class MessageRing {
    public static final int SLOTS = 8;
    public static final int HEADER = 16;
    /** Bytes a ring needs. */
    public static final int BYTES = HEADER + SLOTS * Message.BYTES;

    private final ByteBuffer ring;

    public MessageRing(ByteBuffer memory) {
        if (memory.capacity() < BYTES) {
            throw new IllegalArgumentException("a message ring needs " + BYTES + " bytes, got " + memory.capacity());
        }
        this.ring = memory.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    static int slot(int i) {
        return HEADER + Math.floorMod(i, SLOTS) * Message.BYTES;
    }

    /** post - the sender's side: the slot index used, or -1 when all slots wait for answers. */
    public int post(Message m) {
        int prod = ring.getInt(0);
        if (prod - ring.getInt(4) >= SLOTS) {
            return -1;
        }
        int at = slot(prod);
        ring.putInt(at, m.reqId);
        ring.putInt(at + 4, m.stat);
        ring.putInt(at + 8, m.cmd);
        for (int i = 0; i < Message.MAX_NUMBER_OF_OPERANDS; i++) {
            ring.putInt(at + 12 + 4 * i, m.op[i]);
        }
        ring.putInt(0, prod + 1);
        return prod;
    }

    /** @return whether the request posted at {@code idx} has its answer. */
    public boolean answered(int idx) {
        return ring.getInt(4) - (idx + 1) >= 0;
    }

    /** @return the answer (stat) written into slot {@code idx}. */
    public int stat(int idx) {
        return ring.getInt(slot(idx) + 4);
    }

    /** @return the sender's next index (where a receiver that starts now begins). */
    public int produced() {
        return ring.getInt(0);
    }

    /**
     * Test seam: runs right after each read of req_prod by the receiver, where the other side may
     * write it (a peer's store between two reads). Null outside tests.
     */
    Runnable afterReqProdRead;

    /** The receiver's one read of req_prod (the other side writes it at any time). */
    private int reqProd() {
        int prod = ring.getInt(0);
        Runnable hook = afterReqProdRead;
        if (hook != null) {
            hook.run();
        }
        return prod;
    }

    /** @return whether {@code prod} is more than {@value #SLOTS} requests ahead of {@code cons}, or behind it. */
    static boolean bogus(int cons, int prod) {
        int pending = prod - cons; // wraps like the ring's free-running indices
        return pending < 0 || pending > SLOTS;
    }

    /** The receiver's parser. */
    @FunctionalInterface
    public interface Parser {
        void parse(Message m);
    }

    /**
     * consume - the receiver's side: parse every request from {@code cons} up to req_prod, answer
     * each in place. The other side writes req_prod: one more than {@value #SLOTS} requests ahead of
     * {@code cons} (or behind it) is a bogus ring, and nothing is parsed, as Xen backends halt on
     * RING_REQUEST_PROD_OVERFLOW (blkback: "Frontend provided bogus ring requests"); without the check
     * a req_prod just behind cons would have the receiver parse 2^32 - 1 stale slots. req_prod is read
     * once, and that value is both checked and parsed up to (blkback reads it once into rp, checks rp
     * and loops to rp): a second read could see a sane value the peer wrote after a bogus first one.
     * Where the model departs: hyper_dmabuf's own back_ring_isr checks only RING_REQUEST_CONS_OVERFLOW
     * (a full ring), not a bogus producer; this halt is the blkback check, kept here so a bad peer
     * cannot hang the receiver (docs/hyperdmabuf.md, "Where the model departs from the driver").
     * Return: the new consumer index (equal to cons when there was nothing, or the ring is bogus).
     */
    public int consume(int cons, Parser p) {
        int prod = reqProd();
        if (bogus(cons, prod)) {
            return cons;
        }
        while (cons != prod) {
            int at = slot(cons);
            Message m = new Message(ring.getInt(at + 8));
            m.reqId = ring.getInt(at);
            m.stat = ring.getInt(at + 4);
            for (int i = 0; i < Message.MAX_NUMBER_OF_OPERANDS; i++) {
                m.op[i] = ring.getInt(at + 12 + 4 * i);
            }
            p.parse(m);
            ring.putInt(at + 4, m.stat);
            cons++;
            ring.putInt(4, cons);
        }
        return cons;
    }
}
