package org.peerdma.hyperdmabuf.spi;

import java.util.Arrays;

/**
 * struct hyper_dmabuf_req: {u32 req_id, stat, cmd, op[64]}.
 */
public final class Message {
    public static final int MAX_NUMBER_OF_OPERANDS = 64;
    public static final int BYTES = 4 * (3 + MAX_NUMBER_OF_OPERANDS);
    // commands
    public static final int EXPORT = 0x10;
    public static final int EXPORT_FD = 0x11;
    public static final int EXPORT_FD_FAILED = 0x12;
    public static final int NOTIFY_UNEXPORT = 0x13;
    public static final int OPS_TO_REMOTE = 0x14;
    public static final int OPS_TO_SOURCE = 0x15;
    // feedback
    public static final int REQ_PROCESSED = 0x100;
    public static final int REQ_NEEDS_FOLLOW_UP = 0x101;
    public static final int REQ_ERROR = 0x102;
    public static final int REQ_NOT_RESPONDED = 0x103;
    // remote ops
    public static final int OPS_ATTACH = 0x1000;
    public static final int OPS_DETACH = 0x1001;
    public static final int OPS_MAP = 0x1002;
    public static final int OPS_UNMAP = 0x1003;
    public static final int OPS_RELEASE = 0x1004;
    public static final int OPS_BEGIN_CPU_ACCESS = 0x1005;
    public static final int OPS_END_CPU_ACCESS = 0x1006;
    public static final int OPS_KMAP_ATOMIC = 0x1007;
    public static final int OPS_KUNMAP_ATOMIC = 0x1008;
    public static final int OPS_KMAP = 0x1009;
    public static final int OPS_KUNMAP = 0x100a;
    public static final int OPS_MMAP = 0x100b;
    public static final int OPS_VMAP = 0x100c;
    public static final int OPS_VUNMAP = 0x100d;

    public int reqId;
    public int stat = REQ_NOT_RESPONDED;
    public int cmd;
    public final int[] op = new int[MAX_NUMBER_OF_OPERANDS];

    public Message(int cmd) {
        this.cmd = cmd;
    }

    /** @return whether cmd is one hyper_dmabuf_create_req knows (EXPORT..OPS_TO_SOURCE). */
    public static boolean validCmd(int cmd) {
        return cmd >= EXPORT && cmd <= OPS_TO_SOURCE;
    }

    public Message copy() {
        Message m = new Message(cmd);
        m.reqId = reqId;
        m.stat = stat;
        System.arraycopy(op, 0, m.op, 0, op.length);
        return m;
    }

    @Override
    public String toString() {
        return String.format("req %d cmd %#x stat %#x op %s", reqId, cmd, stat, Arrays.toString(Arrays.copyOf(op, 10)));
    }
}
