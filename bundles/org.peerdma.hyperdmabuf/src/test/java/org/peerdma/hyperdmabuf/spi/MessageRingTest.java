package org.peerdma.hyperdmabuf.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The request ring both backends put in shared memory: order, answers, a full ring, index wrap and a bogus peer. */
class MessageRingTest {
    private final ByteBuffer page = ByteBuffer.allocate(4096);
    private final MessageRing sender = new MessageRing(page);
    private final MessageRing receiver = new MessageRing(page.duplicate());

    private static Message req(int id, int cmd) {
        Message m = new Message(cmd);
        m.reqId = id;
        for (int i = 0; i < Message.MAX_NUMBER_OF_OPERANDS; i++) {
            m.op[i] = id * 1000 + i;
        }
        return m;
    }

    @Test
    void requestsArriveInOrderWithEveryOperandAndTheirAnswersComeBack() {
        assertThat(MessageRing.BYTES).isLessThanOrEqualTo(4096);
        int i0 = sender.post(req(1, Message.EXPORT));
        int i1 = sender.post(req(2, Message.NOTIFY_UNEXPORT));
        assertThat(sender.answered(i0)).isFalse();
        List<Message> seen = new ArrayList<>();
        int cons = receiver.consume(0, m -> {
            seen.add(m.copy());
            m.stat = m.cmd == Message.EXPORT ? Message.REQ_PROCESSED : Message.REQ_ERROR;
        });
        assertThat(cons).isEqualTo(2);
        assertThat(seen).extracting(m -> m.reqId).containsExactly(1, 2);
        assertThat(seen.get(1).cmd).isEqualTo(Message.NOTIFY_UNEXPORT);
        assertThat(seen.get(1).stat).as("posted as it was: not responded").isEqualTo(Message.REQ_NOT_RESPONDED);
        assertThat(seen.get(1).op).containsExactly(req(2, 0).op);
        assertThat(sender.answered(i0)).isTrue();
        assertThat(sender.answered(i1)).isTrue();
        assertThat(sender.stat(i0)).isEqualTo(Message.REQ_PROCESSED);
        assertThat(sender.stat(i1)).isEqualTo(Message.REQ_ERROR);
        assertThat(receiver.consume(cons, m -> {
            throw new AssertionError("nothing new");
        })).isEqualTo(cons);
    }

    @Test
    void aFullRingRefusesUntilTheReceiverAnswers() {
        for (int i = 0; i < MessageRing.SLOTS; i++) {
            assertThat(sender.post(req(i, Message.EXPORT))).isEqualTo(i);
        }
        assertThat(sender.post(req(99, Message.EXPORT))).as("every slot waits for its answer").isEqualTo(-1);
        assertThat(receiver.consume(0, m -> m.stat = Message.REQ_PROCESSED)).isEqualTo(MessageRing.SLOTS);
        assertThat(sender.post(req(99, Message.EXPORT))).isEqualTo(MessageRing.SLOTS);
    }

