package org.peerdma.hyperdmabuf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** hyper_dmabuf_id_t (HD-1): layout, key comparison, and the text form the shell takes back. */
class HyperDmabufIdTest {
    @Property
    void theTextFormParsesBackToTheSameId(@ForAll int id, @ForAll int k0, @ForAll int k1, @ForAll int k2) {
        HyperDmabufId hid = new HyperDmabufId(id, new int[] {k0, k1, k2});
        assertThat(HyperDmabufId.parse(hid.toString())).isEqualTo(hid);
    }

    @Property
    void theExporterIsTheLowByteOfTheDomidAboveTheCount(@ForAll @IntRange(min = 0, max = 0x7fef) int domid,
            @ForAll @IntRange(min = 0, max = 999) int count) {
        HyperDmabufId hid = new HyperDmabufId(((domid & 0xFF) << 24) | (count & 0xFFFFFF), new int[3]);
        assertThat(hid.exporterDomid()).isEqualTo(domid & 0xFF);
        assertThat(hid.count()).isEqualTo(count);
    }

    @Test
    void idsOfDomainsFrom128UpRoundTrip() {
        HyperDmabufId hid = new HyperDmabufId((200 << 24) | 7, new int[] {-1, 0, 0x12345678});
        assertThat(hid.toString()).isEqualTo("0xc8000007:ffffffff0000000012345678");
        assertThat(HyperDmabufId.parse("0xc8000007:ffffffff0000000012345678")).isEqualTo(hid);
        assertThat(hid.exporterDomid()).isEqualTo(200);
        assertThat(HyperDmabufId.parse(HyperDmabufId.INVALID.toString())).isEqualTo(HyperDmabufId.INVALID);
        assertThat(HyperDmabufId.parse("16777216:000000000000000000000001").id()).as("decimal ids too").isEqualTo(1 << 24);
    }

    @Test
    void theKeyDecidesWhetherTwoIdsAreTheSameBuffer() {
        HyperDmabufId a = new HyperDmabufId(1 << 24, new int[] {1, 2, 3});
        assertThat(a).isEqualTo(new HyperDmabufId(1 << 24, new int[] {1, 2, 3}));
        assertThat(a.hashCode()).isEqualTo(new HyperDmabufId(1 << 24, new int[] {1, 2, 3}).hashCode());
        assertThat(a).isNotEqualTo(new HyperDmabufId(1 << 24, new int[] {1, 2, 4}));
        assertThat(a).isNotEqualTo(new HyperDmabufId((1 << 24) | 1, new int[] {1, 2, 3}));
        int[] key = {9, 9, 9};
        HyperDmabufId b = new HyperDmabufId(5, key);
        key[0] = 0;
        b.rngKey()[1] = 0;
        assertThat(b.rngKey()).as("the key cannot be changed from outside").containsExactly(9, 9, 9);
        assertThat(HyperDmabufId.INVALID.id()).isEqualTo(-1);
        assertThat(HyperDmabufId.INVALID.rngKey()).containsExactly(0, 0, 0);
        assertThatThrownBy(() -> new HyperDmabufId(1, new int[2])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void textThatIsNotAnIdIsRefusedNamingIt() {
        for (String bad : new String[] {"", "0x1", "0x1:", ":000000000000000000000000", "zz:000000000000000000000000",
            "0x1:00000000000000000000000", "0x1:0000000000000000000000000", "0x1:00000000000000000000000g",
            "0x1:+0000000000000000000000", "0x1:000000000000000000000000:junk", "0x100000000:000000000000000000000000",
            "-0x80000001:000000000000000000000000", "1e3:000000000000000000000000"}) {
            assertThatThrownBy(() -> HyperDmabufId.parse(bad)).as("'%s'", bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("'" + bad + "' is not a hyper_dmabuf id (0xID:24 hex digits of key)");
        }
        assertThatThrownBy(() -> HyperDmabufId.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