    @Test
    void freeRunningIndicesWrapAroundTwoToTheThirtyTwo() {
        ByteBuffer hdr = page.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int start = Integer.MAX_VALUE - 2;
        hdr.putInt(0, start);
        hdr.putInt(4, start);
        List<Integer> ids = new ArrayList<>();
        int cons = start;
        for (int round = 0; round < 3; round++) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < MessageRing.SLOTS; i++) {
                idx.add(sender.post(req(round * 10 + i, Message.EXPORT_FD)));
            }
            assertThat(sender.post(req(-1, Message.EXPORT_FD))).isEqualTo(-1);
            cons = receiver.consume(cons, m -> {
                ids.add(m.reqId);
                m.stat = Message.REQ_PROCESSED + m.reqId;
            });
            for (int i = 0; i < idx.size(); i++) {
                assertThat(sender.answered(idx.get(i))).isTrue();
                assertThat(sender.stat(idx.get(i))).isEqualTo(Message.REQ_PROCESSED + round * 10 + i);
            }
        }
        assertThat(cons).as("wrapped past Integer.MAX_VALUE").isEqualTo(start + 3 * MessageRing.SLOTS);
        assertThat(ids).hasSize(24).startsWith(0, 1, 2).endsWith(26, 27);
    }

    @Test
    void aBogusProducerIndexFromTheOtherSideIsNotParsed() {
        ByteBuffer hdr = page.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        sender.post(req(1, Message.EXPORT));
        receiver.consume(0, m -> m.stat = Message.REQ_PROCESSED);
        int[] parsed = {0};
        for (int bogus : new int[] {0, -5, 1 + MessageRing.SLOTS + 1, Integer.MIN_VALUE}) {
            hdr.putInt(0, bogus); // req_prod behind cons, or more than a ring ahead
            assertThat(MessageRing.bogus(1, bogus)).as("req_prod %d", bogus).isTrue();
            // without the check a req_prod just behind cons has the receiver parse 2^32 - 1 stale slots
            int cons = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> receiver.consume(1, m -> parsed[0]++));
            assertThat(cons).isEqualTo(1);
        }
        assertThat(parsed[0]).isZero();
        hdr.putInt(0, 1 + MessageRing.SLOTS);
        assertThat(MessageRing.bogus(1, 1 + MessageRing.SLOTS)).as("exactly a ring ahead is fine").isFalse();
        assertThat(receiver.consume(1, m -> parsed[0]++)).isEqualTo(1 + MessageRing.SLOTS);
        assertThat(parsed[0]).isEqualTo(MessageRing.SLOTS);
    }

    @Test
    void theProducerIndexIsReadOnceSoAPeerCannotSwapASaneValueInAfterABogusOne() {
        ByteBuffer hdr = page.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        sender.post(req(1, Message.EXPORT));
        assertThat(receiver.consume(0, m -> m.stat = Message.REQ_PROCESSED)).isEqualTo(1);
        // the peer writes req_prod just behind cons (bogus), and right after the receiver read it, a sane one
        hdr.putInt(0, 0);
        int[] reads = {0};
        receiver.afterReqProdRead = () -> {
            reads[0]++;
            hdr.putInt(0, 2);
        };
        int[] parsed = {0};
        int cons = receiver.consume(1, m -> {
            if (++parsed[0] > MessageRing.SLOTS) {
                // checked on the second value, parsed up to the first: 2^32 - 1 stale slots
                throw new AssertionError("parsing past a ring's worth of slots");
            }
        });
        assertThat(reads[0]).as("req_prod read once").isEqualTo(1);
        assertThat(cons).as("the value read was bogus: nothing parsed").isEqualTo(1);
        assertThat(parsed[0]).isZero();
        // the other way round: a sane value read, a bogus one written after it, and only the read one counts
        receiver.afterReqProdRead = () -> hdr.putInt(0, Integer.MIN_VALUE);
        hdr.putInt(0, 2);
        assertThat(receiver.consume(1, m -> parsed[0]++)).isEqualTo(2);
        assertThat(parsed[0]).isEqualTo(1);
        receiver.afterReqProdRead = null;
    }

    @Test
    void aRingNeedsRoomForItsSlotsAndMessagesCopyDeeply() {
        assertThatThrownBy(() -> new MessageRing(ByteBuffer.allocate(MessageRing.BYTES - 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(String.valueOf(MessageRing.BYTES));
        Message m = req(3, Message.OPS_TO_SOURCE);
        Message c = m.copy();
        c.op[0] = -1;
        assertThat(m.op[0]).isEqualTo(3000);
        assertThat(c.reqId).isEqualTo(3);
        assertThat(new Message(Message.EXPORT).stat).isEqualTo(Message.REQ_NOT_RESPONDED);
        assertThat(Message.validCmd(Message.EXPORT)).isTrue();
        assertThat(Message.validCmd(Message.OPS_TO_SOURCE)).isTrue();
        assertThat(Message.validCmd(Message.EXPORT - 1)).isFalse();
        assertThat(Message.validCmd(Message.OPS_TO_SOURCE + 1)).isFalse();
        assertThat(Message.BYTES).isEqualTo(4 * 67);
        assertThat(m.toString()).startsWith("req 3 cmd 0x15 stat 0x103");
    }
}
